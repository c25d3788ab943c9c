import type { Context } from 'hono';
import type { RequestIdVariables } from 'hono/request-id';
import type { KeyRecord } from './auth/keys.ts';
import type { KeyLookup } from './auth/lookup.ts';
import type { KeyStore } from './auth/store.ts';
import type { ResponseCache } from './cache/store.ts';
import type { PendingCapture } from './capture/index.ts';
import type { GatewayConfig } from './config/index.ts';
import type { EventBatcher } from './events/index.ts';
import type { LogGate, RequestLogger, RequestLogRecord } from './observability/index.ts';
import type { Provider } from './providers/index.ts';
import type { ClientGeo } from './routing/geo.ts';
import type { HealthBook } from './routing/index.ts';
import type { Redis } from './store/index.ts';
import type { RequestTrace, Telemetry } from './telemetry/index.ts';

/** What the app is built from; tests build apps with their own config and logger. */
export interface GatewayDeps {
  config: GatewayConfig;
  providers: Map<string, Provider>;
  log: RequestLogger;
  /** Drives load-balancing and backoff jitter; injectable for deterministic tests. */
  random: () => number;
  /** Request-path Redis client; absent when the config names no Redis (auth disabled). */
  redis: Redis | undefined;
  /** Client for settlement writes after the response (longer deadline, more retries). */
  redisBackground: Redis | undefined;
  keyStore: KeyStore | undefined;
  /** Shared target health (circuits, probe results). */
  health: HealthBook;
  cache: ResponseCache;
  keys: KeyLookup | undefined;
  /** Usage events to the queue; absent when no queue is bound or `events.enabled` is off. */
  events: EventBatcher | undefined;
  /** Usage events of requests held to a zone, by zone (`events.zoneQueues`): queues that
   * keep their messages in the zone. Empty when none is bound. */
  zoneEvents: Map<string, EventBatcher>;
  /** The usage store (PostgreSQL through Hyperdrive) the admin request log reads. */
  usageDb: UsageDb | undefined;
  /** Signs console session cookies (`ADMIN_SESSION_SECRET`); absent: a key derived from the
   * admin tokens. */
  sessionSecret: string | undefined;
  /** OpenTelemetry traces and metrics; absent when no OTLP endpoint is configured. */
  telemetry: Telemetry | undefined;
}

/** A Hyperdrive binding, or anything else with a PostgreSQL connection string. */
export interface UsageDb {
  connectionString: string;
}

/** Read on the request path with `c.get(name)`, not `c.var.name`: hono's `var` getter copies
 * every variable into a new object on each access. */
export type AppEnv = {
  Variables: RequestIdVariables & {
    deps: GatewayDeps;
    startedAt: number;
    logRecord: RequestLogRecord;
    logDeferred: boolean;
    /** Set while a response body still decides fields of the log line (holdRequestLog). */
    logGate?: LogGate;
    /** The authenticated gateway key; absent when auth is disabled. */
    apiKey?: KeyRecord;
    /** This request's prompt and answer, when its tenant captures payloads (src/capture). */
    capture?: PendingCapture;
    /** This request's trace, when telemetry is on. */
    trace?: RequestTrace;
  };
};

/**
 * What the request path's stages read of a request (src/proxy): taken from the Hono context
 * once, at the edge of the pipeline (`factsOf` in src/proxy/edge.ts), so a stage never holds
 * the context.
 */
export interface RequestFacts {
  requestId: string;
  startedAt: number;
  /** The authenticated gateway key; absent when auth is disabled. */
  key: KeyRecord | undefined;
  /** A request header. */
  header(name: string): string | undefined;
  /** `request.cf`: where the client is. */
  geo: ClientGeo;
  /** Aborts when the client goes away. */
  signal: AbortSignal;
}

/**
 * What a stage may do outside itself: the response's headers, the request's log line, work
 * after the response. In the app it is the Hono context (`edgeOf` in src/proxy/edge.ts); in
 * a test, anything that records.
 */
export interface Edge {
  /** Adds fields to the request's log line. */
  note(fields: Partial<RequestLogRecord>): void;
  /** Sets a response header (kept on error responses too). */
  header(name: string, value: string): void;
  /** Keeps `work` running after the response (ctx.waitUntil). */
  waitUntil(work: Promise<unknown>): void;
  /** Hands the log line to the end of the response body (a stream): its writer. */
  deferLog(): (fields: Partial<RequestLogRecord>) => void;
  /** Notes the answer's text when the request's payload is captured (src/capture). */
  captureAnswer(text: string | null): void;
}

/** `ctx.waitUntil` when there is an execution context (not in `app.request` tests). */
export function waitUntil(c: Context<AppEnv>, work: Promise<unknown>): void {
  const settled = work.catch(() => undefined);
  try {
    c.executionCtx.waitUntil(settled);
  } catch {
    // No ExecutionContext (unit tests): the promise still runs to completion.
  }
}
