import type { Attributes } from '@opentelemetry/api';
import { JsonMetricsSerializer, ProtobufMetricsSerializer } from '@opentelemetry/otlp-transformer';
import { resourceFromAttributes } from '@opentelemetry/resources';
import {
  DataPointType,
  MeterProvider,
  MetricReader,
  type ResourceMetrics,
} from '@opentelemetry/sdk-metrics';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { IsolateMeter, MAX_SERIES } from './isolate-meter.ts';

class OnDemandReader extends MetricReader {
  protected override async onForceFlush(): Promise<void> {}
  protected override async onShutdown(): Promise<void> {}
}

const resource = resourceFromAttributes({ 'service.name': 'test' });
const BOUNDS = [1, 4, 16, 64];

interface Recorded {
  instrument: 'counter' | 'histogram';
  value: number;
  attributes: Attributes;
}

/** The same records through sdk-metrics' MeterProvider and through the isolate's meter. */
async function both(records: readonly Recorded[]) {
  const reader = new OnDemandReader();
  const sdk = new MeterProvider({ resource, readers: [reader] }).getMeter('m');
  const local = new IsolateMeter('m');
  const instruments = [sdk, local].map((meter) => ({
    counter: meter.createCounter('c', { unit: '{x}', description: 'a counter' }),
    histogram: meter.createHistogram('h', {
      unit: 's',
      description: 'a histogram',
      advice: { explicitBucketBoundaries: BOUNDS },
    }),
  }));
  for (const r of records) {
    for (const set of instruments) {
      if (r.instrument === 'counter') set.counter.add(r.value, r.attributes);
      else set.histogram.record(r.value, r.attributes);
    }
  }
  const collected = await reader.collect();
  return {
    sdk: normalized(collected.resourceMetrics),
    local: normalized(local.collect(resource)),
    raw: local.collect(resource),
    rawSdk: collected.resourceMetrics,
  };
}

/** The collection with every point's times set alike (they differ by design). */
function timeless(rm: ResourceMetrics): ResourceMetrics {
  for (const scope of rm.scopeMetrics) {
    for (const metric of scope.metrics) {
      for (const p of metric.dataPoints as { startTime: unknown; endTime: unknown }[]) {
        p.startTime = [1, 0];
        p.endTime = [2, 0];
      }
    }
  }
  return rm;
}

/** Per metric, its points by attribute identity (times left out: they differ by design). */
function normalized(rm: ResourceMetrics | undefined) {
  const out: Record<string, unknown> = {};
  for (const scope of rm?.scopeMetrics ?? []) {
    for (const metric of scope.metrics) {
      if (metric.dataPoints.length === 0) continue;
      const points = metric.dataPoints.map((p) => {
        const attrs = Object.fromEntries(
          Object.entries(p.attributes).sort(([a], [b]) => (a < b ? -1 : 1)),
        );
        return { attrs: JSON.stringify(attrs), value: p.value };
      });
      points.sort((a, b) => (a.attrs < b.attrs ? -1 : a.attrs > b.attrs ? 1 : 0));
      out[metric.descriptor.name] = {
        unit: metric.descriptor.unit,
        description: metric.descriptor.description,
        type: metric.dataPointType,
        monotonic: metric.dataPointType === DataPointType.SUM ? metric.isMonotonic : undefined,
        points,
      };
    }
  }
  return out;
}

// A small pool of attribute sets, each drawn with its keys in any order.
const attributeSets: Attributes[] = [
  {},
  { 'gen_ai.operation.name': 'chat', 'gen_ai.request.model': 'm1', 'server.port': 443 },
  { 'gen_ai.operation.name': 'chat', 'gen_ai.request.model': 'm2', 'server.port': 443 },
  { 'http.response.status_code': 200, 'gateway.cache': 'MISS' },
  { 'http.response.status_code': 429, 'error.type': 'rate_limit_exceeded', ok: false },
  { 'gen_ai.response.finish_reasons': ['stop', 'length'], 'gen_ai.request.model': 'm1' },
  { 'gen_ai.response.finish_reasons': ['stop'], 'gen_ai.request.model': 'm1' },
];
const shuffled = (attributes: Attributes) =>
  fc
    .shuffledSubarray(Object.keys(attributes), { minLength: Object.keys(attributes).length })
    .map((keys) => Object.fromEntries(keys.map((k) => [k, attributes[k]])));
