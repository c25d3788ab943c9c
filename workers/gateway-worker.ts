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
  const config = loadConfig(rawConfig, bindings);
  const gateway = createGateway({
    config,
    // Usage events go to the queue ([[queues.producers]]), those of a zone with its own queue
    // (events.zoneQueues) to that one; the admin request log reads PostgreSQL through
    // Hyperdrive ([[hyperdrive]]).
    events: bindings.USAGE_EVENTS,
    zoneEvents: zoneQueues(config.events.zoneQueues, bindings),
    usageDb: bindings.USAGE_DB,
    // A Worker secret; unset: console sessions are signed with a key derived from the tokens.
    sessionSecret:
      typeof bindings.ADMIN_SESSION_SECRET === 'string' ? bindings.ADMIN_SESSION_SECRET : undefined,
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

/**
 * The queue bindings `events.zoneQueues` names. A missing one is said once and left out: that
 * zone's events then go to USAGE_EVENTS and their payloads nowhere (never outside the zone).
 * Not an error: a Worker with no queues at all (the plain-workerd bench) must still start.
 */
function zoneQueues(
  names: Record<string, string>,
  bindings: Record<string, unknown>,
): Record<string, EventQueue> {
  const out: Record<string, EventQueue> = {};
  for (const [zone, binding] of Object.entries(names)) {
    const queue = bindings[binding] as EventQueue | undefined;
    if (typeof queue?.sendBatch === 'function') out[zone] = queue;
    else if (bindings.USAGE_EVENTS) {
      console.warn(
        JSON.stringify({
          level: 'warn',
          msg: `events.zoneQueues.${zone}: no queue bound as ${binding}; that zone's payloads are not captured`,
        }),
      );
    }
  }
  return out;
}
