import {
  type Attributes,
  type Context,
  ROOT_CONTEXT,
  SpanKind,
  type Tracer,
} from '@opentelemetry/api';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { type ReadableSpan, type SpanProcessor, TracerProvider } from '@opentelemetry/sdk-trace';
import { OtlpSender } from './exporter.ts';
import { GatewayMetrics } from './metrics.ts';
import { samplerFor } from './sampler.ts';
import { GEN_AI_NAMES, GENERAL, type GenAiNames } from './semconv.ts';
import type { TelemetrySettings } from './settings.ts';

const propagator = new W3CTraceContextPropagator();
const headerGetter = {
  get: (carrier: Headers, key: string) => carrier.get(key) ?? undefined,
  keys: () => ['traceparent', 'tracestate'],
};

/** Hands every ended, sampled span to the sender's bounded queue. */
class QueueingProcessor implements SpanProcessor {
  private readonly sender: OtlpSender;
  constructor(sender: OtlpSender) {
    this.sender = sender;
  }
  onStart(): void {}
  onEnd(span: ReadableSpan): void {
    this.sender.enqueue(span);
  }
  async forceFlush(): Promise<void> {}
  async shutdown(): Promise<void> {}
}

/**
 * The edge's telemetry, one per isolate (built by `createGateway` when an OTLP endpoint is
 * configured): the SDK tracer, the metrics, and the sender both go through. Spans use explicit
 * parent contexts, so no context manager (AsyncLocalStorage) is needed.
 */
export class Telemetry {
  readonly sender: OtlpSender;
  readonly settings: TelemetrySettings;
  /** The GenAI names of the convention version asked for (`OTEL_SEMCONV_STABILITY_OPT_IN`). */
  readonly names: GenAiNames;
  readonly #serviceName: string;
  #parts: { tracer: Tracer; metrics: GatewayMetrics } | undefined;
  #lastMetricsExport = Date.now();

  constructor(settings: TelemetrySettings, defaultServiceName = 'edge-llm-gateway') {
    this.settings = settings;
    this.names = GEN_AI_NAMES[settings.genAi];
    this.#serviceName = settings.serviceName ?? defaultServiceName;
    this.sender = new OtlpSender(settings);
  }

  /** Built on first use, inside a request: a Worker may not draw random values (the
   * instance id) at module scope. */
  get #built() {
    if (this.#parts) return this.#parts;
    const resource = resourceFromAttributes({
      [GENERAL.serviceName]: this.#serviceName,
      [GENERAL.serviceInstanceId]: crypto.randomUUID(),
    });
    const provider = new TracerProvider({
      resource,
      sampler: samplerFor(this.settings),
      spanProcessors: [new QueueingProcessor(this.sender)],
    });
    this.#parts = {
      tracer: provider.getTracer('edge-llm-gateway'),
      metrics: new GatewayMetrics(resource, this.names, () => this.sender.dropped),
    };
    return this.#parts;
  }

  get tracer(): Tracer {
    return this.#built.tracer;
  }

  get metrics(): GatewayMetrics {
    return this.#built.metrics;
  }

  /** The client's trace context (`traceparent`, `tracestate`), or the root context. */
  extract(headers: Headers): Context {
    return propagator.extract(ROOT_CONTEXT, headers, headerGetter);
  }

  startSpan(name: string, kind: SpanKind, attributes: Attributes, parent: Context, at: number) {
    return this.tracer.startSpan(name, { kind, attributes, startTime: at }, parent);
  }

  /** After a request (in `waitUntil`): send the queued spans when a batch is due (see
   * `OtlpSender`), and the metrics when due. */
  async afterRequest(now = Date.now()): Promise<void> {
    const work: Promise<void>[] = [];
    const spans = this.sender.afterRequest();
    if (spans) work.push(spans);
    if (now - this.#lastMetricsExport >= this.settings.metricIntervalMs) {
      this.#lastMetricsExport = now;
      work.push(this.#exportMetrics());
    }
    await Promise.all(work);
  }

  async #exportMetrics(): Promise<void> {
    try {
      const metrics = this.metrics.collect();
      if (metrics && !(await this.sender.sendMetrics(metrics))) this.sender.dropped++;
    } catch {
      this.sender.dropped++;
    }
  }
}

export { SpanKind };
