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
import type { EventQueue } from '../src/events/index.ts';
import { telemetrySettings } from '../src/telemetry/index.ts';

export function gatewayWorker(rawConfig: unknown): ExportedHandler {
  const bindings = env as unknown as Record<string, unknown> & {
    USAGE_EVENTS?: EventQueue;
    USAGE_DB?: Hyperdrive;
  };
  const gateway = createGateway({
    config: loadConfig(rawConfig, bindings),
    // Usage events go to the queue ([[queues.producers]]); the admin request log reads
    // PostgreSQL through Hyperdrive ([[hyperdrive]]).
    events: bindings.USAGE_EVENTS,
    usageDb: bindings.USAGE_DB,
    // OTEL_EXPORTER_OTLP_ENDPOINT and the other standard variables (vars or secrets).
    telemetry: telemetrySettings(bindings),
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
