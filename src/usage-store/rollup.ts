import type { UsageEvent } from '../events/index.ts';
import { bucketOf, emptyHistogram } from './histogram.ts';

/** One rollup row: the sums of the events of one bucket and one set of dimensions. */
export interface RollupRow {
  bucket: string;
  tenant: string;
  key_id: string;
  model: string;
  provider: string;
  region: string;
  requests: number;
  errors: number;
  input_tokens: number;
  output_tokens: number;
  cached_tokens: number;
  cache_write_tokens: number;
  reasoning_tokens: number;
  cost_nanos: number;
  latency_ms_sum: number;
  latency_hist: number[];
  ttfb_count: number;
  ttfb_hist: number[];
}

export type Resolution = 'hour' | 'day';

/** Start of the UTC hour or day of `at`, ISO 8601. */
export function bucketStart(at: string, resolution: Resolution): string {
  const d = new Date(at);
  if (resolution === 'day') d.setUTCHours(0, 0, 0, 0);
  else d.setUTCMinutes(0, 0, 0);
  return d.toISOString();
}

/** An error, for the rollups' error rate: any status of 400 or more (refusals included). */
export function isError(event: Pick<UsageEvent, 'status'>): boolean {
  return event.status >= 400;
}

/**
 * The rollup rows of a set of events, one per bucket and dimensions, sorted by key (so two
 * writers upserting overlapping rows lock them in the same order and cannot deadlock). Pure.
 */
export function rollupRows(events: readonly UsageEvent[], resolution: Resolution): RollupRow[] {
  const rows = new Map<string, RollupRow>();
  for (const e of events) {
    const dims = {
      bucket: bucketStart(e.at, resolution),
      tenant: e.tenant ?? '',
      key_id: e.key_id ?? '',
      model: e.model ?? '',
      provider: e.provider ?? '',
      region: e.region ?? '',
    };
    const key = JSON.stringify(Object.values(dims));
    let row = rows.get(key);
    if (!row) {
      row = {
        ...dims,
        requests: 0,
        errors: 0,
        input_tokens: 0,
        output_tokens: 0,
        cached_tokens: 0,
        cache_write_tokens: 0,
        reasoning_tokens: 0,
        cost_nanos: 0,
        latency_ms_sum: 0,
        latency_hist: emptyHistogram(),
        ttfb_count: 0,
        ttfb_hist: emptyHistogram(),
      };
      rows.set(key, row);
    }
    row.requests += 1;
    if (isError(e)) row.errors += 1;
    row.input_tokens += e.input_tokens;
    row.output_tokens += e.output_tokens;
    row.cached_tokens += e.cached_tokens;
    row.cache_write_tokens += e.cache_write_tokens;
    row.reasoning_tokens += e.reasoning_tokens;
    row.cost_nanos += e.cost_nanos;
    row.latency_ms_sum += e.latency_ms;
    row.latency_hist[bucketOf(e.latency_ms)]! += 1;
    if (e.ttfb_ms !== null) {
      row.ttfb_count += 1;
      row.ttfb_hist[bucketOf(e.ttfb_ms)]! += 1;
    }
  }
  return [...rows.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([, r]) => r);
}
