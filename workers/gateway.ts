/**
 * The edge gateway Worker. The config is loaded once per isolate, at module load, from the
 * bundled workers/gateway.config.json plus the Worker's vars and secrets: an invalid config
 * fails `wrangler dev` and `wrangler deploy` at startup with a message naming the field.
 * `scheduled` (the cron in wrangler.toml) probes providers and regional origins.
 */
import { env } from 'cloudflare:workers';
import { createGateway } from '../src/app.ts';
import { loadConfig } from '../src/config/index.ts';
import rawConfig from './gateway.config.json';

const gateway = createGateway({
  config: loadConfig(rawConfig, env as unknown as Record<string, unknown>),
});

export default {
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
} satisfies ExportedHandler;
