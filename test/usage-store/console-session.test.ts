/**
 * A tenant-scoped console session reads only its tenant's rows of the request log and usage,
 * over a real PostgreSQL (tools/postgres). The gateway app (web-standard src/) runs in Node
 * here so it can reach the database directly; workerd's Hyperdrive path is covered by
 * test/e2e/usage-events.test.ts, the cookie itself by test/edge/admin-session.test.ts.
 */
import postgres, { type Sql } from 'postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp } from '../../src/app.ts';
import { loadConfig } from '../../src/config/index.ts';
import { writeEvents } from '../../src/usage-store/index.ts';
import { type LocalPostgres, migrate, startLocalPostgres } from '../../tools/postgres/index.ts';
import { makeEvent } from './helpers.ts';

const OPS = 'ops-admin-token-0123456789abcdef';
const ACME = 'acme-admin-token-0123456789abcdef';

let pg: LocalPostgres;
let sql: Sql;

beforeAll(async () => {
  pg = await startLocalPostgres();
  await migrate(pg.url);
  sql = postgres(pg.url, { max: 1, onnotice: () => undefined });
}, 60_000);

afterAll(async () => {
  await sql?.end();
  await pg?.stop();
});

describe('a tenant-scoped console session over the request log', () => {
  it("sees its tenant's requests and usage only; a full admin's session sees all", async () => {
    const acme = [makeEvent({ tenant: 'acme' }), makeEvent({ tenant: 'acme' })];
    const globex = [makeEvent({ tenant: 'globex' })];
    expect(await writeEvents(sql, [...acme, ...globex])).toBe(3);

    const config = loadConfig(
      {
        auth: { enabled: false },
        providers: {},
        models: {},
        admin: {
          tokens: { ops: OPS },
          tenantTokens: { 'acme-ops': { token: ACME, tenant: 'acme' } },
        },
      },
      {},
    );
    const app = createApp({ config, log: () => undefined, usageDb: { connectionString: pg.url } });
    const signIn = async (token: string) => {
      const res = await app.request('http://localhost/admin/session', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ token }),
      });
      expect(res.status).toBe(200);
      return res.headers.get('set-cookie')!.split(';')[0]!;
    };
    const get = async (path: string, cookie: string) => {
      const res = await app.request(`http://localhost${path}`, { headers: { cookie } });
      return { status: res.status, body: (await res.json()) as Record<string, unknown> };
    };
    const ids = (body: Record<string, unknown>) =>
      (body.data as { id: string }[]).map((e) => e.id).sort();

    const tenant = await signIn(ACME);
    const own = await get('/admin/requests?limit=500', tenant);
    expect(own.status).toBe(200);
    expect(ids(own.body)).toEqual(acme.map((e) => e.id).sort());
    expect((await get(`/admin/requests/${globex[0]!.id}`, tenant)).status).toBe(404);
    expect((await get(`/admin/requests/${acme[0]!.id}`, tenant)).status).toBe(200);
    const series = await get('/admin/usage?group_by=tenant', tenant);
    expect(series.status).toBe(200);
    const groups = new Set((series.body.data as { group: string }[]).map((p) => p.group));
    expect([...groups]).toEqual(['acme']);

    const admin = await signIn(OPS);
    const all = await get('/admin/requests?limit=500', admin);
    expect(ids(all.body)).toEqual([...acme, ...globex].map((e) => e.id).sort());
  }, 60_000);
});
