import type { Attributes, Counter } from '@opentelemetry/api';
import type { Resource } from '@opentelemetry/resources';
import { MeterProvider, MetricReader } from '@opentelemetry/sdk-metrics';
import { GenAiClientMetrics } from './genai-metrics.ts';
import { type GenAiNames, METRICS } from './semconv.ts';

/** A reader that collects only when asked (the edge exports from `waitUntil`, not a timer). */
class OnDemandReader extends MetricReader {
  protected override async onForceFlush(): Promise<void> {}
  protected override async onShutdown(): Promise<void> {}
}

const COUNTERS = {
  requests: {
    unit: '{request}',
    description: 'Requests answered, by status, provider, region and cache status.',
  },
  limitRefusals: { unit: '{request}', description: 'Requests refused by a rate limit or budget.' },
  residencyRefusals: {
    unit: '{request}',
    description: 'Requests refused because no target is allowed by their residency zone.',
  },
  fallbacks: {
    unit: '{attempt}',
    description: 'Attempts sent to another target after a failed one.',
  },
  circuitsOpened: {
    unit: '{circuit}',
    description: 'Circuits opened by this isolate (failure threshold reached).',
  },
} as const;

/**
 * The gateway's metrics (names in ./semconv.ts), aggregated in this isolate (cumulative; the
 * resource's `service.instance.id` tells isolates apart) and collected on demand.
 */
export class GatewayMetrics {
  readonly #reader = new OnDemandReader();
  /** The GenAI client metrics (token usage, operation duration, time to first chunk). */
  readonly genAi: GenAiClientMetrics;
  readonly requests: Counter;
  readonly limitRefusals: Counter;
  readonly residencyRefusals: Counter;
  readonly fallbacks: Counter;
  readonly circuitsOpened: Counter;

  constructor(resource: Resource, names: GenAiNames, dropped: () => number) {
    const provider = new MeterProvider({ resource, readers: [this.#reader] });
    const meter = provider.getMeter('edge-llm-gateway');
    this.genAi = new GenAiClientMetrics(meter, names);
    const counter = (name: keyof typeof COUNTERS) =>
      meter.createCounter(METRICS[name], COUNTERS[name]);
    this.requests = counter('requests');
    this.limitRefusals = counter('limitRefusals');
    this.residencyRefusals = counter('residencyRefusals');
    this.fallbacks = counter('fallbacks');
    this.circuitsOpened = counter('circuitsOpened');
    meter
      .createObservableCounter(METRICS.telemetryDropped, {
        unit: '{item}',
        description: 'Spans and metric exports dropped (queue full, collector down or slow).',
      })
      .addCallback((result) => result.observe(dropped()));
  }

  /** Everything recorded so far, or undefined when there is nothing. */
  async collect() {
    const { resourceMetrics } = await this.#reader.collect();
    return resourceMetrics.scopeMetrics.length > 0 ? resourceMetrics : undefined;
  }
}

export type { Attributes };
