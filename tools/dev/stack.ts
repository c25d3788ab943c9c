/**
 * Starts everything of the local run but the edge: a local Upstash, the cloud provider fakes
 * (in this process), and per region the GPU simulators and the origin (child processes, so
 * any one can be stopped and started again). Returns what runs where and the Worker vars that
 * point workers/gateway.dev.config.json at it.
 */
import { join } from 'node:path';
import { startFakeAnthropic } from '../fakes/anthropic.ts';
import { startFakeBedrock } from '../fakes/bedrock.ts';
import { startFakeGemini } from '../fakes/gemini.ts';
import { startFakeOpenAI } from '../fakes/openai.ts';
import { migrate, startLocalPostgres } from '../postgres/index.ts';
import { startLocalUpstash } from '../upstash/index.ts';
import { answers, type Children } from './children.ts';
import { freePort } from './ports.ts';
import { FAKES, type FakeKind, originVar, POOLS, REGIONS, type RegionName } from './topology.ts';

const ROOT = join(import.meta.dirname, '..', '..');

const START_FAKE: Record<FakeKind, () => Promise<{ url: string; close(): Promise<void> }>> = {
  openai: () => startFakeOpenAI(),
  anthropic: () => startFakeAnthropic(),
  gemini: () => startFakeGemini(),
  bedrock: () => startFakeBedrock(),
};

export interface StackInfo {
  upstash: { url: string; token: string; backend: string; local: boolean };
  /** The usage store (request log, analytics), migrated. */
  usageDb: { url: string; backend: string };
  /** `url` null: the real service (its key was given). */
  fakes: { provider: string; where: string; url: string | null }[];
  origins: { region: RegionName; name: string; url: string }[];
  sims: { name: string; region: RegionName; kind: string; model: string; url: string }[];
  /** Worker vars (`--var NAME:value`) for the dev config. */
  vars: Record<string, string>;
}

export interface Stack {
  info: StackInfo;
  /** Stops the in-process parts (children are stopped by their `Children`). */
  stop(): Promise<void>;
}

export async function startStack(opts: {
  env: NodeJS.ProcessEnv;
  children: Children;
  signingKey: string;
  say: (line: string) => void;
}): Promise<Stack> {
  const { env, children, say } = opts;
  const closers: (() => Promise<void>)[] = [];
  const vars: Record<string, string> = { ORIGIN_SIGNING_KEY: opts.signingKey };
  try {
    const upstash = await localUpstash(env, closers);
    vars.UPSTASH_REDIS_REST_URL = upstash.url;
    vars.UPSTASH_REDIS_REST_TOKEN = upstash.token;
    const usageDb = await localUsageDb(env, closers);

    const fakes = await Promise.all(
      FAKES.map(async (spec) => {
        if (spec.real.every((name) => env[name])) {
          for (const name of [...spec.real, ...(spec.passthrough ?? [])]) {
            if (env[name]) vars[name] = env[name];
          }
          return { provider: spec.provider, where: spec.where, url: null };
        }
        const fake = await START_FAKE[spec.kind]();
        closers.push(() => fake.close());
        Object.assign(vars, spec.vars(fake.url));
        return { provider: spec.provider, where: spec.where, url: fake.url };
      }),
    );

    const sims: StackInfo['sims'] = [];
    const origins: StackInfo['origins'] = [];
    // Simulators first (every region at once), then each region's origin over its own.
    const pools = await Promise.all(
      REGIONS.map(async (region) => {
        const endpoints = await Promise.all(
          POOLS.map(async (spec) =>
            Promise.all(
              Array.from({ length: spec.endpoints }, async (_, i) => {
                const port = await freePort();
                const name = `${spec.kind}-${region}-${i + 1}`;
                const url = `http://127.0.0.1:${port}`;
                await children.start({
                  name,
                  command: [
                    process.execPath,
                    join(ROOT, 'tools/gpu-sim/main.ts'),
                    ...['--kind', spec.kind, '--port', String(port), '--model', spec.model],
                    ...['--seed', String(sims.length + 1)],
                  ],
                  ready: () => answers(`${url}/health`),
                  quiet: true,
                });
                sims.push({ name, region, kind: spec.kind, model: spec.model, url });
                return url;
              }),
            ),
          ),
        );
        return { region, endpoints };
      }),
    );
    await Promise.all(
      pools.map(async ({ region, endpoints }) => {
        const port = await freePort();
        const name = `origin-${region}`;
        const url = `http://127.0.0.1:${port}`;
        await children.start({
          name,
          command: [process.execPath, join(ROOT, 'origin/src/main.ts')],
          env: {
            PORT: String(port),
            ORIGIN_SIGNING_KEYS: `dev:${opts.signingKey}`,
            ORIGIN_CONFIG: JSON.stringify(originConfig(endpoints)),
          },
          ready: () => answers(`${url}/health/ready`),
        });
        origins.push({ region, name, url });
        vars[originVar(region)] = url;
      }),
    );
    sims.sort((a, b) => a.name.localeCompare(b.name));
    origins.sort((a, b) => REGIONS.indexOf(a.region) - REGIONS.indexOf(b.region));
    say(`dev: ${sims.length} GPU simulators and ${origins.length} regional origins are up`);
    return {
      info: { upstash, usageDb, fakes, origins, sims, vars },
      stop: async () => {
        for (const close of closers.reverse()) await close().catch(() => undefined);
      },
    };
  } catch (err) {
    for (const close of closers.reverse()) await close().catch(() => undefined);
    throw err;
  }
}

async function localUpstash(
  env: NodeJS.ProcessEnv,
  closers: (() => Promise<void>)[],
): Promise<StackInfo['upstash']> {
  if (env.UPSTASH_REDIS_REST_URL && env.UPSTASH_REDIS_REST_TOKEN) {
    return {
      url: env.UPSTASH_REDIS_REST_URL,
      token: env.UPSTASH_REDIS_REST_TOKEN,
      backend: 'Upstash',
      local: false,
    };
  }
  const upstash = await startLocalUpstash();
  closers.push(() => upstash.stop());
  return { url: upstash.url, token: upstash.token, backend: upstash.backend, local: true };
}

/** USAGE_DATABASE_URL, or a throwaway local PostgreSQL (Debian's, else PGlite); migrated. */
async function localUsageDb(
  env: NodeJS.ProcessEnv,
  closers: (() => Promise<void>)[],
): Promise<StackInfo['usageDb']> {
  let usageDb = env.USAGE_DATABASE_URL
    ? { url: env.USAGE_DATABASE_URL, backend: 'given' }
    : undefined;
  if (!usageDb) {
    const pg = await startLocalPostgres();
    closers.push(() => pg.stop());
    usageDb = { url: pg.url, backend: pg.backend };
  }
  await migrate(usageDb.url);
  return usageDb;
}

/** One region's origin over its simulators (`endpoints[i]` serves `POOLS[i]`). Scrapes and
 * health checks are slow and pause when idle, so an idle stack does next to nothing. */
function originConfig(endpoints: string[][]): Record<string, unknown> {
  return {
    listen: { host: '127.0.0.1' },
    pools: Object.fromEntries(
      POOLS.map((spec, i) => [spec.pool, { kind: spec.kind, endpoints: endpoints[i] }]),
    ),
    models: Object.fromEntries(POOLS.map((spec) => [spec.model, spec.pool])),
    scrape: { intervalMs: 500, pauseWhenIdleMs: 5_000 },
    health: { intervalMs: 5_000 },
    outlier: { baseEjectionMs: 5_000 },
    drainDeadlineMs: 2_000,
  };
}
