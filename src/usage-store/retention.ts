import type { Sql } from 'postgres';
import { ensurePartitions, forgetPartition } from './write.ts';

export interface Retention {
  /** Days raw events are kept (whole day partitions are dropped). */
  rawDays: number;
  hourlyDays: number;
  dailyDays: number;
}

export interface RetentionResult {
  droppedPartitions: string[];
  hourlyRowsDeleted: number;
  dailyRowsDeleted: number;
}

function dayOffset(now: Date, days: number): string {
  const d = new Date(now);
  d.setUTCHours(0, 0, 0, 0);
  d.setUTCDate(d.getUTCDate() + days);
  return d.toISOString().slice(0, 10);
}

/**
 * The retention job (the consumer's cron): drops every day partition of raw events that ends
 * on or before `now - rawDays` (a partition is dropped only once all of its day is past),
 * deletes rollup rows whose bucket is older than their own retention, and creates the next
 * days' partitions ahead of time.
 */
export async function applyRetention(
  sql: Sql,
  retention: Retention,
  now = new Date(),
): Promise<RetentionResult> {
  const cutoff = new Date(now.getTime() - retention.rawDays * 86_400_000);
  const partitions = await sql<{ name: string }[]>`
    SELECT c.relname AS name FROM pg_inherits i
    JOIN pg_class c ON c.oid = i.inhrelid JOIN pg_class p ON p.oid = i.inhparent
    WHERE p.relname = 'usage_events'`;
  const droppedPartitions: string[] = [];
  for (const { name } of partitions) {
    const m = /^usage_events_p(\d{4})(\d{2})(\d{2})$/.exec(name);
    if (!m) continue;
    const end = new Date(`${m[1]}-${m[2]}-${m[3]}T00:00:00Z`);
    end.setUTCDate(end.getUTCDate() + 1);
    if (end.getTime() <= cutoff.getTime()) {
      await sql.unsafe(`DROP TABLE IF EXISTS ${name}`);
      forgetPartition(sql, name);
      droppedPartitions.push(name);
    }
  }
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
    droppedPartitions: droppedPartitions.sort(),
    hourlyRowsDeleted: hourly.count,
    dailyRowsDeleted: daily.count,
  };
}
