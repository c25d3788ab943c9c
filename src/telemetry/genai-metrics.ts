import type { Attributes, Histogram, MetricOptions } from '@opentelemetry/api';
import { GEN_AI, type GenAiNames } from './semconv.ts';

/** Bucket boundaries the GenAI metrics document advises. */
const TOKEN_BUCKETS = [
  1, 4, 16, 64, 256, 1024, 4096, 16384, 65536, 262144, 1048576, 4194304, 16777216, 67108864,
];
const DURATION_BUCKETS = [
  0.01, 0.02, 0.04, 0.08, 0.16, 0.32, 0.64, 1.28, 2.56, 5.12, 10.24, 20.48, 40.96, 81.92,
];

export type TokenType = 'input' | 'output';

/** What the metrics need of a meter: sdk-metrics' (origin) or the isolate's (./isolate-meter.ts). */
export interface HistogramMeter {
  createHistogram(name: string, options?: MetricOptions): Histogram;
}

/** The GenAI client metrics on `meter` under one convention version's names (edge and origin). */
export class GenAiClientMetrics {
  readonly operationDuration: Histogram;
  readonly timeToFirstChunk: Histogram;
  readonly #tokens: Record<TokenType, Histogram>;
  /** One histogram for both types, told apart by `gen_ai.token.type`. */
  readonly #typed: boolean;

  constructor(meter: HistogramMeter, names: GenAiNames) {
    const tokens = (name: string) =>
      meter.createHistogram(name, {
        unit: '{token}',
        description: 'Number of input and output tokens used.',
        advice: { explicitBucketBoundaries: TOKEN_BUCKETS },
      });
    const input = tokens(names.tokenUsage.input);
    this.#typed = names.tokenUsage.output === names.tokenUsage.input;
    this.#tokens = { input, output: this.#typed ? input : tokens(names.tokenUsage.output) };
    this.operationDuration = meter.createHistogram(names.operationDuration, {
      unit: 's',
      description: 'GenAI operation duration.',
      advice: { explicitBucketBoundaries: DURATION_BUCKETS },
    });
    this.timeToFirstChunk = meter.createHistogram(names.timeToFirstChunk, {
      unit: 's',
      description: 'Time to receive the first chunk of a streamed answer.',
      advice: { explicitBucketBoundaries: DURATION_BUCKETS },
    });
  }

  recordTokens(type: TokenType, count: number, attributes: Attributes): void {
    this.#tokens[type].record(
      count,
      this.#typed ? { ...attributes, [GEN_AI.tokenType]: type } : attributes,
    );
  }
}
