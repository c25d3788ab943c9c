/**
 * Chart data from the usage series (`GET /admin/usage`): one line per group, on every bucket
 * of the range (counts missing from the rollups are 0; quantiles of an empty bucket are
 * gaps), in the column layout uPlot draws ([x seconds, ...one array per line]). Pure.
 */
import type { SeriesPoint } from '../api/types.ts';

export type Metric =
  | 'requests_per_s'
  | 'tokens'
  | 'cost_usd'
  | 'error_rate'
  | 'latency_ms_p50'
  | 'latency_ms_p95'
  | 'ttfb_ms_p50'
  | 'ttfb_ms_p95';

export const METRICS: { metric: Metric; title: string; unit: string }[] = [
  { metric: 'requests_per_s', title: 'Requests per second', unit: 'req/s' },
  { metric: 'tokens', title: 'Tokens (input + output)', unit: 'tokens' },
  { metric: 'cost_usd', title: 'Cost', unit: 'USD' },
  { metric: 'error_rate', title: 'Error rate', unit: '%' },
  { metric: 'latency_ms_p50', title: 'Latency p50', unit: 'ms' },
  { metric: 'latency_ms_p95', title: 'Latency p95', unit: 'ms' },
  { metric: 'ttfb_ms_p50', title: 'Time to first byte p50', unit: 'ms' },
  { metric: 'ttfb_ms_p95', title: 'Time to first byte p95', unit: 'ms' },
];

const BUCKET_SECONDS = { hour: 3_600, day: 86_400 } as const;
export type Resolution = keyof typeof BUCKET_SECONDS;

/** The label of a group (the API's null: events without that dimension, e.g. refusals). */
export const groupLabel = (group: string | null): string => group ?? '(none)';

function value(point: SeriesPoint, metric: Metric, resolution: Resolution): number | null {
  switch (metric) {
    case 'requests_per_s':
      return point.requests / BUCKET_SECONDS[resolution];
    case 'tokens':
      return point.input_tokens + point.output_tokens;
    case 'cost_usd':
      return point.cost_usd;
    case 'error_rate':
      return point.error_rate * 100;
    default:
      return point[metric];
  }
}

/** What an empty bucket is: none of a count, no quantile at all. */
const EMPTY: Record<Metric, 0 | null> = {
  requests_per_s: 0,
  tokens: 0,
  cost_usd: 0,
  error_rate: 0,
  latency_ms_p50: null,
  latency_ms_p95: null,
  ttfb_ms_p50: null,
  ttfb_ms_p95: null,
};

/** Every bucket start from `from` (rounded down) to before `to`, in epoch seconds. */
export function buckets(from: string, to: string, resolution: Resolution): number[] {
  const step = BUCKET_SECONDS[resolution];
  const start = Math.floor(Date.parse(from) / 1000 / step) * step;
  const end = Date.parse(to) / 1000;
  const out: number[] = [];
  for (let t = start; t < end; t += step) out.push(t);
  return out;
}

export interface ChartData {
  labels: string[];
  /** uPlot's columns: x (epoch seconds), then one array per label. */
  columns: [number[], ...(number | null)[][]];
}

/** The groups, busiest first (their total requests), at most `maxGroups`. */
export function groupsByRequests(points: SeriesPoint[], maxGroups = 8): (string | null)[] {
  const totals = new Map<string | null, number>();
  for (const p of points) totals.set(p.group, (totals.get(p.group) ?? 0) + p.requests);
  return [...totals.entries()]
    .sort((a, b) => b[1] - a[1] || groupLabel(a[0]).localeCompare(groupLabel(b[0])))
    .slice(0, maxGroups)
    .map(([g]) => g);
}

export function chartData(
  points: SeriesPoint[],
  metric: Metric,
  range: { from: string; to: string; resolution: Resolution },
  groups: (string | null)[] = groupsByRequests(points),
): ChartData {
  const xs = buckets(range.from, range.to, range.resolution);
  const index = new Map(xs.map((x, i) => [x, i]));
  const lines = groups.map(() => xs.map((): number | null => EMPTY[metric]));
  const lineOf = new Map(groups.map((g, i) => [g, i]));
  for (const p of points) {
    const line = lineOf.get(p.group);
    const at = index.get(Date.parse(p.bucket) / 1000);
    if (line === undefined || at === undefined) continue;
    lines[line]![at] = value(p, metric, range.resolution);
  }
  return { labels: groups.map(groupLabel), columns: [xs, ...lines] };
}

export interface Totals {
  requests: number;
  tokens: number;
  costUsd: number;
  /** Errors / requests over the whole range, 0 to 1; null without requests. */
  errorRate: number | null;
  /** Mean latency over every request of the range (exact: the rollups keep the sum). */
  latencyMsAvg: number | null;
}

export function totals(points: SeriesPoint[]): Totals {
  let requests = 0;
  let errors = 0;
  let tokens = 0;
  let costUsd = 0;
  let latencySum = 0;
  for (const p of points) {
    requests += p.requests;
    errors += p.errors;
    tokens += p.input_tokens + p.output_tokens;
    costUsd += p.cost_usd;
    latencySum += p.latency_ms_avg * p.requests;
  }
  return {
    requests,
    tokens,
    costUsd,
    errorRate: requests ? errors / requests : null,
    latencyMsAvg: requests ? latencySum / requests : null,
  };
}
