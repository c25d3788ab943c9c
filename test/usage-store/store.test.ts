/**
 * The usage store against a real PostgreSQL (tools/postgres: Debian's postgres, or PGlite
 * when none is installed): migrations, idempotent writes, a redelivered batch through the
 * consumer, rollups equal to sums over the raw rows, retention.
 */
import postgres, { type Sql } from 'postgres';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { UsageEvent } from '../../src/events/index.ts';
import {
  type ConsumerMessage,
  consumeBatch,
  consumerConfigSchema,
} from '../../src/usage-store/consumer.ts';
import {
  applyRetention,
  connectUsageStore,
  ensurePartitions,
  getRequest,
  listRequests,
  parseRequestFilters,
  parseSeriesQuery,
  partitionName,
  usageSeries,
  writeEvents,
} from '../../src/usage-store/index.ts';
import { type LocalPostgres, migrate, startLocalPostgres } from '../../tools/postgres/index.ts';
import { dayFromToday, makeEvent, makePayload } from './helpers.ts';

let pg: LocalPostgres;
let sql: Sql;

beforeAll(async () => {
  pg = await startLocalPostgres();
  await migrate(pg.url);
  sql = postgres(pg.url, { max: 2, onnotice: () => undefined });
}, 60_000);

afterAll(async () => {
  await sql?.end();
  await pg?.stop();
});

async function count(where = sql``): Promise<number> {
  const [row] = await sql<{ n: number }[]>`SELECT count(*)::int AS n FROM usage_events ${where}`;
  return row!.n;
}

class Message implements ConsumerMessage {
  acked = false;
  retried: number | undefined;
  readonly id: string;
  readonly body: unknown;
  readonly attempts: number;
  constructor(body: unknown, attempts = 1) {
    this.id = crypto.randomUUID();
    this.body = body;
    this.attempts = attempts;
  }
  ack() {
    this.acked = true;
  }
  retry(options?: { delaySeconds?: number }) {
    this.retried = options?.delaySeconds ?? 0;
  }
}

const config = consumerConfigSchema.parse({});

describe('migrations', () => {
  it('apply once: a second run applies nothing and the schema is there', async () => {
    expect(await migrate(pg.url)).toEqual([]);
    const [row] = await sql<{ n: number }[]>`SELECT count(*)::int AS n FROM schema_migrations`;
    expect(row!.n).toBeGreaterThan(0);
    const [kind] = await sql<{ relkind: string }[]>`
      SELECT relkind FROM pg_class WHERE relname = 'usage_events'`;
    expect(kind!.relkind).toBe('p'); // partitioned
  });
});

