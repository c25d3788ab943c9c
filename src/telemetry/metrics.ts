import type { Attributes, Counter, Histogram } from '@opentelemetry/api';
import type { Resource } from '@opentelemetry/resources';
import { MeterProvider, MetricReader } from '@opentelemetry/sdk-metrics';
import { METRICS } from './semconv.ts';

/** A reader that collects only when asked (the edge exports from `waitUntil`, not a timer). */
class OnDemandReader extends MetricReader {
  protected override async onForceFlush(): Promise<void> {}
  protected override async onShutdown(): Promise<void> {}
}

/** Bucket boundaries the GenAI metrics document advises. */
const TOKEN_BUCKETS = [
  1, 4, 16, 64, 256, 1024, 4096, 16384, 65536, 262144, 1048576, 4194304, 16777216, 67108864,
];
const DURATION_BUCKETS = [
  0.01, 0.02, 0.04, 0.08, 0.16, 0.32, 0.64, 1.28, 2.56, 5.12, 10.24, 20.48, 40.96, 81.92,
];

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
  readonly tokenUsage: Histogram;
  readonly operationDuration: Histogram;
  readonly timeToFirstChunk: Histogram;
  readonly requests: Counter;
  readonly limitRefusals: Counter;
  readonly residencyRefusals: Counter;
  readonly fallbacks: Counter;
  readonly circuitsOpened: Counter;

  constructor(resource: Resource, dropped: () => number) {
    const provider = new MeterProvider({ resource, readers: [this.#reader] });
    const meter = provider.getMeter('edge-llm-gateway');
    this.tokenUsage = meter.createHistogram(METRICS.tokenUsage, {
      unit: '{token}',
      description: 'Number of input and output tokens used.',
      advice: { explicitBucketBoundaries: TOKEN_BUCKETS },
    });
    this.operationDuration = meter.createHistogram(METRICS.operationDuration, {
      unit: 's',
      description: 'GenAI operation duration.',
      advice: { explicitBucketBoundaries: DURATION_BUCKETS },
    });
    this.timeToFirstChunk = meter.createHistogram(METRICS.timeToFirstChunk, {
      unit: 's',
      description: 'Time to receive the first chunk of a streamed answer.',
      advice: { explicitBucketBoundaries: DURATION_BUCKETS },
    });
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
