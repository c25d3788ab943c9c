import { Hono } from 'hono';
import type { AppEnv } from '../context.ts';
import { modelsWithoutTarget } from '../routing/readiness.ts';

/**
 * Health: `/health/live` says the isolate runs; `/health/ready` that every model has at least
 * one target not known to be down (open circuit or failed cron probe, shared in Redis), else
 * 503 naming the models that have none. A bad config never gets this far: it fails at startup.
 */
export function healthRoutes(): Hono<AppEnv> {
  const health = new Hono<AppEnv>();
  health.get('/', (c) => {
    const { config } = c.get('deps');
    return c.json({
      status: 'ok',
      models: Object.keys(config.models).length,
      providers: Object.keys(config.providers).length,
    });
  });
  health.get('/live', (c) => c.json({ status: 'ok' }));
  health.get('/ready', async function ready(c) {
    const { config, health: book } = c.get('deps');
    const down = await book.unhealthy(Object.keys(config.providers));
    const models = modelsWithoutTarget(config.models, down);
    if (models.length === 0) return c.json({ status: 'ready' });
    return c.json({ status: 'not_ready', models_without_target: models, down: [...down] }, 503);
  });
  return health;
}
