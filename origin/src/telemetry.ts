/**
 * OpenTelemetry for the origin, with the SDK for Node: spans continuing the edge's trace (a
 * SERVER span per request, `queue` and `pick` spans with the scheduler's inputs, a CLIENT span
 * per forward that hands its `traceparent` to the endpoint) and the same metric names as the
 * edge (../../src/telemetry/semconv.ts), exported over OTLP/HTTP (http/protobuf or http/json)
 * to `OTEL_EXPORTER_OTLP_ENDPOINT`, beside the Prometheus /metrics that stays. Off without an
 * endpoint. Parent contexts are passed explicitly (no global context manager).
 */
import {
  type Attributes,
  type Context,
  type Counter,
  ROOT_CONTEXT,
  type Span,
  SpanKind,
  SpanStatusCode,
  type Tracer,
  trace,
} from '@opentelemetry/api';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { OTLPMetricExporter as JsonMetricExporter } from '@opentelemetry/exporter-metrics-otlp-http';
import { OTLPMetricExporter as ProtoMetricExporter } from '@opentelemetry/exporter-metrics-otlp-proto';
import { OTLPTraceExporter as JsonTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { OTLPTraceExporter as ProtoTraceExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { MeterProvider, PeriodicExportingMetricReader } from '@opentelemetry/sdk-metrics';
import { BatchSpanProcessor, TracerProvider } from '@opentelemetry/sdk-trace';
import { GenAiClientMetrics } from '../../src/telemetry/genai-metrics.ts';
import { samplerFor } from '../../src/telemetry/sampler.ts';
import {
  EVENTS,
  GATEWAY,
  GEN_AI,
  GEN_AI_NAMES,
  GENERAL,
  type GenAiNames,
  METRICS,
  operationName,
} from '../../src/telemetry/semconv.ts';
import { type TelemetrySettings, telemetrySettings } from '../../src/telemetry/settings.ts';
import type { LoadEstimate } from './policy/load.ts';

const propagator = new W3CTraceContextPropagator();

export interface OriginTelemetry {
  tracer: Tracer;
  /** The GenAI client metrics, under the names `OTEL_SEMCONV_STABILITY_OPT_IN` chose. */
  genAi: GenAiClientMetrics;
  names: GenAiNames;
  requests: Counter;
  shutdown(): Promise<void>;
}

/** The origin's telemetry from the standard variables in `env`, or undefined (off). */
export function startOriginTelemetry(
  env: Record<string, string | undefined>,
): OriginTelemetry | undefined {
  const settings = telemetrySettings(env);
  return settings ? originTelemetry(settings) : undefined;
}

export function originTelemetry(settings: TelemetrySettings): OriginTelemetry {
  const json = settings.protocol === 'http/json';
  const common = { headers: settings.headers, timeoutMillis: settings.timeoutMs };
  const resource = resourceFromAttributes({
    [GENERAL.serviceName]: settings.serviceName ?? 'edge-llm-origin',
  });
  const traceOptions = { ...common, url: settings.tracesUrl };
  const spans = new TracerProvider({
    resource,
    sampler: samplerFor(settings),
    spanProcessors: [
      new BatchSpanProcessor({
        exporter: json ? new JsonTraceExporter(traceOptions) : new ProtoTraceExporter(traceOptions),
        maxQueueSize: settings.maxQueueSpans,
        maxExportBatchSize: settings.maxExportBatchSpans,
        scheduledDelayMillis: settings.scheduleDelayMs,
      }),
    ],
  });
  const metricOptions = { ...common, url: settings.metricsUrl };
  const meters = new MeterProvider({
    resource,
    readers: [
      new PeriodicExportingMetricReader({
        exporter: json
          ? new JsonMetricExporter(metricOptions)
          : new ProtoMetricExporter(metricOptions),
        exportIntervalMillis: Math.max(100, settings.metricIntervalMs),
      }),
    ],
  });
  const meter = meters.getMeter('edge-llm-origin');
  const names = GEN_AI_NAMES[settings.genAi];
  return {
    tracer: spans.getTracer('edge-llm-origin'),
    genAi: new GenAiClientMetrics(meter, names),
    names,
    requests: meter.createCounter(METRICS.requests, { unit: '{request}' }),
    async shutdown() {
      await Promise.allSettled([spans.shutdown(), meters.shutdown()]);
    },
  };
}

const getter = {
  get: (carrier: Headers, key: string) => carrier.get(key) ?? undefined,
  keys: () => ['traceparent', 'tracestate'],
};

/** One origin request's spans. Every method is safe to call more than once. */
export class OriginTrace {
  readonly #telemetry: OriginTelemetry;
  readonly #server: Span;
  readonly #context: Context;
  readonly #arrivedAt = Date.now();
  readonly #base: Attributes;
  #ended = false;

  constructor(
    telemetry: OriginTelemetry,
    headers: Headers,
    request: { path: string; model: string; pool: string; api: string },
  ) {
    this.#telemetry = telemetry;
    const parent = propagator.extract(ROOT_CONTEXT, headers, getter);
    this.#base = {
      [GEN_AI.operationName]: operationName(request.api),
      [GEN_AI.providerName]: 'origin',
      [GEN_AI.requestModel]: request.model,
      [GATEWAY.pool]: request.pool,
    };
    this.#server = telemetry.tracer.startSpan(
      `POST ${request.path}`,
      {
        kind: SpanKind.SERVER,
        startTime: this.#arrivedAt,
        attributes: { [GENERAL.httpMethod]: 'POST', [GENERAL.urlPath]: request.path },
      },
      parent,
    );
    this.#context = trace.setSpan(parent, this.#server);
  }

  /** The wait for an endpoint and the pick, as two spans (timed after the fact). */
  leased(lease: {
    queuedMs: number;
    endpoint: { id: string };
    pick: { policy: string; candidates: number; estimate: LoadEstimate; prefixHashes: number };
    priority: string;
  }): void {
    const queuedUntil = this.#arrivedAt + lease.queuedMs;
    this.#telemetry.tracer
      .startSpan(
        'queue',
        {
          startTime: this.#arrivedAt,
          attributes: {
            [GATEWAY.queueWaitMs]: lease.queuedMs,
            [GATEWAY.priority]: lease.priority,
            [GATEWAY.pool]: this.#base[GATEWAY.pool],
          },
        },
        this.#context,
      )
      .end(queuedUntil);
    const { estimate, ...pick } = lease.pick;
    const attrs: Attributes = {
      [GATEWAY.pool]: this.#base[GATEWAY.pool],
      [GATEWAY.policy]: pick.policy,
      [GATEWAY.endpoint]: lease.endpoint.id,
      [GATEWAY.candidates]: pick.candidates,
      [GATEWAY.scorePrefix]: pick.prefixHashes,
      [GATEWAY.scoreLoad]: estimate.load,
      [GATEWAY.scoreQueue]: estimate.waiting,
    };
    if (estimate.kvUsage !== undefined) attrs[GATEWAY.scoreKv] = estimate.kvUsage;
    this.#telemetry.tracer
      .startSpan('pick', { startTime: queuedUntil, attributes: attrs }, this.#context)
      .end(Date.now());
  }

  /** A CLIENT span for one forward to `endpoint`; its `traceparent` goes to the endpoint. */
  forward(endpoint: { id: string; url: string }, attempt: number, stream: boolean): ForwardSpan {
    const url = new URL(endpoint.url);
    const attrs: Attributes = {
      ...this.#base,
      [GEN_AI.requestStream]: stream,
      [GATEWAY.attempt]: attempt,
      [GATEWAY.endpoint]: endpoint.id,
      [GENERAL.serverAddress]: url.hostname,
      [GENERAL.serverPort]: Number(url.port) || 80,
    };
    const name = this.#telemetry.names.inferenceSpanName(
      String(attrs[GEN_AI.operationName]),
      String(attrs[GEN_AI.requestModel]),
    );
    const span = this.#telemetry.tracer.startSpan(
      name,
      { kind: SpanKind.CLIENT, attributes: attrs },
      this.#context,
    );
    return new ForwardSpan(this.#telemetry, span, this.#base);
  }

  end(status: number): void {
    if (this.#ended) return;
    this.#ended = true;
    this.#server.setAttribute(GENERAL.httpStatus, status);
    if (status >= 500) this.#server.setStatus({ code: SpanStatusCode.ERROR });
    this.#server.end();
    this.#telemetry.requests.add(1, {
      [GENERAL.httpStatus]: status,
      [GATEWAY.pool]: this.#base[GATEWAY.pool],
    });
  }
}

