/**
 * The consumer Worker's cron (workers/usage-consumer.ts `scheduled`) through the real
 * runtime: `wrangler dev --test-scheduled` of workers/usage-consumer.wrangler.toml, its
 * Hyperdrive binding on a real PostgreSQL (tools/postgres), triggered by `/__scheduled`.
 * Raw events, hourly rollups, daily rollups and captured payloads each have their own
 * retention (here 10, 20 and 40 days from the Worker's vars; payloads by their expiry day),
 * and the job drops only what is past it.
 */
import postgres, { type Sql } from 'postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensurePartitions, partitionName, writeEvents } from '../../src/usage-store/index.ts';
import { type LocalPostgres, migrate, startLocalPostgres } from '../../tools/postgres/index.ts';
import { dayFromToday, makeEvent } from '../usage-store/helpers.ts';
import { freePort, type Running, startProcess, wranglerDevArgs } from './processes.ts';

const TENANT = 'retention-e2e';
const DAY = 86_400_000;
/** Events this many days old (midday margins: no boundary is within hours of `now`). */
const AGES = [45, 25, 12, 5];
/** Whole days since `at` (a rollup bucket starts up to an hour, or a day, before its event). */
const ageOf = (at: Date) => Math.floor((Date.now() - at.getTime()) / DAY);

let pg: LocalPostgres;
let sql: Sql;
let dev: Running | undefined;
const payloadDays = {
  expired: [dayFromToday(-1), dayFromToday(0)],
  kept: [dayFromToday(1), dayFromToday(3)],
};

beforeAll(async () => {
  pg = await startLocalPostgres();
  await migrate(pg.url);
  sql = postgres(pg.url, { max: 2, onnotice: () => undefined });
  const now = Date.now();
  await writeEvents(
    sql,
    AGES.map((age) => makeEvent({ tenant: TENANT, at: new Date(now - age * DAY).toISOString() })),
  );
  // Payload partitions as the consumer leaves them: by expiry day.
  await ensurePartitions(sql, [...payloadDays.expired, ...payloadDays.kept], 'request_payloads');
  for (const day of [...payloadDays.expired, ...payloadDays.kept]) {
    await sql`INSERT INTO request_payloads (id, expires_on, at, tenant, prompt)
      VALUES (${crypto.randomUUID()}, ${day}, now(), ${TENANT}, 'captured text')`;
  }
}, 60_000);

afterAll(async () => {
  await dev?.stop();
  await sql?.end();
  await pg?.stop();
});

const events = async () =>
  (await sql<{ at: Date }[]>`SELECT at FROM usage_events WHERE tenant = ${TENANT}`)
    .map((r) => ageOf(r.at))
    .sort((a, b) => b - a);
const buckets = async (table: 'usage_rollup_hour' | 'usage_rollup_day') =>
  (await sql<{ bucket: Date }[]>`SELECT bucket FROM ${sql(table)} WHERE tenant = ${TENANT}`)
    .map((r) => ageOf(r.bucket))
    .sort((a, b) => b - a);
const payloads = async () =>
  (
    await sql<{ day: string }[]>`
      SELECT expires_on::text AS day FROM request_payloads WHERE tenant = ${TENANT} ORDER BY 1`
  ).map((r) => r.day);

describe("the consumer's cron through wrangler dev", () => {
  it('drops only what is past each retention: raw events, rollups, payloads by their own days', async () => {
    // Everything is there before the cron runs.
    expect(await events()).toEqual(AGES);
    expect(await buckets('usage_rollup_hour')).toEqual(AGES);
    expect(await buckets('usage_rollup_day')).toEqual(AGES);
    expect(await payloads()).toEqual([...payloadDays.expired, ...payloadDays.kept]);

    const port = await freePort();
    const args = await wranglerDevArgs(port, {
      configs: ['workers/usage-consumer.wrangler.toml'],
      extra: ['--test-scheduled'],
      vars: {
        USAGE_RAW_RETENTION_DAYS: '10',
        USAGE_HOURLY_RETENTION_DAYS: '20',
        USAGE_DAILY_RETENTION_DAYS: '40',
      },
    });
    // The Worker has no fetch handler: the first `/__scheduled` that answers 200 is the
    // runtime being up, and the cron's run (the job is idempotent if it runs more than once).
    dev = await startProcess(args, {
      port,
      readyPath: '/__scheduled?cron=17+*+*+*+*',
      env: { CLOUDFLARE_HYPERDRIVE_LOCAL_CONNECTION_STRING_USAGE_DB: pg.url },
    });
    // The job runs in waitUntil: wait (bounded) for the line it logs when it is done.
    const until = Date.now() + 60_000;
    while (!dev.output().includes('"msg":"usage retention"') && Date.now() < until) {
      await new Promise((r) => setTimeout(r, 200));
    }
    const line = dev
      .output()
      .split('\n')
      .find((l) => l.includes('"msg":"usage retention"'));
    expect(line, dev.output().slice(-4000)).toBeDefined();
    const result = JSON.parse(line!.slice(line!.indexOf('{'))) as {
      droppedPartitions: string[];
      droppedPayloadPartitions: string[];
    };
    const day = (age: number) => new Date(Date.now() - age * DAY).toISOString().slice(0, 10);
    expect(result.droppedPartitions).toEqual(
      expect.arrayContaining([45, 25, 12].map((age) => partitionName(day(age)))),
    );
    expect(result.droppedPartitions).not.toContain(partitionName(day(5)));
    expect(result.droppedPayloadPartitions).toEqual(
      expect.arrayContaining(payloadDays.expired.map((d) => partitionName(d, 'request_payloads'))),
    );

    // Raw events: 10 days. Hourly rollups: 20. Daily rollups: 40. Payloads: their expiry day.
    expect(await events()).toEqual([5]);
    expect(await buckets('usage_rollup_hour')).toEqual([12, 5]);
    expect(await buckets('usage_rollup_day')).toEqual([25, 12, 5]);
    expect(await payloads()).toEqual(payloadDays.kept);
    // And the next days' partitions are made ahead.
    const [ahead] = await sql<{ n: number }[]>`
      SELECT count(*)::int AS n FROM pg_class WHERE relname = ${partitionName(dayFromToday(2))}`;
    expect(ahead!.n).toBe(1);
  }, 180_000);
});