const recordArb: fc.Arbitrary<Recorded> = fc.record({
  instrument: fc.constantFrom('counter' as const, 'histogram' as const),
  value: fc.oneof(
    fc.constantFrom(0, 1, 4, 16, 64, 65, -1, 0.5),
    fc.double({ min: -10, max: 1e6, noNaN: true }),
  ),
  attributes: fc.constantFrom(...attributeSets).chain(shuffled),
});

describe('IsolateMeter', () => {
  it('aggregates exactly what sdk-metrics aggregates: sums, buckets, min/max, one series per attribute set in any key order', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(recordArb, { maxLength: 60 }), async (records) => {
        const { sdk, local } = await both(records);
        expect(local).toEqual(sdk);
      }),
      { numRuns: 150 },
    );
  });

  it('collects what serializes as the collection of sdk-metrics does, OTLP protobuf and JSON (times aside)', async () => {
    const records: Recorded[] = attributeSets.flatMap((attributes, i) => [
      { instrument: 'counter' as const, value: i + 1, attributes },
      { instrument: 'histogram' as const, value: i * 7.5, attributes },
    ]);
    const { raw, rawSdk } = await both(records);
    const [local, sdk] = [timeless(raw!), timeless(rawSdk)];
    expect(ProtobufMetricsSerializer.serializeRequest(local)).toEqual(
      ProtobufMetricsSerializer.serializeRequest(sdk),
    );
    const json = (rm: ResourceMetrics) =>
      new TextDecoder().decode(JsonMetricsSerializer.serializeRequest(rm));
    expect(json(local)).toBe(json(sdk));
  });

  it('caps series per instrument as sdk-metrics does: the rest in one overflow series', async () => {
    // eleven keys each: the sets' paths outgrow the alias tree, which starts over midway, so
    // the second pass finds its series again by identity
    const records: Recorded[] = [];
    for (let round = 0; round < 2; round++) {
      for (let i = 0; i < MAX_SERIES + 150; i++) {
        const attributes = { id: i, a: 1, b: 2, c: 3, d: 4, e: 5, f: 6, g: 7, h: 8, j: 9, k: 10 };
        records.push({ instrument: 'counter', value: 1, attributes });
        records.push({ instrument: 'histogram', value: i % 70, attributes });
      }
    }
    const { sdk, local } = await both(records);
    expect(local).toEqual(sdk);
    const counter = (local as { c: { points: { attrs: string; value: unknown }[] } }).c;
    expect(counter.points).toHaveLength(MAX_SERIES);
    expect(counter.points.find((p) => JSON.parse(p.attrs).id === 0)?.value).toBe(2);
    expect(counter.points.find((p) => p.attrs.includes('overflow'))?.value).toBe(2 * 151);
  });

  it('reports an observed counter at every collection, and nothing else when nothing was recorded', () => {
    const meter = new IsolateMeter('m');
    meter.createCounter('unused');
    let dropped = 0;
    meter.observedCounter('dropped', { unit: '{item}' }, () => dropped);
    dropped = 7;
    const first = normalized(meter.collect(resource));
    expect(Object.keys(first)).toEqual(['dropped']);
    expect(first.dropped).toMatchObject({ points: [{ attrs: '{}', value: 7 }] });
    expect(new IsolateMeter('m').collect(resource)).toBeUndefined();
  });

  it('collects a snapshot: later records do not change an export being encoded', async () => {
    const { raw } = await both([{ instrument: 'histogram', value: 2, attributes: {} }]);
    const meter = new IsolateMeter('m');
    const h = meter.createHistogram('h', { advice: { explicitBucketBoundaries: BOUNDS } });
    h.record(2);
    const snapshot = meter.collect(resource)!;
    h.record(3);
    const point = snapshot.scopeMetrics[0]!.metrics[0]!.dataPoints[0]!;
    expect(point.value).toMatchObject({ count: 1, sum: 2, buckets: { counts: [0, 1, 0, 0, 0] } });
    // and what it collects is what the OTLP serializer takes
    const body = new TextDecoder().decode(JsonMetricsSerializer.serializeRequest(raw!));
    expect(
      JSON.parse(body).resourceMetrics[0].scopeMetrics[0].metrics[0].histogram.dataPoints[0],
    ).toMatchObject({ count: 1, sum: 2, bucketCounts: [0, 1, 0, 0, 0], explicitBounds: BOUNDS });
  });
});
