/**
 * Usage events: one per request under /v1 when it ends, built from its finished log record
 * (`usageEventFrom`, pure), batched per isolate and handed to a Cloudflare Queue
 * (`EventBatcher`, in `waitUntil`); `workers/usage-consumer.ts` writes them to PostgreSQL
 * (src/usage-store). Contract: `emitUsageEvent(c, record)` never throws and never delays
 * the response.
 */
import type { Context } from 'hono';
import { type AppEnv, waitUntil } from '../context.ts';
import type { RequestLogRecord } from '../observability/request-log.ts';
import { producesEvent, usageEventFrom } from './event.ts';

export { chunks, EventBatcher, type EventBatcherOptions, type EventQueue } from './batcher.ts';
export { producesEvent, type RouteSummary, type UsageEvent, usageEventFrom } from './event.ts';

export function emitUsageEvent(c: Context<AppEnv>, record: RequestLogRecord): void {
  const events = c.var.deps.events;
  if (!events || !producesEvent(record.path)) return;
  try {
    waitUntil(c, events.add(usageEventFrom(record, c.var.startedAt, crypto.randomUUID())));
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
