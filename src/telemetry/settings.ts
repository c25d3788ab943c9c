import { parseKeyPairsIntoRecord } from '@opentelemetry/core';
import { z } from 'zod';
import { type GenAiVersion, genAiVersion } from './semconv.ts';

/**
 * The exporter settings, from the standard OpenTelemetry environment variables (Worker vars or
 * secrets at the edge, process env at the origin). Pure. Without an endpoint telemetry is off.
 */
export const telemetryEnvSchema = z.object({
  /** Base URL of the OTLP/HTTP collector; `/v1/traces` and `/v1/metrics` are appended.
   * Default: none (telemetry off: no spans, no metrics, no cost). */
  OTEL_EXPORTER_OTLP_ENDPOINT: z.url().optional(),
  /** Full URL for traces, used as is. Default: the endpoint + `/v1/traces`. */
  OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: z.url().optional(),
  /** Full URL for metrics, used as is. Default: the endpoint + `/v1/metrics`. */
  OTEL_EXPORTER_OTLP_METRICS_ENDPOINT: z.url().optional(),
  /** `k=v,k2=v2` (values percent-encoded) sent with every export, e.g. an auth header.
   * Default: none. */
  OTEL_EXPORTER_OTLP_HEADERS: z.string().optional(),
  /** `http/protobuf` or `http/json` (gRPC cannot be spoken from a Worker). Default
   * `http/protobuf`, as the specification says. */
  OTEL_EXPORTER_OTLP_PROTOCOL: z.enum(['http/protobuf', 'http/json']).default('http/protobuf'),
  /** Milliseconds an export may take before it is abandoned (its data counted as dropped).
   * Default 10000. */
  OTEL_EXPORTER_OTLP_TIMEOUT: z.coerce.number().int().positive().default(10_000),
  /** `service.name` of the resource. Default: the component's own (`edge-llm-gateway`,
   * `edge-llm-origin`). */
  OTEL_SERVICE_NAME: z.string().min(1).optional(),
  /** always_on, always_off, traceidratio, parentbased_always_on, parentbased_always_off,
   * parentbased_traceidratio. Default parentbased_always_on. */
  OTEL_TRACES_SAMPLER: z
    .enum([
      'always_on',
      'always_off',
      'traceidratio',
      'parentbased_always_on',
      'parentbased_always_off',
      'parentbased_traceidratio',
    ])
    .default('parentbased_always_on'),
  /** The ratio of the *traceidratio samplers, 0..1. Default 1. */
  OTEL_TRACES_SAMPLER_ARG: z.coerce.number().min(0).max(1).default(1),
  /** Milliseconds between metric exports (per isolate at the edge: checked when a request
   * ends). Default 60000. */
  OTEL_METRIC_EXPORT_INTERVAL: z.coerce.number().int().nonnegative().default(60_000),
  /** Comma-separated opt-ins to newer semantic conventions; `gen_ai_latest_experimental`
   * emits the GenAI development names (see `GEN_AI_NAMES` in ./semconv.ts). Default: the
   * stable-track names. */
  OTEL_SEMCONV_STABILITY_OPT_IN: z.string().optional(),
  /** Spans held for export at most; past that new spans are dropped and counted. Default 2048. */
  OTEL_BSP_MAX_QUEUE_SIZE: z.coerce.number().int().positive().default(2048),
  /** Milliseconds a span waits at most before its batch is sent (the first span queued in an
   * isolate starts the wait, in that request's `waitUntil`); 0 sends after every request.
   * Default 5000, as the specification says. */
  OTEL_BSP_SCHEDULE_DELAY: z.coerce.number().int().nonnegative().default(5_000),
  /** Spans per export at most; a batch this full is sent at once. Default 512. */
  OTEL_BSP_MAX_EXPORT_BATCH_SIZE: z.coerce.number().int().positive().default(512),
});

export type Sampler = z.output<typeof telemetryEnvSchema>['OTEL_TRACES_SAMPLER'];

export interface TelemetrySettings {
  tracesUrl: string;
  metricsUrl: string;
  headers: Record<string, string>;
  protocol: 'http/protobuf' | 'http/json';
  timeoutMs: number;
  serviceName: string | undefined;
  sampler: Sampler;
  samplerRatio: number;
  metricIntervalMs: number;
  maxQueueSpans: number;
  scheduleDelayMs: number;
  maxExportBatchSpans: number;
  /** Which GenAI names to emit (`OTEL_SEMCONV_STABILITY_OPT_IN`). */
  genAi: GenAiVersion;
}

/** The OTEL_* variables of `env` that this module reads and that are set (not empty): what a
 * launcher passes on (tools/dev.ts hands them to `wrangler dev` as vars). */
export function telemetryVars(env: Record<string, unknown>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const name of Object.keys(telemetryEnvSchema.shape)) {
    const value = env[name];
    if (typeof value === 'string' && value.trim() !== '') out[name] = value;
  }
  return out;
}

export class TelemetryConfigError extends Error {
  override name = 'TelemetryConfigError';
}

/** The settings in `env`, or undefined when no endpoint is configured (telemetry off). Throws
 * `TelemetryConfigError` naming each bad variable. Empty strings count as unset (a `--var`
 * or `.dev.vars` line with nothing after `=`). */
export function telemetrySettings(env: Record<string, unknown>): TelemetrySettings | undefined {
  const parsed = telemetryEnvSchema.safeParse(telemetryVars(env));
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
    throw new TelemetryConfigError(`invalid OpenTelemetry settings: ${problems.join('; ')}`);
  }
  const v = parsed.data;
  const base = v.OTEL_EXPORTER_OTLP_ENDPOINT?.replace(/\/+$/, '');
  const tracesUrl = v.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT ?? (base && `${base}/v1/traces`);
  const metricsUrl = v.OTEL_EXPORTER_OTLP_METRICS_ENDPOINT ?? (base && `${base}/v1/metrics`);
  if (!tracesUrl || !metricsUrl) return undefined;
  return {
    tracesUrl,
    metricsUrl,
    headers: v.OTEL_EXPORTER_OTLP_HEADERS
      ? parseKeyPairsIntoRecord(v.OTEL_EXPORTER_OTLP_HEADERS)
      : {},
    protocol: v.OTEL_EXPORTER_OTLP_PROTOCOL,
    timeoutMs: v.OTEL_EXPORTER_OTLP_TIMEOUT,
    serviceName: v.OTEL_SERVICE_NAME,
    sampler: v.OTEL_TRACES_SAMPLER,
    samplerRatio: v.OTEL_TRACES_SAMPLER_ARG,
    metricIntervalMs: v.OTEL_METRIC_EXPORT_INTERVAL,
    maxQueueSpans: v.OTEL_BSP_MAX_QUEUE_SIZE,
    scheduleDelayMs: v.OTEL_BSP_SCHEDULE_DELAY,
    maxExportBatchSpans: Math.min(v.OTEL_BSP_MAX_EXPORT_BATCH_SIZE, v.OTEL_BSP_MAX_QUEUE_SIZE),
    genAi: genAiVersion(v.OTEL_SEMCONV_STABILITY_OPT_IN),
  };
}
