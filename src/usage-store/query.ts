import type { Fragment, Sql } from 'postgres';
import { type Cursor, encodeCursor, type RequestFilters, type SeriesQuery } from './filters.ts';
import { quantile } from './histogram.ts';

/** A stored event as the admin API returns it (numbers as numbers, times as ISO). */
export type StoredEvent = Record<string, unknown> & { id: string; at: string };

const BIGINTS = new Set([
  'input_tokens',
  'output_tokens',
  'cached_tokens',
  'cache_write_tokens',
  'reasoning_tokens',
  'cost_nanos',
]);

function present(row: Record<string, unknown>): StoredEvent {
  const out: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(row)) {
    if (value instanceof Date) out[name] = value.toISOString();
    else if (BIGINTS.has(name)) out[name] = Number(value);
    else out[name] = value;
  }
  out.cost_usd = Number(row.cost_nanos) / 1e9;
  return out as StoredEvent;
}

const COLUMN: Record<string, string> = {
  tenant: 'tenant',
  key: 'key_id',
  model: 'model',
  provider: 'provider',
  region: 'region',
};

/** Fragments joined into one (postgres.js takes an array as a value list, not as SQL). */
function joined(sql: Sql, fragments: Fragment[]): Fragment {
  return fragments.reduce((all, f) => sql`${all} ${f}`, sql``);
}

function equalities(sql: Sql, filters: Partial<Record<string, string>>): Fragment[] {
  const out: Fragment[] = [];
  for (const [name, column] of Object.entries(COLUMN)) {
    const v = filters[name];
    if (v !== undefined) out.push(sql`AND ${sql(column)} = ${v}`);
  }
  return out;
}

/**
 * One page of the request log, newest first: keyset pagination on (at, id), so a page costs
 * an index range scan whatever the page number, and rows that arrive meanwhile neither shift
 * nor repeat the pages after the cursor.
 */
export async function listRequests(
  sql: Sql,
  filters: RequestFilters,
): Promise<{ data: StoredEvent[]; next_cursor: string | null }> {
  const where: Fragment[] = equalities(sql, filters as unknown as Record<string, string>);
  if (filters.status)
    where.push(sql`AND status BETWEEN ${filters.status[0]} AND ${filters.status[1]}`);
  if (filters.errorCode) where.push(sql`AND error_code = ${filters.errorCode}`);
  if (filters.cache) where.push(sql`AND cache = ${filters.cache}`);
  if (filters.minLatencyMs !== undefined)
    where.push(sql`AND latency_ms >= ${filters.minLatencyMs}`);
  const cursor: Cursor | undefined = filters.cursor;
  if (cursor) where.push(sql`AND (at, id) < (${new Date(cursor.at)}, ${cursor.id}::uuid)`);
  const rows = await sql<Record<string, unknown>[]>`
    SELECT * FROM usage_events
    WHERE at >= ${filters.from} AND at < ${filters.to} ${joined(sql, where)}
    ORDER BY at DESC, id DESC
    LIMIT ${filters.limit + 1}`;
  const page = rows.slice(0, filters.limit).map(present);
  const last = page[page.length - 1];
  return {
    data: page,
    next_cursor: rows.length > filters.limit && last ? encodeCursor(last) : null,
  };
}

/** One event by its event id or its request id (the newest, if a client reused the id). */
export async function getRequest(
  sql: Sql,
  id: string,
  tenant: string | undefined,
): Promise<StoredEvent | undefined> {
  const isUuid = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/.test(id);
  const scope = tenant === undefined ? sql`` : sql`AND tenant = ${tenant}`;
  const rows = await sql<Record<string, unknown>[]>`
    SELECT * FROM usage_events
    WHERE (${isUuid ? sql`id = ${id}::uuid OR ` : sql``} request_id = ${id}) ${scope}
    ORDER BY at DESC LIMIT 1`;
  if (!rows[0]) return undefined;
  // The captured payload, if its tenant captures them and it has not expired (its partition
  // is dropped within the hour its expiry day begins).
  const [payload] = await sql<Record<string, unknown>[]>`
    SELECT expires_on::text AS expires_on, prompt, answer, prompt_truncated, answer_truncated
    FROM request_payloads
    WHERE id = ${rows[0].id as string}::uuid AND expires_on > (now() AT TIME ZONE 'UTC')::date
    LIMIT 1`;
  return { ...present(rows[0]), payload: payload ?? null };
}

