/**
 * tools/postgres: the real server when one is installed (CI installs Debian's), the embedded
 * PGlite otherwise; both take the migrations and the store's writes and reads.
 */
import postgres from 'postgres';
import { describe, expect, it } from 'vitest';
import { listRequests, parseRequestFilters, writeEvents } from '../../src/usage-store/index.ts';
import { migrate, postgresBinDir, startLocalPostgres } from '../../tools/postgres/index.ts';
import { makeEvent } from './helpers.ts';

describe.each([
  ['installed', false],
  ['embedded', true],
] as const)('local postgres (%s)', (_, preferEmbedded) => {
  it('migrates, stores and reads events, survives a pause, and stops', async () => {
    const pg = await startLocalPostgres({ preferEmbedded });
    const expected = preferEmbedded || postgresBinDir() === undefined ? 'pglite' : 'postgres';
    expect(pg.backend).toBe(expected);
    const sql = postgres(pg.url, { max: 1, onnotice: () => undefined });
    try {
      expect(await migrate(pg.url)).toEqual([
        '0001_usage_events',
        '0002_request_payloads',
        '0003_template_columns',
        '0004_guardrails',
      ]);
      if (pg.backend === 'postgres') {
        const [who] = await sql<{ u: string }[]>`SELECT current_user AS u`;
        expect(who!.u).toBe('postgres');
      }
      const events = [makeEvent({ tenant: 'local' }), makeEvent({ tenant: 'local' })];
      expect(await writeEvents(sql, events)).toBe(2);
      await sql.end();
      await pg.pause();
      await pg.resume();
      const again = postgres(pg.url, { max: 1, onnotice: () => undefined });
      const page = await listRequests(again, parseRequestFilters({ tenant: 'local' }));
      expect(page.data.map((e) => e.id).sort()).toEqual(events.map((e) => e.id).sort());
      await again.end();
    } finally {
      await sql.end().catch(() => undefined);
      await pg.stop();
    }
  }, 60_000);
});
