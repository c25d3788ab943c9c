import type { Sql } from 'postgres';
import { ensurePartitions, forgetPartition, type PartitionedTable } from './write.ts';

export interface Retention {
  /** Days raw events are kept (whole day partitions are dropped). */
  rawDays: number;
  hourlyDays: number;
  dailyDays: number;
}

export interface RetentionResult {
  droppedPartitions: string[];
  /** Partitions of `request_payloads` whose expiry day has begun. */
  droppedPayloadPartitions: string[];
  hourlyRowsDeleted: number;
  dailyRowsDeleted: number;
}

function dayOffset(now: Date, days: number): string {
  const d = new Date(now);
  d.setUTCHours(0, 0, 0, 0);
  d.setUTCDate(d.getUTCDate() + days);
  return d.toISOString().slice(0, 10);
}

/** Drops the day partitions of `table` for which `expired(start of day, start of next day)`. */
async function dropPartitions(
  sql: Sql,
  table: PartitionedTable,
  expired: (start: Date, end: Date) => boolean,
): Promise<string[]> {
  const partitions = await sql<{ name: string }[]>`
    SELECT c.relname AS name FROM pg_inherits i
    JOIN pg_class c ON c.oid = i.inhrelid JOIN pg_class p ON p.oid = i.inhparent
    WHERE p.relname = ${table}`;
  const pattern = new RegExp(`^${table}_p(\\d{4})(\\d{2})(\\d{2})$`);
  const dropped: string[] = [];
  for (const { name } of partitions) {
    const m = pattern.exec(name);
    if (!m) continue;
    const start = new Date(`${m[1]}-${m[2]}-${m[3]}T00:00:00Z`);
    const end = new Date(start);
    end.setUTCDate(end.getUTCDate() + 1);
    if (expired(start, end)) {
      await sql.unsafe(`DROP TABLE IF EXISTS ${name}`);
      forgetPartition(sql, name);
      dropped.push(name);
    }
  }
  return dropped.sort();
}

/**
 * The retention job (the consumer's cron): drops every day partition of raw events that ends
 * on or before `now - rawDays` (a partition is dropped only once all of its day is past),
 * every partition of captured payloads whose expiry day has begun (each payload carries its
 * tenant's retention in that day), deletes rollup rows whose bucket is older than their own
 * retention, and creates the next days' event partitions ahead of time.
 */
export async function applyRetention(
  sql: Sql,
  retention: Retention,
  now = new Date(),
): Promise<RetentionResult> {
  const cutoff = now.getTime() - retention.rawDays * 86_400_000;
  const droppedPartitions = await dropPartitions(
    sql,
    'usage_events',
    (_start, end) => end.getTime() <= cutoff,
  );
  const droppedPayloadPartitions = await dropPartitions(
    sql,
    'request_payloads',
    (start) => start.getTime() <= now.getTime(),
  );
  const hourly = await sql`
    DELETE FROM usage_rollup_hour
    WHERE bucket < ${new Date(now.getTime() - retention.hourlyDays * 86_400_000)}`;
  const daily = await sql`
    DELETE FROM usage_rollup_day
    WHERE bucket < ${new Date(now.getTime() - retention.dailyDays * 86_400_000)}`;
  await ensurePartitions(
    sql,
    [0, 1, 2].map((d) => dayOffset(now, d)),
  );
  return {
    droppedPartitions,
    droppedPayloadPartitions,
    hourlyRowsDeleted: hourly.count,
    dailyRowsDeleted: daily.count,
  };
}
