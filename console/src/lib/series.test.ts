import { describe, expect, it } from 'vitest';
import type { SeriesPoint } from '../api/types.ts';
import { buckets, chartData, groupsByRequests, totals } from './series.ts';

const point = (
  bucket: string,
  group: string | null,
  over: Partial<SeriesPoint> = {},
): SeriesPoint => ({
  bucket,
  group,
  requests: 10,
  errors: 1,
  error_rate: 0.1,
  input_tokens: 100,
  output_tokens: 50,
  cached_tokens: 0,
  cache_write_tokens: 0,
  reasoning_tokens: 0,
  cost_nanos: 500_000_000,
  cost_usd: 0.5,
  latency_ms_avg: 200,
  latency_ms_p50: 180,
  latency_ms_p95: 400,
  ttfb_ms_p50: 50,
  ttfb_ms_p95: 90,
  ...over,
});

const range = {
  from: '2026-12-01T09:30:00.000Z',
  to: '2026-12-01T13:00:00.000Z',
  resolution: 'hour' as const,
};
const H = (h: number) => `2026-12-01T${String(h).padStart(2, '0')}:00:00.000Z`;
const sec = (iso: string) => Date.parse(iso) / 1000;

describe('chartData', () => {
  const points = [
    point(H(9), 'gpt-4o-mini', { requests: 36 }),
    point(H(11), 'gpt-4o-mini', { requests: 72, latency_ms_p95: 900 }),
    point(H(10), 'llama', { requests: 360 }),
    point(H(10), null, { requests: 1 }),
  ];

  it('draws every bucket of the range, busiest group first, gaps as 0 for counts', () => {
    expect(buckets(range.from, range.to, 'hour')).toEqual([H(9), H(10), H(11), H(12)].map(sec));
    const data = chartData(points, 'requests_per_s', range);
    expect(data.labels).toEqual(['llama', 'gpt-4o-mini', '(none)']);
    expect(data.columns).toEqual([
      [H(9), H(10), H(11), H(12)].map(sec),
      [0, 0.1, 0, 0],
      [0.01, 0, 0.02, 0],
      [0, 1 / 3600, 0, 0],
    ]);
  });

  it('leaves quantiles of empty buckets out (null), not zero', () => {
    const data = chartData(points, 'latency_ms_p95', range, ['gpt-4o-mini']);
    expect(data.columns[1]).toEqual([400, null, 900, null]);
    expect(chartData(points, 'error_rate', range, ['llama']).columns[1]).toEqual([0, 10, 0, 0]);
    expect(chartData(points, 'tokens', range, ['llama']).columns[1]).toEqual([0, 150, 0, 0]);
  });

  it('keeps at most the busiest groups', () => {
    expect(groupsByRequests(points, 2)).toEqual(['llama', 'gpt-4o-mini']);
  });
});

describe('totals', () => {
  it('adds counts and weighs the mean latency by requests', () => {
    const t = totals([
      point(H(9), 'a', { requests: 1, errors: 0, latency_ms_avg: 100, cost_usd: 0.25 }),
      point(H(9), 'b', { requests: 3, errors: 2, latency_ms_avg: 500, cost_usd: 0.5 }),
    ]);
    expect(t).toEqual({
      requests: 4,
      tokens: 300,
      costUsd: 0.75,
      errorRate: 0.5,
      latencyMsAvg: 400,
    });
    expect(totals([])).toMatchObject({ requests: 0, errorRate: null, latencyMsAvg: null });
  });
});
