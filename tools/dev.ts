/**
 * `npm run dev`: the whole gateway on this machine, no cloud account needed.
 *
 * - Redis: a local Upstash (redis-server behind the Upstash REST bridge, or an embedded
 *   store when redis-server is not installed), unless UPSTASH_REDIS_REST_URL/TOKEN are set.
 * - Usage store: a local PostgreSQL (tools/postgres: Debian's postgres, or embedded PGlite),
 *   migrated, unless USAGE_DATABASE_URL is set; the usage-event consumer runs beside the gateway.
 * - A development API key is seeded and printed: GATEWAY_DEV_KEY, default
 *   sk-gw-localdevkey000000000000000000000. Admin token: ADMIN_TOKEN, default
 *   dev-admin-token-change-me.
 * - Upstream: with OPENAI_API_KEY set (environment or .dev.vars) requests go to OpenAI (or to
 *   OPENAI_BASE_URL); without it, a local fake OpenAI upstream (tools/fakes/openai.ts).
 * Then `wrangler dev` serves the Worker on http://127.0.0.1:8787 (PORT to change it).
 */
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Redis } from '@upstash/redis/cloudflare';
import { createKeySchema, KeyStore } from '../src/auth/index.ts';
import { startFakeOpenAI } from './fakes/openai.ts';
import { migrate, startLocalPostgres } from './postgres/index.ts';
import { startLocalUpstash } from './upstash/index.ts';

const DEFAULT_DEV_KEY = 'sk-gw-localdevkey000000000000000000000';
const DEFAULT_ADMIN_TOKEN = 'dev-admin-token-change-me';

const port = Number(process.env.PORT ?? 8787);
const devKey = process.env.GATEWAY_DEV_KEY ?? DEFAULT_DEV_KEY;
const adminToken = process.env.ADMIN_TOKEN ?? DEFAULT_ADMIN_TOKEN;
const vars: string[] = [`ADMIN_TOKEN:${adminToken}`];
const stops: (() => Promise<void>)[] = [];

if (!process.env.OPENAI_API_KEY && !devVarsHave('OPENAI_API_KEY')) {
  const fake = await startFakeOpenAI({ port: Number(process.env.FAKE_OPENAI_PORT ?? 0) });
  stops.push(() => fake.close());
  vars.push(`OPENAI_BASE_URL:${fake.url}/v1`, 'OPENAI_API_KEY:sk-fake-local-upstream');
  console.log(`dev: no OPENAI_API_KEY set; using the local fake OpenAI upstream at ${fake.url}`);
} else {
  for (const name of ['OPENAI_API_KEY', 'OPENAI_BASE_URL']) {
    if (process.env[name]) vars.push(`${name}:${process.env[name]}`);
  }
}

let redisUrl = process.env.UPSTASH_REDIS_REST_URL;
let redisToken = process.env.UPSTASH_REDIS_REST_TOKEN;
if (!redisUrl || !redisToken) {
  const upstash = await startLocalUpstash();
  stops.push(() => upstash.stop());
  redisUrl = upstash.url;
  redisToken = upstash.token;
  console.log(`dev: local Upstash Redis (${upstash.backend}) at ${redisUrl}`);
  const store = new KeyStore(new Redis({ url: redisUrl, token: redisToken }));
  await store.create(createKeySchema.parse({ name: 'development key' }), 'dev', devKey);
}
vars.push(`UPSTASH_REDIS_REST_URL:${redisUrl}`, `UPSTASH_REDIS_REST_TOKEN:${redisToken}`);

// --- usage store (issue #15): a local PostgreSQL (or USAGE_DATABASE_URL), migrated; the
// usage-event consumer Worker runs in the same `wrangler dev` (shared queue), and Hyperdrive
// of both Workers points at the database.
let usageDbUrl = process.env.USAGE_DATABASE_URL;
if (!usageDbUrl) {
  const pg = await startLocalPostgres();
  stops.push(() => pg.stop());
  usageDbUrl = pg.url;
  console.log(`dev: local PostgreSQL (${pg.backend}) at ${usageDbUrl}`);
}
const migrated = await migrate(usageDbUrl);
console.log(`dev: usage store migrations: ${migrated.length ? migrated.join(', ') : 'up to date'}`);
const usageConfigs = ['-c', 'wrangler.toml', '-c', 'workers/usage-consumer.wrangler.toml'];
// --- end usage store

const args = [
  'dev',
  ...usageConfigs,
  '--ip',
  '127.0.0.1',
  '--port',
  String(port),
  '--show-interactive-dev-session=false',
];
for (const v of vars) args.push('--var', v);
const bin = join(dirname(fileURLToPath(import.meta.url)), '../node_modules/.bin/wrangler');
const wrangler = spawn(bin, args, {
  stdio: 'inherit',
  env: {
    ...process.env,
    CLOUDFLARE_CF_FETCH_ENABLED: 'false',
    WRANGLER_SEND_METRICS: 'false',
    CLOUDFLARE_HYPERDRIVE_LOCAL_CONNECTION_STRING_USAGE_DB: usageDbUrl, // usage store (#15)
  },
});

console.log(`dev: gateway on http://127.0.0.1:${port}`);
console.log(`dev: API key ${devKey}   (admin token: ${adminToken})`);
console.log(
  `dev: try  curl http://127.0.0.1:${port}/v1/models -H 'authorization: Bearer ${devKey}'`,
);

const stopAll = async () => {
  for (const stop of stops.reverse()) await stop().catch(() => undefined);
};
const shutdown = async () => {
  wrangler.kill('SIGTERM');
  await stopAll();
  process.exit(0);
};
process.on('SIGINT', shutdown);
process.on('SIGTERM', shutdown);
wrangler.on('exit', async (code) => {
  await stopAll();
  process.exit(code ?? 0);
});

function devVarsHave(name: string): boolean {
  return (
    existsSync('.dev.vars') && new RegExp(`^${name}=`, 'm').test(readFileSync('.dev.vars', 'utf8'))
  );
}
