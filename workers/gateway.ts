/**
 * The edge gateway Worker. The config is loaded once per isolate, at module load, from the
 * bundled workers/gateway.config.json plus the Worker's vars and secrets: an invalid config
 * fails `wrangler dev` and `wrangler deploy` at startup with a message naming the field.
 */
import { env } from 'cloudflare:workers';
import { createApp } from '../src/app.ts';
import { loadConfig } from '../src/config/index.ts';
import rawConfig from './gateway.config.json';

const app = createApp({ config: loadConfig(rawConfig, env as unknown as Record<string, unknown>) });

export default {
  fetch: (request, env, ctx) => app.fetch(request, env, ctx),
} satisfies ExportedHandler;
