/**
 * Applies the usage store's migrations (src/usage-store/migrations/NNNN_name.sql, in order),
 * each once, in its own transaction, under an advisory lock (two runs at once apply each
 * migration once). Idempotent: applied versions are recorded in `schema_migrations`.
 *
 * CLI (`npm run db:migrate`): DATABASE_URL=postgres://... node tools/postgres/migrate.ts
 */
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import postgres from 'postgres';

export const MIGRATIONS_DIR = join(
  dirname(fileURLToPath(import.meta.url)),
  '../../src/usage-store/migrations',
);
/** Any fixed number: the lock that serializes migration runs. */
const LOCK_ID = 815_015;

/** Applies what is missing; returns the versions applied by this run. */
export async function migrate(url: string, dir = MIGRATIONS_DIR): Promise<string[]> {
  const files = readdirSync(dir)
    .filter((f) => /^\d{4}_[\w-]+\.sql$/.test(f))
    .sort();
  const sql = postgres(url, { max: 1, onnotice: () => undefined });
  const applied: string[] = [];
  try {
    await sql`SELECT pg_advisory_lock(${LOCK_ID})`;
    await sql`CREATE TABLE IF NOT EXISTS schema_migrations (
      version text PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())`;
    const done = new Set(
      (await sql<{ version: string }[]>`SELECT version FROM schema_migrations`).map(
        (r) => r.version,
      ),
    );
    for (const file of files) {
      const version = file.replace(/\.sql$/, '');
      if (done.has(version)) continue;
      const text = readFileSync(join(dir, file), 'utf8');
      await sql.begin(async (tx) => {
        await tx.unsafe(text);
        await tx`INSERT INTO schema_migrations (version) VALUES (${version})`;
      });
      applied.push(version);
    }
  } finally {
    await sql`SELECT pg_advisory_unlock(${LOCK_ID})`.catch(() => undefined);
    await sql.end({ timeout: 5 });
  }
  return applied;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const url = process.env.DATABASE_URL;
  if (!url) {
    console.error('db:migrate: set DATABASE_URL=postgres://user@host:port/db');
    process.exit(2);
  }
  migrate(url).then(
    (applied) =>
      console.log(`db:migrate: ${applied.length ? `applied ${applied.join(', ')}` : 'up to date'}`),
    (err: unknown) => {
      console.error(`db:migrate: ${err instanceof Error ? err.message : String(err)}`);
      process.exit(1);
    },
  );
}
