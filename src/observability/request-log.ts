import type { Context, MiddlewareHandler } from 'hono';
import type { AppEnv } from '../context.ts';
import { emitUsageEvent } from '../events/index.ts';
import type { GuardrailDecision } from '../guardrails/scan.ts';
import { endRequestTrace } from '../telemetry/index.ts';
import type { Usage } from '../usage/index.ts';
import { clip } from './redact.ts';

/**
 * One structured JSON line per request, written when the request is over: by the
 * `requestLog` middleware for ordinary responses, by the stream relay when a stream ends, is
 * cut, or the client leaves. Never holds headers, bodies or keys.
 */
export interface RequestLogRecord {
  request_id: string;
  method: string;
  path: string;
  status: number;
  latency_ms: number;
  /** Time until the first response byte was ready for the client. */
  ttfb_ms?: number;
  model?: string;
  provider?: string;
  upstream_model?: string;
  attempts?: number;
  stream?: boolean;
  usage?: Usage;
  error_code?: string | null;
  /** How a stream ended: done, client_abort, upstream_error, idle_timeout. */
  stream_end?: string;
  /** One line per failed upstream attempt (retries, fallbacks). */
  failures?: string[];
  key_id?: string;
  tenant?: string;
  /** Cost in USD of the tokens used, at the configured prices. */
  cost_usd?: number;
  /** The routing decision and why (home region, zone, what residency and health removed). */
  route?: {
    zone: string;
    home?: string;
    home_reason?: string;
    country?: string;
    regions: string[];
    dropped_by_residency: string[];
    demoted_by_health: string[];
    region_header_ignored?: string;
  };
  /** HIT, MISS or BYPASS, and the tier that hit. */
  /** A request in another format (`/v1/messages`): sent as is, or translated for the target. */
  native?: 'pass-through' | 'translated';
  /** A realtime WebSocket session (src/realtime). */
  realtime?: boolean;
  cache?: 'HIT' | 'MISS' | 'BYPASS';
  cache_tier?: string;
  /** On a MISS that was answered in full: whether the answer was written to the cache
   * (`stored`) or was too large for `cache.maxEntryBytes`. Absent: nothing to store (an error,
   * a cut stream). */
  cache_write?: 'stored' | 'too_large';
  /** The region that served: the target's region, or `global`. */
  region?: string;
  /** The prompt template the request named, and the version rendered (src/templates). */
  template?: { id: string; version: number };
  /** Set when Redis could not be asked and the limits failed open or closed, or when Redis
   * answered a limit check with an error. */
  limits?: 'failed_open' | 'failed_closed' | 'error';
  /** With telemetry on: spans and metric exports this isolate has dropped so far (queue full,
   * collector down or slow). */
  telemetry_dropped?: number;
  /** Guardrail decisions (src/guardrails): policy, check, action, side and match count;
   * never the matched text. */
  guardrails?: GuardrailDecision[];
}

export type RequestLogger = (record: RequestLogRecord) => void;

export const consoleRequestLogger: RequestLogger = (record) => {
  console.log(JSON.stringify({ level: 'info', msg: 'request', ...record }));
};

/** Starts the request's log record, and writes it after the response unless a stream
 * deferred it (see `deferRequestLog`). */
export function requestLog(): MiddlewareHandler<AppEnv> {
  return async function requestLog(c, next) {
    c.set('logRecord', {
      request_id: c.get('requestId'),
      method: c.req.method,
      path: c.req.path,
      status: 0,
      latency_ms: 0,
    });
    await next();
    if (!c.get('logDeferred')) writeRequestLog(c, { status: c.res.status });
  };
}

/** Adds fields to this request's log line. */
export function annotateRequestLog(c: Context<AppEnv>, fields: Partial<RequestLogRecord>): void {
  Object.assign(c.get('logRecord'), fields);
}

/** Hands the log line to whoever finishes the response body (the stream relay). */
export function deferRequestLog(c: Context<AppEnv>): (fields: Partial<RequestLogRecord>) => void {
  c.set('logDeferred', true);
  return (fields) => writeRequestLog(c, fields);
}

/** Log lines kept back while a response body still decides some of their fields. */
export interface LogGate {
  holds: number;
  /** The line as its writer finished it, while held. */
  pending?: Partial<RequestLogRecord> | undefined;
  /** Fields the holders decided, over the writer's. */
  overrides: Partial<RequestLogRecord>;
}

/**
 * Keeps the request's log line (and usage event) back until the returned `release` is
 * called, with the fields it decided (which win over the writer's): for a body that is still
 * being rewritten after the relay ended (guardrails on a stream).
 */
export function holdRequestLog(c: Context<AppEnv>): (fields: Partial<RequestLogRecord>) => void {
  const held = c.get('logGate') ?? { holds: 0, overrides: {} };
  c.set('logGate', held);
  held.holds++;
  let released = false;
  return (fields) => {
    if (released) return;
    released = true;
    held.holds--;
    Object.assign(held.overrides, fields);
    if (held.holds === 0 && held.pending) {
      const pending = held.pending;
      held.pending = undefined;
      writeRequestLog(c, pending);
    }
  };
}

function writeRequestLog(c: Context<AppEnv>, fields: Partial<RequestLogRecord>): void {
  const gate = c.get('logGate');
  if (gate && gate.holds > 0) {
    gate.pending = fields;
    return;
  }
  if (gate) fields = { ...fields, ...gate.overrides };
  const record = { ...c.get('logRecord'), ...fields, latency_ms: Date.now() - c.get('startedAt') };
  endRequestTrace(c, record);
  const telemetry = c.get('deps').telemetry;
  if (telemetry) record.telemetry_dropped = telemetry.sender.dropped;
  const clipped = clipStrings(record) as RequestLogRecord;
  c.get('deps').log(clipped);
  // Every ending passes here once: the request's usage event is built from the same record.
  emitUsageEvent(c, clipped);
}

/** Every string in the record cut to a sane length: several fields carry client values (the
 * path, the model name, an ignored region header), and a log line must stay a log line. */
function clipStrings(value: unknown): unknown {
  if (typeof value === 'string') return clip(value);
  if (Array.isArray(value)) return value.map(clipStrings);
  if (value && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, clipStrings(v)]));
  }
  return value;
}