export interface SeriesPoint {
  bucket: string;
  group: string | null;
  requests: number;
  errors: number;
  error_rate: number;
  input_tokens: number;
  output_tokens: number;
  cached_tokens: number;
  cache_write_tokens: number;
  reasoning_tokens: number;
  cost_nanos: number;
  cost_usd: number;
  latency_ms_avg: number;
  latency_ms_p50: number | null;
  latency_ms_p95: number | null;
  ttfb_ms_p50: number | null;
  ttfb_ms_p95: number | null;
}

/** A usage time series from the rollups, one point per bucket and group. */
export async function usageSeries(sql: Sql, query: SeriesQuery): Promise<SeriesPoint[]> {
  const table = query.resolution === 'hour' ? 'usage_rollup_hour' : 'usage_rollup_day';
  const group = COLUMN[query.groupBy]!;
  const from = new Date(query.from);
  if (query.resolution === 'day') from.setUTCHours(0, 0, 0, 0);
  else from.setUTCMinutes(0, 0, 0);
  const rows = await sql<Record<string, unknown>[]>`
    SELECT bucket, ${sql(group)} AS grp,
      sum(requests) AS requests, sum(errors) AS errors,
      sum(input_tokens) AS input_tokens, sum(output_tokens) AS output_tokens,
      sum(cached_tokens) AS cached_tokens, sum(cache_write_tokens) AS cache_write_tokens,
      sum(reasoning_tokens) AS reasoning_tokens, sum(cost_nanos) AS cost_nanos,
      sum(latency_ms_sum) AS latency_ms_sum,
      usage_hist_sum(latency_hist) AS latency_hist, usage_hist_sum(ttfb_hist) AS ttfb_hist
    FROM ${sql(table)}
    WHERE bucket >= ${from} AND bucket < ${query.to}
      ${joined(sql, equalities(sql, query as unknown as Record<string, string>))}
    GROUP BY bucket, grp
    ORDER BY bucket, grp`;
  return rows.map((r) => {
    const n = (name: string) => Number(r[name] ?? 0);
    const latency = numbers(r.latency_hist);
    const ttfb = numbers(r.ttfb_hist);
    const requests = n('requests');
    return {
      bucket: (r.bucket as Date).toISOString(),
      group: r.grp === '' ? null : (r.grp as string),
      requests,
      errors: n('errors'),
      error_rate: requests === 0 ? 0 : n('errors') / requests,
      input_tokens: n('input_tokens'),
      output_tokens: n('output_tokens'),
      cached_tokens: n('cached_tokens'),
      cache_write_tokens: n('cache_write_tokens'),
      reasoning_tokens: n('reasoning_tokens'),
      cost_nanos: n('cost_nanos'),
      cost_usd: n('cost_nanos') / 1e9,
      latency_ms_avg: requests === 0 ? 0 : n('latency_ms_sum') / requests,
      latency_ms_p50: quantile(latency, 0.5),
      latency_ms_p95: quantile(latency, 0.95),
      ttfb_ms_p50: quantile(ttfb, 0.5),
      ttfb_ms_p95: quantile(ttfb, 0.95),
    };
  });
}

/** A bigint[] as postgres.js returns it: parsed, or (without type lookup) as `{1,2,3}`. */
function numbers(value: unknown): number[] {
  if (Array.isArray(value)) return value.map(Number);
  if (typeof value === 'string' && value.length > 2)
    return value.slice(1, -1).split(',').map(Number);
  return [];
}