describe('writes', () => {
  it('are idempotent on the event id, rollups included', async () => {
    const tenant = 'idem';
    const events = Array.from({ length: 40 }, () => makeEvent({ tenant }));
    expect(await writeEvents(sql, events)).toBe(40);
    expect(await writeEvents(sql, events.slice(0, 25))).toBe(0);
    expect(await count(sql`WHERE tenant = ${tenant}`)).toBe(40);
    const [r] = await sql<{ n: string }[]>`
      SELECT sum(requests) AS n FROM usage_rollup_hour WHERE tenant = ${tenant}`;
    expect(Number(r!.n)).toBe(40);
  });

  it('keep the template and version; an event without them (older gateway) stores nulls', async () => {
    const tenant = 'templated';
    const withTemplate = makeEvent({ tenant, template_id: 'support', template_version: 3 });
    const { template_id: _, template_version: __, ...older } = makeEvent({ tenant });
    expect(await writeEvents(sql, [withTemplate, older as UsageEvent])).toBe(2);
    const rows = await sql<
      { id: string; template_id: string | null; template_version: number | null }[]
    >`
      SELECT id, template_id, template_version FROM usage_events WHERE tenant = ${tenant}`;
    expect(
      Object.fromEntries(rows.map((r) => [r.id, [r.template_id, r.template_version]])),
    ).toEqual({
      [withTemplate.id]: ['support', 3],
      [older.id]: [null, null],
    });
  });

  it('store guardrail decisions as a queryable jsonb column', async () => {
    const decision = { policy: 'pii', check: 'pii', action: 'mask', on: 'request', matches: 2 };
    const flagged = makeEvent({ tenant: 'guarded', guardrails: [decision as never] });
    await writeEvents(sql, [flagged, makeEvent({ tenant: 'guarded' })]);
    const rows = await sql<{ id: string; guardrails: unknown }[]>`
      SELECT id, guardrails FROM usage_events
      WHERE tenant = 'guarded' AND guardrails @> ${sql.json([{ check: 'pii' }])}`;
    expect(rows).toEqual([{ id: flagged.id, guardrails: [decision] }]);
  });

  it('a redelivered batch through the consumer adds no row and no count', async () => {
    const tenant = 'redelivered';
    const bodies = Array.from({ length: 30 }, () => makeEvent({ tenant }));
    const first = bodies.map((b) => new Message(b));
    const connect = () => connectUsageStore(pg.url);
    const once = await consumeBatch('usage-events', first, connect, config);
    expect(once).toMatchObject({ written: 30, duplicates: 0 });
    expect(first.every((m) => m.acked)).toBe(true);
    const again = bodies.map((b) => new Message(b, 2));
    const twice = await consumeBatch('usage-events', again, connect, config);
    expect(twice).toMatchObject({ written: 0, duplicates: 30 });
    expect(again.every((m) => m.acked)).toBe(true);
    expect(await count(sql`WHERE tenant = ${tenant}`)).toBe(30);
    const [r] = await sql<{ n: string }[]>`
      SELECT sum(requests) AS n FROM usage_rollup_day WHERE tenant = ${tenant}`;
    expect(Number(r!.n)).toBe(30);
  });

  it('a batch that cannot be written is retried with backoff, not acknowledged', async () => {
    const broken = () => postgres('postgres://postgres:x@127.0.0.1:1/none', { connect_timeout: 2 });
    const messages = [new Message(makeEvent(), 1), new Message(makeEvent(), 3)];
    const outcome = await consumeBatch('usage-events', messages, broken, config);
    expect(outcome.retried).toBe(2);
    expect(messages.map((m) => [m.acked, m.retried])).toEqual([
      [false, config.USAGE_RETRY_BASE_SECONDS],
      [false, config.USAGE_RETRY_BASE_SECONDS * 4],
    ]);
  });

  it('says so when events go to the dead-letter queue, writes dead letters, logs the lost', async () => {
    const lines: string[] = [];
    const spies = (['error', 'warn', 'log'] as const).map((level) =>
      vi.spyOn(console, level).mockImplementation((line: unknown) => {
        lines.push(String(line));
      }),
    );
    try {
      const broken = () =>
        postgres('postgres://postgres:x@127.0.0.1:1/none', { connect_timeout: 2 });
      const last = config.USAGE_MAX_DELIVERIES;
      const dying = [new Message(makeEvent(), last), new Message(makeEvent(), 1)];
      await consumeBatch('usage-events', dying, broken, config);
      const toDlq = lines.map((l) => JSON.parse(l)).find((l) => /dead-letter queue/.test(l.msg));
      expect(toDlq).toMatchObject({
        given_up: 1,
        event_ids: [(dying[0]!.body as { id: string }).id],
      });

      const dead = Array.from({ length: 3 }, () => new Message(makeEvent({ tenant: 'dlq' }), 1));
      const outcome = await consumeBatch(
        config.USAGE_DLQ_NAME,
        dead,
        () => connectUsageStore(pg.url),
        config,
      );
      expect(outcome.written).toBe(3);
      expect(await count(sql`WHERE tenant = 'dlq'`)).toBe(3);
      expect(lines.some((l) => JSON.parse(l).dead_lettered === 3)).toBe(true);

      const lost = [new Message(makeEvent(), last)];
      await consumeBatch(config.USAGE_DLQ_NAME, lost, broken, config);
      expect(
        lines.map((l) => JSON.parse(l)).find((l) => l.msg === 'usage events lost'),
      ).toMatchObject({
        given_up: 1,
      });
    } finally {
      for (const spy of spies) spy.mockRestore();
    }
  });

  it('an invalid body is acknowledged and counted, the valid ones written', async () => {
    const good = makeEvent({ tenant: 'mixed-batch' });
    const messages = [new Message({ nope: true }), new Message(good)];
    const outcome = await consumeBatch(
      'usage-events',
      messages,
      () => connectUsageStore(pg.url),
      config,
    );
    expect(outcome).toMatchObject({ invalid: 1, written: 1 });
    expect(messages.every((m) => m.acked)).toBe(true);
  });
});

