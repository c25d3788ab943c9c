/**
 * Usage events: one per request under /v1 when it ends, built from its finished log record
 * (`usageEventFrom`, pure), batched per isolate and handed to a Cloudflare Queue
 * (`EventBatcher`, in `waitUntil`); `workers/usage-consumer.ts` writes them to PostgreSQL
 * (src/usage-store). Contract: `emitUsageEvent(c, record)` never throws and never delays
 * the response.
 */
import type { Context } from 'hono';
import { takePayload } from '../capture/index.ts';
import { type AppEnv, waitUntil } from '../context.ts';
import type { RequestLogRecord } from '../observability/request-log.ts';
import { requestZone } from '../routing/index.ts';
import { producesEvent, usageEventFrom } from './event.ts';
import { eventPath } from './zone.ts';

export { chunks, EventBatcher, type EventBatcherOptions, type EventQueue } from './batcher.ts';
export { producesEvent, type RouteSummary, type UsageEvent, usageEventFrom } from './event.ts';
export { type EventPath, eventPath } from './zone.ts';

/** Captured payloads left out of their events because no queue of their zone is bound. */
let payloadsLeftOut = 0;

export function emitUsageEvent(c: Context<AppEnv>, record: RequestLogRecord): void {
  const { events, zoneEvents, config } = c.get('deps');
  if (!events || !producesEvent(record.path)) return;
  try {
    const event = usageEventFrom(record, c.get('startedAt'), crypto.randomUUID());
    const zone = requestZone(c);
    const path = eventPath(zone, zoneEvents, config.routing.forceZone);
    const payload = takePayload(c);
    if (payload && path.payload) event.payload = payload;
    else if (payload) {
      payloadsLeftOut++;
      console.warn(
        JSON.stringify({
          level: 'warn',
          msg: 'payload not captured: no queue in its zone',
          request_id: record.request_id,
          zone,
          left_out_total: payloadsLeftOut,
        }),
      );
    }
    const queue = path.queueZone === null ? events : zoneEvents.get(path.queueZone)!;
    waitUntil(c, queue.add(event));
  } catch (err) {
    console.error(
      JSON.stringify({
        level: 'error',
        msg: 'usage event dropped: could not be built',
        request_id: record.request_id,
        error: err instanceof Error ? err.name : 'unknown',
      }),
    );
  }
}
