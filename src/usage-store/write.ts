import type { Sql, TransactionSql } from 'postgres';
import type { UsageEvent } from '../events/index.ts';
import { type Resolution, type RollupRow, rollupRows } from './rollup.ts';

const EVENT_COLUMNS = [
  'id',
  'at',
  'request_id',
  'method',
  'endpoint',
  'key_id',
  'tenant',
  'model',
  'provider',
  'upstream_model',
  'region',
  'zone',
  'status',
  'error_code',
  'stream',
  'stream_end',
  'input_tokens',
  'output_tokens',
  'cached_tokens',
  'cache_write_tokens',
  'reasoning_tokens',
  'usage_source',
  'cost_nanos',
  'latency_ms',
  'ttfb_ms',
  'attempts',
  'cache',
  'cache_tier',
  'route',
  'failures',
  'limits',
  'native',
  'template_id',
  'template_version',
  'guardrails',
] as const;

/** Partitions known to exist, per isolate and database (a new day creates its partition
 * once). A wrong entry (the partition was dropped elsewhere) costs one retry in writeEvents. */
const knownPartitions = new Set<string>();

function partitionKey(sql: Sql, name: string): string {
  const { host, port, database } = sql.options;
  return JSON.stringify([host, port, database, name]);
}

/** After a partition is dropped: a late event of that day creates it again. */
export function forgetPartition(sql: Sql, name: string): void {
  knownPartitions.delete(partitionKey(sql, name));
}

/** The day-partitioned tables: raw events by the request's day, payloads by their expiry day. */
export type PartitionedTable = 'usage_events' | 'request_payloads';

/** `usage_events_p20261201` for the UTC day 2026-12-01. */
export function partitionName(day: string, table: PartitionedTable = 'usage_events'): string {
  return `${table}_p${day.replaceAll('-', '')}`;
}

/** Creates the day partitions (YYYY-MM-DD, UTC) of `table` that do not exist yet. */
export async function ensurePartitions(
  sql: Sql,
  days: Iterable<string>,
  table: PartitionedTable = 'usage_events',
): Promise<void> {
  for (const day of new Set(days)) {
    const name = partitionName(day, table);
    const key = partitionKey(sql, name);
    if (knownPartitions.has(key)) continue;
    if (!/^\d{4}-\d{2}-\d{2}$/.test(day)) throw new Error(`not a day: ${day}`);
    const next = new Date(`${day}T00:00:00Z`);
    next.setUTCDate(next.getUTCDate() + 1);
    const to = next.toISOString().slice(0, 10);
    const bounds =
      table === 'usage_events'
        ? `FROM ('${day} 00:00:00+00') TO ('${to} 00:00:00+00')`
        : `FROM ('${day}') TO ('${to}')`;
    try {
      await sql.unsafe(
        `CREATE TABLE IF NOT EXISTS ${name} PARTITION OF ${table} FOR VALUES ${bounds}`,
      );
    } catch (err) {
      // Two writers creating the same partition at once: the loser sees a duplicate; the
      // partition is there either way.
      if (!/already exists/.test(String((err as Error).message))) throw err;
    }
    knownPartitions.add(key);
  }
}

/** Today's UTC day, YYYY-MM-DD. */
function today(): string {
  return new Date().toISOString().slice(0, 10);
}

/**
 * Writes a batch of events, their payloads and their rollups in one transaction. Idempotent:
 * an event whose (at, id) is already stored is skipped, and only the rows this insert added
 * are counted in the rollups, so a redelivered batch adds nothing; a payload already stored
 * (same expiry day and id) is skipped too, and one already past its expiry day is not
 * written. Returns how many event rows were new.
 */
export async function writeEvents(sql: Sql, events: readonly UsageEvent[]): Promise<number> {
  if (events.length === 0) return 0;
  const days = events.map((e) => e.at.slice(0, 10));
  const now = today();
  const payloads = events.filter((e) => e.payload !== undefined && e.payload.expires_on > now);
  const expiryDays = payloads.map((e) => e.payload!.expires_on);
  const ensure = async () => {
    await ensurePartitions(sql, days);
    await ensurePartitions(sql, expiryDays, 'request_payloads');
  };
  await ensure();
  try {
    return await insertBatch(sql, events, payloads);
  } catch (err) {
    if (!/no partition of relation/.test(String((err as Error).message))) throw err;
    for (const day of days) forgetPartition(sql, partitionName(day));
    for (const day of expiryDays) forgetPartition(sql, partitionName(day, 'request_payloads'));
    await ensure();
    return insertBatch(sql, events, payloads);
  }
}

