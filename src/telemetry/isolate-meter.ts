/**
 * The edge's metrics, aggregated in the isolate: cumulative sums and explicit-bucket histograms,
 * collected as sdk-metrics' `ResourceMetrics` for otlp-transformer's OTLP serializers (the
 * exporter, ./exporter.ts). Instruments implement the OpenTelemetry API's `Counter` and
 * `Histogram`, so code that records (./genai-metrics.ts, shared with the origin, which keeps
 * sdk-metrics' MeterProvider) does not know which meter it has.
 *
 * Hand-written rather than sdk-metrics' MeterProvider at the edge: per record that SDK copies
 * the attributes through its processor, hashes them (keys sorted, then `JSON.stringify`) and
 * walks several storage layers, about 40 % of a request's telemetry work on the Worker
 * (bench/README.md, OpenTelemetry), which the issue's +0.1 ms per request cannot carry. The
 * gateway's attribute sets are few and built in the same key order each time, so a record here
 * finds its series by Map lookups of the keys and values as given (`SeriesTable`).
 */
import {
  type Attributes,
  type Counter,
  type Histogram,
  type MetricOptions,
  ValueType,
} from '@opentelemetry/api';
import { type InstrumentationScope, millisToHrTime } from '@opentelemetry/core';
import type { Resource } from '@opentelemetry/resources';
import {
  AggregationTemporality,
  DataPointType,
  type Histogram as HistogramValue,
  type MetricData,
  type ResourceMetrics,
} from '@opentelemetry/sdk-metrics';

/** Series per instrument at most, the overflow series included (sdk-metrics' default
 * cardinality limit): records for more go to one series with `otel.metric.overflow: true`, as
 * the specification asks. */
export const MAX_SERIES = 2000;
/** Nodes of an instrument's tree of attribute sets as given, at most; past this the tree
 * starts over (the series stay). */
const MAX_ALIAS_NODES = 16 * MAX_SERIES;
const OVERFLOW: Attributes = { 'otel.metric.overflow': true };

interface Series<V> {
  readonly attributes: Attributes;
  readonly startMs: number;
  value: V;
}

/** A step down the tree of attribute sets as given: key, value, key, value, ... */
interface AliasNode<V> {
  next?: Map<unknown, AliasNode<V>>;
  series?: Series<V>;
}

/**
 * One instrument's series, by the identity of their attributes (sorted keys). A record finds
 * its series down a tree of Maps, a step for each key and each value in the order given, so
 * a record builds no string and allocates nothing once its attribute set has been seen; the
 * identity is computed when a tree path is new.
 */
class SeriesTable<V> {
  readonly #byIdentity = new Map<string, Series<V>>();
  #overflow: Series<V> | undefined;
  #aliases: AliasNode<V> = {};
  #aliasNodes = 0;
  readonly #create: () => V;

  constructor(create: () => V) {
    this.#create = create;
  }

  get(attributes: Attributes = {}): Series<V> {
    let node = this.#aliases;
    for (const key in attributes) {
      const value = attributes[key];
      // an array is a value by content, not identity: such sets (not the gateway's) go the slow way
      if (Array.isArray(value)) return this.#byAttributes(attributes);
      node = this.#step(this.#step(node, key), value);
    }
    node.series ??= this.#byAttributes(attributes);
    return node.series;
  }

  #step(node: AliasNode<V>, key: unknown): AliasNode<V> {
    node.next ??= new Map();
    let next = node.next.get(key);
    if (!next) {
      if (++this.#aliasNodes > MAX_ALIAS_NODES) {
        this.#aliasNodes = 0;
        this.#aliases = {};
      }
      next = {};
      node.next.set(key, next);
    }
    return next;
  }

  #byAttributes(attributes: Attributes): Series<V> {
    const kept = definedOnly(attributes);
    const identity = JSON.stringify(
      Object.keys(kept)
        .sort()
        .map((k) => [k, kept[k]]),
    );
    let series = this.#byIdentity.get(identity);
    if (!series && this.#byIdentity.size >= MAX_SERIES - 1) {
      series = this.#overflow ??= this.#series(OVERFLOW);
    } else if (!series) {
      series = this.#series(kept);
      this.#byIdentity.set(identity, series);
    }
    return series;
  }

  #series(attributes: Attributes): Series<V> {
    return { attributes, startMs: Date.now(), value: this.#create() };
  }

  get size(): number {
    return this.#byIdentity.size + (this.#overflow ? 1 : 0);
  }

  *values(): IterableIterator<Series<V>> {
    yield* this.#byIdentity.values();
    if (this.#overflow) yield this.#overflow;
  }
}

function definedOnly(attributes: Attributes): Attributes {
  const out: Attributes = {};
  for (const [k, v] of Object.entries(attributes)) if (v !== undefined && v !== null) out[k] = v;
  return out;
}

interface Described {
  name: string;
  description: string;
  unit: string;
}

class IsolateCounter implements Counter {
  readonly descriptor: Described;
  readonly table = new SeriesTable(() => 0);

  constructor(descriptor: Described) {
    this.descriptor = descriptor;
  }