export class ForwardSpan {
  readonly #telemetry: OriginTelemetry;
  readonly span: Span;
  readonly #base: Attributes;
  readonly #startedAt = Date.now();
  #done = false;

  constructor(telemetry: OriginTelemetry, span: Span, base: Attributes) {
    this.#telemetry = telemetry;
    this.span = span;
    this.#base = base;
  }

  get traceparent(): string {
    const { traceId, spanId, traceFlags } = this.span.spanContext();
    return `00-${traceId}-${spanId}-${traceFlags.toString(16).padStart(2, '0')}`;
  }

  firstByte(stream: boolean): void {
    const at = Date.now();
    this.span.addEvent(EVENTS.firstByte, at);
    if (stream) {
      this.span.setAttribute(GEN_AI.responseTimeToFirstChunk, (at - this.#startedAt) / 1000);
      this.#telemetry.genAi.timeToFirstChunk.record((at - this.#startedAt) / 1000, this.#base);
    }
  }

  end(status: number, outputTokens?: number, streamEnd?: string): void {
    if (this.#done) return;
    this.#done = true;
    const attrs: Attributes = { [GENERAL.httpStatus]: status };
    if (outputTokens !== undefined && outputTokens > 0) {
      attrs[GEN_AI.usageOutputTokens] = outputTokens;
      this.#telemetry.genAi.recordTokens('output', outputTokens, this.#base);
    }
    const failed = status >= 400 || (streamEnd !== undefined && streamEnd !== 'done');
    const errorType = failed
      ? streamEnd && streamEnd !== 'done'
        ? streamEnd
        : String(status)
      : undefined;
    if (errorType) {
      attrs[GENERAL.errorType] = errorType;
      this.span.setStatus({ code: SpanStatusCode.ERROR });
    }
    if (streamEnd) this.span.addEvent(EVENTS.streamEnd, { [GATEWAY.streamEnd]: streamEnd });
    this.span.setAttributes(attrs);
    this.span.end();
    this.#telemetry.genAi.operationDuration.record((Date.now() - this.#startedAt) / 1000, {
      ...this.#base,
      ...(errorType ? { [GENERAL.errorType]: errorType } : {}),
    });
  }
}