describe('rollups', () => {
  it('equal the sums over the raw events, per hour and per day', async () => {
    const base = Date.parse('2026-11-20T10:00:00Z');
    const events: UsageEvent[] = [];
    for (let i = 0; i < 300; i++) {
      events.push(
        makeEvent({
          tenant: `roll-${i % 3}`,
          model: i % 2 ? 'gpt-4o' : 'gpt-4o-mini',
          key_id: `key_${i % 5}`,
          status: i % 10 === 0 ? 502 : i % 7 === 0 ? 429 : 200,
          at: new Date(base + i * 7 * 60_000).toISOString(), // spans ~35 h
        }),
      );
    }
    // In several batches, one of them twice.
    for (let i = 0; i < events.length; i += 64) await writeEvents(sql, events.slice(i, i + 64));
    await writeEvents(sql, events.slice(64, 128));
    for (const [table, unit] of [
      ['usage_rollup_hour', 'hour'],
      ['usage_rollup_day', 'day'],
    ] as const) {
      const mismatches = await sql`
        WITH raw AS (
          SELECT date_trunc(${unit}, at, 'UTC') AS bucket, coalesce(tenant, '') AS tenant,
            coalesce(key_id, '') AS key_id, coalesce(model, '') AS model,
            coalesce(provider, '') AS provider, coalesce(region, '') AS region,
            count(*) AS requests, count(*) FILTER (WHERE status >= 400) AS errors,
            sum(input_tokens) AS input_tokens, sum(output_tokens) AS output_tokens,
            sum(cached_tokens) AS cached_tokens, sum(reasoning_tokens) AS reasoning_tokens,
            sum(cost_nanos) AS cost_nanos, sum(latency_ms) AS latency_ms_sum
          FROM usage_events WHERE tenant LIKE 'roll-%' GROUP BY 1, 2, 3, 4, 5, 6)
        SELECT * FROM raw FULL JOIN ${sql(table)} r USING (bucket, tenant, key_id, model, provider, region)
        WHERE (raw.tenant IS NULL AND r.tenant LIKE 'roll-%') OR (r.tenant IS NULL AND raw.tenant IS NOT NULL)
          OR raw.requests <> r.requests OR raw.errors <> r.errors
          OR raw.input_tokens <> r.input_tokens OR raw.output_tokens <> r.output_tokens
          OR raw.cached_tokens <> r.cached_tokens OR raw.reasoning_tokens <> r.reasoning_tokens
          OR raw.cost_nanos <> r.cost_nanos OR raw.latency_ms_sum <> r.latency_ms_sum
          OR (SELECT sum(x) FROM unnest(r.latency_hist) x) <> r.requests`;
      expect(mismatches, table).toEqual([]);
    }
    const [rows] = await sql<{ n: number }[]>`
      SELECT count(*)::int AS n FROM usage_rollup_hour WHERE tenant LIKE 'roll-%'`;
    expect(rows!.n).toBeGreaterThan(30);
    const series = await usageSeries(
      sql,
      parseSeriesQuery({
        group_by: 'tenant',
        resolution: 'day',
        from: '2026-11-20T00:00:00Z',
        to: '2026-11-23T00:00:00Z',
      }),
    );
    const roll = series.filter((p) => p.group?.startsWith('roll-'));
    expect(roll.reduce((s, p) => s + p.requests, 0)).toBe(300);
    expect(roll.reduce((s, p) => s + p.errors, 0)).toBe(
      events.filter((e) => e.status >= 400).length,
    );
    expect(roll.reduce((s, p) => s + p.cost_nanos, 0)).toBe(
      events.reduce((s, e) => s + e.cost_nanos, 0),
    );
  });
});

