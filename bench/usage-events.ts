/**
 * Usage events: (1) the events per second the usage store's write path (`writeEvents`, what
 * the consumer runs per queue batch: one transaction, raw rows + hourly and daily rollups)
 * sustains into a local PostgreSQL (tools/postgres), in batches of 100 (the queue's
 * max_batch_size) from 1 and 4 concurrent writers; (2) the gateway's worker CPU per request
 * with events on and off (`GATEWAY_EVENTS_ENABLED`), both under `wrangler dev`, the same
 * load, alternating rounds. Not part of `npm test`.
 *
 * node bench/usage-events.ts [--quick]   JSON in bench/results/usage-events.json
 */
import { randomUUID } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import postgres from 'postgres';
import { type UsageEvent, usageEventFrom } from '../src/events/index.ts';
import { writeEvents } from '../src/usage-store/index.ts';
import { migrate, startLocalPostgres } from '../tools/postgres/index.ts';
import { API_KEY, median } from './lib/load.ts';
import { measureRun } from './lib/measure.ts';
import { killAllNow, ROOT, startBackends, startWrangler, stopAll } from './lib/processes.ts';

const { values } = parseArgs({ options: { quick: { type: 'boolean', default: false } } });
const SETTINGS = values.quick
  ? { events: 5_000, rounds: 1, connections: 16, seconds: 2, warmupSeconds: 1 }
  : { events: 50_000, rounds: 4, connections: 16, seconds: 3, warmupSeconds: 1 };
const BATCH = 100;
const log = (line: string) => console.error(`bench: ${line}`);
process.once('exit', killAllNow);

function events(n: number): UsageEvent[] {
  const start = Date.now() - 3_600_000;
  return Array.from({ length: n }, (_, i) => ({
    ...usageEventFrom(
      {
        request_id: randomUUID(),
        method: 'POST',
        path: '/v1/chat/completions',
        status: i % 20 === 0 ? 429 : 200,
        latency_ms: 20 + (i % 400),
        ttfb_ms: 5 + (i % 90),
        model: ['gpt-4o-mini', 'gpt-4o', 'claude'][i % 3]!,
        provider: ['openai', 'azure', 'anthropic'][i % 3]!,
        upstream_model: 'up',
        attempts: 1,
        key_id: `key_${i % 50}`,
        tenant: `tenant-${i % 10}`,
        region: ['us-east', 'eu-west', 'ap-south'][i % 3]!,
        usage: {
          prompt_tokens: 100 + (i % 50),
          completion_tokens: 40,
          total_tokens: 140 + (i % 50),
          source: 'upstream',
        },
        cost_usd: 0.000042,
        cache: 'BYPASS',
        route: {
          zone: 'none',
          regions: ['us-east'],
          dropped_by_residency: [],
          demoted_by_health: [],
        },
      },
      start + Math.floor((i * 3_600_000) / n),
      randomUUID(),
    ),
  }));
}

async function storeThroughput(url: string, writers: number) {
  const all = events(SETTINGS.events);
  const batches: UsageEvent[][] = [];
  for (let i = 0; i < all.length; i += BATCH) batches.push(all.slice(i, i + BATCH));
  const sql = postgres(url, { max: writers, onnotice: () => undefined });
  await writeEvents(sql, events(BATCH)); // warm-up: partitions, plans
  let next = 0;
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: writers }, async () => {
      while (next < batches.length) await writeEvents(sql, batches[next++]!);
    }),
  );
  const seconds = (performance.now() - t0) / 1000;
  await sql.end();
  return {
    writers,
    events: all.length,
    batch: BATCH,
    seconds,
    eventsPerSecond: all.length / seconds,
  };
}

async function main() {
  const loadAtStart = loadavg().map((x) => Number(x.toFixed(2)));
  const pg = await startLocalPostgres();
  let store: Awaited<ReturnType<typeof storeThroughput>>[];
  try {
    await migrate(pg.url);
    log(`store: ${SETTINGS.events} events in batches of ${BATCH} into ${pg.backend}`);
    store = [await storeThroughput(pg.url, 1), await storeThroughput(pg.url, 4)];
  } finally {
    await pg.stop();
  }
  for (const s of store)
    log(`store: ${s.writers} writer(s): ${s.eventsPerSecond.toFixed(0)} events/s`);

  const backends = await startBackends(API_KEY);
  const stateDir = mkdtempSync(join(tmpdir(), 'gw-bench-events-'));
  try {
    const vars = {
      OPENAI_BASE_URL: `${backends.upstream}/v1`,
      OPENAI_API_KEY: 'sk-bench-upstream',
      UPSTASH_REDIS_REST_URL: backends.redis.url,
      UPSTASH_REDIS_REST_TOKEN: backends.redis.token,
      ADMIN_TOKEN: 'bench-admin-token-unused',
    };
    const [on, off] = await Promise.all(
      (['true', 'false'] as const).map((enabled) =>
        startWrangler({
          name: enabled === 'true' ? 'events-on' : 'events-off',
          vars: { ...vars, GATEWAY_EVENTS_ENABLED: enabled },
          readyPath: '/health',
          persistTo: join(stateDir, enabled),
        }),
      ),
    );
    const targets = [on!, off!].map((s) => ({
      name: s.name,
      url: `${s.url}/v1/chat/completions`,
      cpuMs: s.cpuMs,
    }));
    const cpu: Record<string, number[]> = { 'events-on': [], 'events-off': [] };
    const rps: Record<string, number[]> = { 'events-on': [], 'events-off': [] };
    for (let r = 0; r < SETTINGS.rounds; r++) {
      for (const target of r % 2 === 0 ? targets : [...targets].reverse()) {
        const run = await measureRun(target, 'json', SETTINGS);
        cpu[target.name]!.push(run.cpu!.worker);
        rps[target.name]!.push(run.rps);
        log(
          `round ${r + 1} ${target.name}: ${run.rps.toFixed(0)} req/s, worker ${run.cpu!.worker.toFixed(3)} ms/req`,
        );
      }
    }
    const diffs = cpu['events-on']!.map((v, i) => v - cpu['events-off']![i]!);
    const result = {
      when: new Date().toISOString(),
      machine: {
        cpus: cpus().length,
        model: cpus()[0]?.model,
        loadAtStart,
        loadAtEnd: loadavg().map((x) => Number(x.toFixed(2))),
        redis: backends.redis.backend,
      },
      settings: SETTINGS,
      store,
      gateway: {
        workerCpuMsPerRequest: { on: median(cpu['events-on']!), off: median(cpu['events-off']!) },
        eventsCostWorkerCpuMs: {
          median: median(diffs),
          min: Math.min(...diffs),
          max: Math.max(...diffs),
        },
        rps: { on: median(rps['events-on']!), off: median(rps['events-off']!) },
        target: 'at most +0.05 ms worker CPU per request',
      },
    };
    mkdirSync(join(ROOT, 'bench', 'results'), { recursive: true });
    writeFileSync(
      join(ROOT, 'bench', 'results', 'usage-events.json'),
      `${JSON.stringify(result, null, 2)}\n`,
    );
    console.log(JSON.stringify(result, null, 2));
  } finally {
    await stopAll();
    await backends.stop();
    rmSync(stateDir, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  console.error(`bench failed: ${err instanceof Error ? err.message : String(err)}`);
  process.exitCode = 1;
});
