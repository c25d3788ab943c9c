import type { RequestPayload } from '../capture/payload.ts';
import type { GuardrailDecision } from '../guardrails/scan.ts';
import type { RequestLogRecord } from '../observability/request-log.ts';

/**
 * The usage event of one request, built from its finished log record (the one place every
 * ending passes through: JSON, stream end or cut, cache hit, refusals, upstream failures).
 * Pure. It holds no prompt or answer text, no headers and no key material: only what the
 * log line already holds, in a flat, stable shape for the usage store. The one exception is
 * `payload`, set (by `emitUsageEvent`) only for a tenant that captures payloads.
 */
export interface UsageEvent {
  /** Made by the gateway, once per request: the idempotency key of the store. */
  id: string;
  /** `x-request-id` as the client saw it (the client may choose it: not unique). */
  request_id: string;
  /** When the request arrived, ISO 8601. */
  at: string;
  method: string;
  endpoint: string;
  key_id: string | null;
  tenant: string | null;
  /** The public model name asked for. */
  model: string | null;
  provider: string | null;
  upstream_model: string | null;
  region: string | null;
  zone: string | null;
  status: number;
  error_code: string | null;
  stream: boolean;
  stream_end: string | null;
  input_tokens: number;
  output_tokens: number;
  cached_tokens: number;
  cache_write_tokens: number;
  reasoning_tokens: number;
  /** `upstream` or `estimated`; null when no tokens were counted (refused before). */
  usage_source: string | null;
  cost_nanos: number;
  latency_ms: number;
  ttfb_ms: number | null;
  attempts: number;
  cache: string | null;
  cache_tier: string | null;
  /** The routing decision's summary, and other facts of the line (failures, limits). */
  route: RouteSummary | null;
  failures: string[];
  limits: string | null;
  native: string | null;
  /** The captured prompt and answer (src/capture), redacted; absent unless the tenant's
   * `payloadCapture` is on and a queue of the request's zone takes the event. */
  payload?: RequestPayload;
  /** The prompt template rendered into the request, and its version. */
  template_id: string | null;
  template_version: number | null;
  /** Guardrail decisions (policy, check, action, side, match count; never the text). */
  guardrails: GuardrailDecision[];
}

export interface RouteSummary {
  zone: string;
  home?: string | undefined;
  home_reason?: string | undefined;
  regions: string[];
  dropped_by_residency: string[];
  demoted_by_health: string[];
}

export function usageEventFrom(
  record: RequestLogRecord,
  startedAt: number,
  id: string,
): UsageEvent {
  const usage = record.usage;
  const route = record.route;
  return {
    id,
    request_id: record.request_id,
    at: new Date(startedAt).toISOString(),
    method: record.method,
    endpoint: record.path,
    key_id: record.key_id ?? null,
    tenant: record.tenant ?? null,
    model: record.model ?? null,
    provider: record.provider ?? null,
    upstream_model: record.upstream_model ?? null,
    region: record.region ?? null,
    zone: route?.zone ?? null,
    status: record.status,
    error_code: record.error_code ?? null,
    stream: record.stream === true,
    stream_end: record.stream_end ?? null,
    input_tokens: usage?.prompt_tokens ?? 0,
    output_tokens: usage?.completion_tokens ?? 0,
    cached_tokens: usage?.cached_tokens ?? 0,
    cache_write_tokens: usage?.cache_write_tokens ?? 0,
    reasoning_tokens: usage?.reasoning_tokens ?? 0,
    usage_source: usage?.source ?? null,
    // The log line carries USD (cost / 1e9); nano-USD are integers well inside 2^53, so
    // rounding gives back exactly the settled figure.
    cost_nanos: Math.round((record.cost_usd ?? 0) * 1e9),
    latency_ms: record.latency_ms,
    ttfb_ms: record.ttfb_ms ?? null,
    attempts: record.attempts ?? 0,
    cache: record.cache ?? null,
    cache_tier: record.cache_tier ?? null,
    route: route
      ? {
          zone: route.zone,
          home: route.home,
          home_reason: route.home_reason,
          regions: route.regions,
          dropped_by_residency: route.dropped_by_residency,
          demoted_by_health: route.demoted_by_health,
        }
      : null,
    failures: record.failures ?? [],
    limits: record.limits ?? null,
    native: record.native ?? null,
    template_id: record.template?.id ?? null,
    template_version: record.template?.version ?? null,
    guardrails: record.guardrails ?? [],
  };
}

/** Requests that produce a usage event: the client API under /v1 (incl. /v1/messages). */
export function producesEvent(path: string): boolean {
  return path === '/v1' || path.startsWith('/v1/');
}