describe('keyset pagination', () => {
  it('pages through every row once, newest first, while rows arrive', async () => {
    const tenant = 'pages';
    const start = Date.parse('2026-11-25T12:00:00Z');
    // Several events share a millisecond: the id breaks the tie.
    const events = Array.from({ length: 53 }, (_, i) =>
      makeEvent({ tenant, at: new Date(start + Math.floor(i / 3) * 1000).toISOString() }),
    );
    await writeEvents(sql, events);
    const seen: string[] = [];
    let cursor: string | undefined;
    let pages = 0;
    do {
      const page = await listRequests(
        sql,
        parseRequestFilters({
          tenant,
          limit: '8',
          from: '2026-11-25T00:00:00Z',
          to: '2026-11-26T00:00:00Z',
          ...(cursor ? { cursor } : {}),
        }),
      );
      seen.push(...page.data.map((e) => e.id));
      cursor = page.next_cursor ?? undefined;
      pages++;
      // New rows arrive between pages (newer, and one as old as the oldest page).
      await writeEvents(sql, [
        makeEvent({ tenant, at: new Date(start + 60_000 + pages).toISOString() }),
      ]);
    } while (cursor);
    const expected = [...events]
      .sort((a, b) => (a.at === b.at ? (a.id < b.id ? 1 : -1) : a.at < b.at ? 1 : -1))
      .map((e) => e.id);
    expect(pages).toBe(7);
    expect(seen).toEqual(expected);
  });
});

describe('retention', () => {
  it('drops the day partitions past it, and only those; rollups by their own', async () => {
    const now = new Date('2026-12-01T06:00:00Z');
    const days = ['2026-10-30', '2026-10-31', '2026-11-01', '2026-11-02'];
    await writeEvents(
      sql,
      days.map((d) => makeEvent({ tenant: 'retention', at: `${d}T12:00:00.000Z` })),
    );
    // rawDays 30: the cutoff is 2026-11-01T06:00Z; 10-30 and 10-31 are wholly before it.
    const result = await applyRetention(sql, { rawDays: 30, hourlyDays: 31, dailyDays: 40 }, now);
    expect(result.droppedPartitions).toEqual(
      expect.arrayContaining([partitionName('2026-10-30'), partitionName('2026-10-31')]),
    );
    expect(result.droppedPartitions).not.toContain(partitionName('2026-11-01'));
    const left = await sql<{ at: Date }[]>`
      SELECT at FROM usage_events WHERE tenant = 'retention' ORDER BY at`;
    expect(left.map((r) => r.at.toISOString().slice(0, 10))).toEqual(['2026-11-01', '2026-11-02']);
    // Hourly rollups: cutoff 2026-10-31T06:00Z; daily: 2026-10-22T06:00Z.
    const hours = await sql<{ bucket: Date }[]>`
      SELECT bucket FROM usage_rollup_hour WHERE tenant = 'retention' ORDER BY bucket`;
    expect(hours.map((r) => r.bucket.toISOString())).toEqual([
      '2026-10-31T12:00:00.000Z',
      '2026-11-01T12:00:00.000Z',
      '2026-11-02T12:00:00.000Z',
    ]);
    const dayRows = await sql<{ n: number }[]>`
      SELECT count(*)::int AS n FROM usage_rollup_day WHERE tenant = 'retention'`;
    expect(dayRows[0]!.n).toBe(4);
    // Tomorrow's partitions are made ahead.
    const [ahead] = await sql<{ n: number }[]>`
      SELECT count(*)::int AS n FROM pg_class WHERE relname = ${partitionName('2026-12-03')}`;
    expect(ahead!.n).toBe(1);
  });
});

