import type { Attributes, Counter } from '@opentelemetry/api';
import type { Resource } from '@opentelemetry/resources';
import { GenAiClientMetrics } from './genai-metrics.ts';
import { IsolateMeter } from './isolate-meter.ts';
import { type GenAiNames, METRICS } from './semconv.ts';

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
 * resource's `service.instance.id` tells isolates apart) and collected when an export is due
 * (from `waitUntil`, not a timer).
 */
export class GatewayMetrics {
  readonly #meter = new IsolateMeter('edge-llm-gateway');
  readonly #resource: Resource;
  /** The GenAI client metrics (token usage, operation duration, time to first chunk). */
  readonly genAi: GenAiClientMetrics;
  readonly requests: Counter;
  readonly limitRefusals: Counter;
  readonly residencyRefusals: Counter;
  readonly fallbacks: Counter;
  readonly circuitsOpened: Counter;

  constructor(resource: Resource, names: GenAiNames, dropped: () => number) {
    this.#resource = resource;
    const meter = this.#meter;
    this.genAi = new GenAiClientMetrics(meter, names);
    const counter = (name: keyof typeof COUNTERS) =>
      meter.createCounter(METRICS[name], COUNTERS[name]);
    this.requests = counter('requests');
    this.limitRefusals = counter('limitRefusals');
    this.residencyRefusals = counter('residencyRefusals');
    this.fallbacks = counter('fallbacks');
    this.circuitsOpened = counter('circuitsOpened');
    meter.observedCounter(
      METRICS.telemetryDropped,
      {
        unit: '{item}',
        description: 'Spans and metric exports dropped (queue full, collector down or slow).',
      },
      dropped,
    );
  }

  /** Everything recorded so far, or undefined when there is nothing. */
  collect() {
    return this.#meter.collect(this.#resource);
  }
}

export type { Attributes };
