/**
 * The gateway Worker's handlers over one raw config: loaded once per isolate, at module load,
 * with the Worker's vars and secrets substituted, so an invalid config fails `wrangler dev` and
 * `wrangler deploy` at startup with a message naming the field. `scheduled` (the cron in
 * wrangler.toml) probes providers and regional origins. Shared by the production entry
 * (gateway.ts) and the local run's (gateway.dev.ts).
 */
import { env } from 'cloudflare:workers';
import { createGateway } from '../src/app.ts';
import { loadConfig } from '../src/config/index.ts';

export function gatewayWorker(rawConfig: unknown): ExportedHandler {
  const gateway = createGateway({
    config: loadConfig(rawConfig, env as unknown as Record<string, unknown>),
  });
  return {
    fetch: (request, env, ctx) => gateway.app.fetch(request, env, ctx),
    scheduled: (_controller, _env, ctx) => {
      ctx.waitUntil(
        gateway.probe().then((results) => {
          const down = results.filter((r) => !r.ok).map((r) => r.target);
          console.log(
            JSON.stringify({ level: 'info', msg: 'health probe', checked: results.length, down }),
          );
        }),
      );
    },
  };
}
