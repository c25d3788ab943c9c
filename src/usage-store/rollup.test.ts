import { describe, expect, it } from 'vitest';
import { usageEventFrom } from '../events/index.ts';
import { bucketStart, rollupRows } from './rollup.ts';

const event = (at: string, fields: Record<string, unknown>) => ({
  ...usageEventFrom(
    {
      request_id: 'r',
      method: 'POST',
      path: '/v1/chat/completions',
      status: 200,
      latency_ms: 40,
      ttfb_ms: 5,
    },
    Date.parse(at),
    crypto.randomUUID(),
  ),
  ...fields,
});

describe('rollupRows', () => {
  it('sums per bucket and dimensions, counts errors, sorted by key', () => {
    const events = [
      event('2026-12-01T10:05:00Z', { tenant: 'b', input_tokens: 3, cost_nanos: 10 }),
      event('2026-12-01T10:55:00Z', {
        tenant: 'b',
        input_tokens: 4,
        cost_nanos: 5,
        status: 502,
        ttfb_ms: null,
      }),
      event('2026-12-01T11:00:00Z', { tenant: 'b', input_tokens: 1 }),
      event('2026-12-01T10:30:00Z', { tenant: 'a', input_tokens: 2 }),
    ];
    const hours = rollupRows(events, 'hour');
    expect(
      hours.map((r) => [
        r.bucket,
        r.tenant,
        r.requests,
        r.errors,
        r.input_tokens,
        r.cost_nanos,
        r.ttfb_count,
      ]),
    ).toEqual([
      ['2026-12-01T10:00:00.000Z', 'a', 1, 0, 2, 0, 1],
      ['2026-12-01T10:00:00.000Z', 'b', 2, 1, 7, 15, 1],
      ['2026-12-01T11:00:00.000Z', 'b', 1, 0, 1, 0, 1],
    ]);
    const days = rollupRows(events, 'day');
    expect(days.map((r) => [r.tenant, r.requests, r.latency_ms_sum])).toEqual([
      ['a', 1, 40],
      ['b', 3, 120],
    ]);
    expect(days[1]!.latency_hist.reduce((s, n) => s + n, 0)).toBe(3);
  });

  it('buckets in UTC', () => {
    expect(bucketStart('2026-12-01T23:59:59.999+00:00', 'day')).toBe('2026-12-01T00:00:00.000Z');
    expect(bucketStart('2026-12-02T00:30:00+02:00', 'day')).toBe('2026-12-01T00:00:00.000Z');
    expect(bucketStart('2026-12-01T10:59:59Z', 'hour')).toBe('2026-12-01T10:00:00.000Z');
  });
});