function insertBatch(
  sql: Sql,
  events: readonly UsageEvent[],
  payloads: readonly UsageEvent[],
): Promise<number> {
  return sql.begin(async (tx) => {
    const rows = events.map((e) => ({
      ...e,
      route: e.route === null ? null : tx.json(e.route as never),
      failures: tx.json(e.failures),
      // Events from a gateway older than these fields (in the queue during a deploy).
      template_id: e.template_id ?? null,
      template_version: e.template_version ?? null,
      guardrails: tx.json((e.guardrails ?? []) as never),
    }));
    const inserted = await tx<{ id: string }[]>`
      INSERT INTO usage_events ${tx(rows, ...EVENT_COLUMNS)}
      ON CONFLICT (at, id) DO NOTHING
      RETURNING id`;
    const added = new Set(inserted.map((r) => r.id));
    const fresh = events.filter((e) => added.has(e.id));
    if (payloads.length > 0) {
      const payloadRows = payloads.map((e) => ({
        id: e.id,
        at: e.at,
        tenant: e.tenant,
        ...e.payload!,
      }));
      await tx`
        INSERT INTO request_payloads ${tx(payloadRows, ...PAYLOAD_COLUMNS)}
        ON CONFLICT (expires_on, id) DO NOTHING`;
    }
    await upsertRollups(tx, 'hour', rollupRows(fresh, 'hour'));
    await upsertRollups(tx, 'day', rollupRows(fresh, 'day'));
    return fresh.length;
  });
}

const PAYLOAD_COLUMNS = [
  'id',
  'expires_on',
  'at',
  'tenant',
  'prompt',
  'answer',
  'prompt_truncated',
  'answer_truncated',
] as const;

const ROLLUP_COLUMNS = [
  'bucket',
  'tenant',
  'key_id',
  'model',
  'provider',
  'region',
  'requests',
  'errors',
  'input_tokens',
  'output_tokens',
  'cached_tokens',
  'cache_write_tokens',
  'reasoning_tokens',
  'cost_nanos',
  'latency_ms_sum',
  'latency_hist',
  'ttfb_count',
  'ttfb_hist',
] as const;

async function upsertRollups(
  tx: TransactionSql,
  resolution: Resolution,
  rows: RollupRow[],
): Promise<void> {
  if (rows.length === 0) return;
  const table = resolution === 'hour' ? 'usage_rollup_hour' : 'usage_rollup_day';
  const values = rows.map((r) => ({
    ...r,
    latency_hist: `{${r.latency_hist.join(',')}}`,
    ttfb_hist: `{${r.ttfb_hist.join(',')}}`,
  }));
  await tx`
    INSERT INTO ${tx(table)} AS r (${tx(ROLLUP_COLUMNS)}) VALUES ${tx(values.map((v) => ROLLUP_COLUMNS.map((c) => v[c])))}
    ON CONFLICT (bucket, tenant, key_id, model, provider, region) DO UPDATE SET
      requests = r.requests + excluded.requests,
      errors = r.errors + excluded.errors,
      input_tokens = r.input_tokens + excluded.input_tokens,
      output_tokens = r.output_tokens + excluded.output_tokens,
      cached_tokens = r.cached_tokens + excluded.cached_tokens,
      cache_write_tokens = r.cache_write_tokens + excluded.cache_write_tokens,
      reasoning_tokens = r.reasoning_tokens + excluded.reasoning_tokens,
      cost_nanos = r.cost_nanos + excluded.cost_nanos,
      latency_ms_sum = r.latency_ms_sum + excluded.latency_ms_sum,
      latency_hist = usage_hist_add(r.latency_hist, excluded.latency_hist),
      ttfb_count = r.ttfb_count + excluded.ttfb_count,
      ttfb_hist = usage_hist_add(r.ttfb_hist, excluded.ttfb_hist)`;
}