  add(value: number, attributes?: Attributes): void {
    if (!(value >= 0)) return; // a counter only goes up (the API says: ignore the rest)
    this.table.get(attributes).value += value;
  }
}

interface Buckets {
  count: number;
  sum: number;
  min: number;
  max: number;
  /** Per bucket: (-inf, b0], (b0, b1], ..., (bn-1, +inf). */
  counts: number[];
}

class IsolateHistogram implements Histogram {
  readonly descriptor: Described;
  readonly boundaries: readonly number[];
  readonly table: SeriesTable<Buckets>;

  constructor(descriptor: Described, boundaries: readonly number[]) {
    this.descriptor = descriptor;
    this.boundaries = boundaries;
    const size = boundaries.length + 1;
    this.table = new SeriesTable(() => ({
      count: 0,
      sum: 0,
      min: Infinity,
      max: -Infinity,
      counts: new Array<number>(size).fill(0),
    }));
  }

  record(value: number, attributes?: Attributes): void {
    if (!Number.isFinite(value) || value < 0) return; // the GenAI histograms take no negatives
    const b = this.table.get(attributes).value;
    b.count++;
    b.sum += value;
    if (value < b.min) b.min = value;
    if (value > b.max) b.max = value;
    let i = 0;
    while (i < this.boundaries.length && value > this.boundaries[i]!) i++;
    b.counts[i]!++;
  }
}

/** Boundaries when an instrument's options advise none (the SDK's defaults). */
const DEFAULT_BOUNDARIES = [
  0, 5, 10, 25, 50, 75, 100, 250, 500, 750, 1000, 2500, 5000, 7500, 10000,
];

/**
 * The meter: instruments as the API's, plus `observedCounter` (a monotonic sum read when
 * collected), and `collect`.
 */
export class IsolateMeter {
  readonly #scope: InstrumentationScope;
  readonly #counters: IsolateCounter[] = [];
  readonly #histograms: IsolateHistogram[] = [];
  readonly #observed: { descriptor: Described; read: () => number }[] = [];
  readonly #startMs = Date.now();

  constructor(scopeName: string) {
    this.#scope = { name: scopeName, version: '' }; // as sdk-metrics' getMeter(name) has it
  }

  createCounter(name: string, options: MetricOptions = {}): Counter {
    const counter = new IsolateCounter(described(name, options));
    this.#counters.push(counter);
    return counter;
  }

  createHistogram(name: string, options: MetricOptions = {}): Histogram {
    const boundaries = options.advice?.explicitBucketBoundaries ?? DEFAULT_BOUNDARIES;
    const histogram = new IsolateHistogram(described(name, options), boundaries);
    this.#histograms.push(histogram);
    return histogram;
  }

  observedCounter(name: string, options: MetricOptions, read: () => number): void {
    this.#observed.push({ descriptor: described(name, options), read });
  }

  /** Every series recorded so far (cumulative since it started), or undefined if none. */
  collect(resource: Resource, nowMs = Date.now()): ResourceMetrics | undefined {
    const endTime = millisToHrTime(nowMs);
    const metrics: MetricData[] = [];
    const sum = (
      descriptor: Described,
      dataPoints: { attributes: Attributes; startMs: number; value: number }[],
    ) =>
      metrics.push({
        descriptor: { ...descriptor, valueType: ValueType.DOUBLE },
        aggregationTemporality: AggregationTemporality.CUMULATIVE,
        dataPointType: DataPointType.SUM,
        isMonotonic: true,
        dataPoints: dataPoints.map((s) => ({
          attributes: s.attributes,
          startTime: millisToHrTime(s.startMs),
          endTime,
          value: s.value,
        })),
      });
    for (const counter of this.#counters) {
      if (counter.table.size > 0) sum(counter.descriptor, [...counter.table.values()]);
    }
    for (const { descriptor, read } of this.#observed) {
      sum(descriptor, [{ attributes: {}, startMs: this.#startMs, value: read() }]);
    }
    for (const histogram of this.#histograms) {
      if (histogram.table.size === 0) continue;
      metrics.push({
        descriptor: { ...histogram.descriptor, valueType: ValueType.DOUBLE },
        aggregationTemporality: AggregationTemporality.CUMULATIVE,
        dataPointType: DataPointType.HISTOGRAM,
        dataPoints: [...histogram.table.values()].map((s) => ({
          attributes: s.attributes,
          startTime: millisToHrTime(s.startMs),
          endTime,
          value: histogramValue(s.value, histogram.boundaries),
        })),
      });
    }
    if (metrics.length === 0) return undefined;
    return { resource, scopeMetrics: [{ scope: this.#scope, metrics }] };
  }
}

function described(name: string, options: MetricOptions): Described {
  return { name, description: options.description ?? '', unit: options.unit ?? '' };
}

/** A snapshot (the series keeps counting while an export is encoded). */
function histogramValue(b: Buckets, boundaries: readonly number[]): HistogramValue {
  return {
    count: b.count,
    sum: b.sum,
    min: b.min,
    max: b.max,
    buckets: { boundaries: [...boundaries], counts: [...b.counts] },
  };
}