describe('captured payloads', () => {
  const payloads = async (ids: string[]) =>
    sql<{ id: string; prompt: string; expires_on: string }[]>`
      SELECT id::text, prompt, expires_on::text FROM request_payloads WHERE id IN ${sql(ids)}`;

  it('are written with their event, once: a redelivery adds none', async () => {
    const events = Array.from({ length: 5 }, (_, i) =>
      makeEvent({ tenant: 'capture', payload: makePayload(`prompt ${i}`, dayFromToday(7)) }),
    );
    const plain = makeEvent({ tenant: 'capture' });
    const connect = () => connectUsageStore(pg.url);
    const batch = [...events, plain].map((e) => new Message(e));
    expect(await consumeBatch('usage-events', batch, connect, config)).toMatchObject({
      written: 6,
    });
    const again = [...events, plain].map((e) => new Message(e, 2));
    expect(await consumeBatch('usage-events', again, connect, config)).toMatchObject({
      duplicates: 6,
    });
    const stored = await payloads([...events, plain].map((e) => e.id));
    expect(stored.map((r) => r.prompt).sort()).toEqual(events.map((_, i) => `prompt ${i}`));
    expect(stored.every((r) => r.expires_on === dayFromToday(7))).toBe(true);
  });

  it('one already past its expiry day is not written (its event is)', async () => {
    const late = makeEvent({ payload: makePayload('late', dayFromToday(0)) });
    expect(await writeEvents(sql, [late])).toBe(1);
    expect(await payloads([late.id])).toEqual([]);
  });

  it('an event read by id carries its payload; other events and other tenants do not', async () => {
    const event = makeEvent({
      tenant: 'capture',
      payload: makePayload('read me', dayFromToday(3)),
    });
    const plain = makeEvent({ tenant: 'capture' });
    await writeEvents(sql, [event, plain]);
    expect((await getRequest(sql, event.id, 'capture'))?.payload).toEqual(event.payload);
    expect((await getRequest(sql, event.id, undefined))?.payload).toMatchObject({
      prompt: 'read me',
    });
    expect(await getRequest(sql, event.id, 'someone-else')).toBeUndefined();
    expect((await getRequest(sql, plain.id, 'capture'))?.payload).toBeNull();
  });

  it('a bad payload makes the message invalid, not a half-written row', async () => {
    const bad = new Message({ ...makeEvent(), payload: { prompt: 42 } });
    const outcome = await consumeBatch(
      'usage-events',
      [bad],
      () => connectUsageStore(pg.url),
      config,
    );
    expect(outcome).toMatchObject({ invalid: 1, written: 0 });
  });
});

describe('payload retention', () => {
  it('drops the payload partitions whose expiry day has begun, by their own days', async () => {
    // Partitions as earlier writes left them: expiry yesterday, today, tomorrow, in 5 days.
    const expired = [dayFromToday(-1), dayFromToday(0)];
    const kept = [dayFromToday(1), dayFromToday(5)];
    await ensurePartitions(sql, [...expired, ...kept], 'request_payloads');
    for (const day of [...expired, ...kept]) {
      await sql`INSERT INTO request_payloads (id, expires_on, at, tenant, prompt)
        VALUES (${crypto.randomUUID()}, ${day}, now(), 'payload-retention', 'x')`;
    }
    const result = await applyRetention(
      sql,
      { rawDays: 3_650, hourlyDays: 3_650, dailyDays: 3_650 },
      new Date(),
    );
    expect(result.droppedPayloadPartitions).toEqual(
      expect.arrayContaining(expired.map((d) => partitionName(d, 'request_payloads'))),
    );
    for (const day of kept) {
      expect(result.droppedPayloadPartitions).not.toContain(partitionName(day, 'request_payloads'));
    }
    expect(result.droppedPartitions).toEqual([]);
    const left = await sql<{ day: string }[]>`
      SELECT expires_on::text AS day FROM request_payloads
      WHERE tenant = 'payload-retention' ORDER BY 1`;
    expect(left.map((r) => r.day)).toEqual(kept);
  });
});
