import { Hono } from 'hono';
import type { AppEnv } from '../context.ts';

/**
 * Health: `/health/live` says the isolate runs; `/health/ready` that the config loaded and
 * every model has a usable target (a bad config never gets this far: it fails at startup).
 */
export function healthRoutes(): Hono<AppEnv> {
  const health = new Hono<AppEnv>();
  health.get('/', (c) => {
    const { config } = c.var.deps;
    return c.json({
      status: 'ok',
      models: Object.keys(config.models).length,
      providers: Object.keys(config.providers).length,
    });
  });
  health.get('/live', (c) => c.json({ status: 'ok' }));
  health.get('/ready', (c) => c.json({ status: 'ready' }));
  return health;
}
