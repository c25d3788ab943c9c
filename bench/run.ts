/**
 * `npm run bench`: the edge gateway against its floor, side by side, on loopback (bench/README.md).
 *
 *   upstream  the fake OpenAI upstream (tools/fakes/openai.ts), answering at once
 *   floor     workers/passthrough.ts under `wrangler dev`: a bare pass-through on the same runtime
 *   gateway   this gateway (root wrangler.toml) under `wrangler dev`, in front of the same upstream,
 *             with API-key auth, limits and budget on (a local Upstash Redis holds the key)
 *
 * Prints a table and writes bench/results/latest.json. `--quick`: one short round (a smoke run).
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import type { CpuMs } from './lib/cpu.ts';
import {
  API_KEY,
  type LoadResult,
  type Mode,
  measureStreams,
  median,
  runLoad,
  type StreamStats,
} from './lib/load.ts';
import {
  type Backends,
  killAllNow,
  leftovers,
  ROOT,
  startBackends,
  startWrangler,
  stopAll,
} from './lib/processes.ts';

const { values: flags } = parseArgs({ options: { quick: { type: 'boolean', default: false } } });
const SETTINGS = flags.quick
  ? { connections: 16, seconds: 1, warmupSeconds: 1, rounds: 1, ttfbWarmup: 10, ttfbN: 50 }
  : { connections: 16, seconds: 3, warmupSeconds: 1, rounds: 5, ttfbWarmup: 50, ttfbN: 200 };
const TARGETS = { rpsRatio: 0.75, p50Ratio: 1.3, ttfbAddedMs: 1 };
const MODES: Mode[] = ['json', 'stream'];
const CHAT = '/v1/chat/completions';

interface Target {
  name: string;
  url: string;
  cpuMs?: () => CpuMs | null;
}
/** One measured run; `cpu`: CPU ms per request of the target's processes (wrangler dev only). */
type Run = LoadResult & { cpu: CpuMs | null };
type Summary = Pick<Run, 'rps' | 'p50' | 'p99' | 'cpu'>;
/** gateway / floor of one figure: computed per round (the two run back to back), then summarised. */
interface Ratio {
  median: number;
  min: number;
  max: number;
}
type Ratios = Record<'rps' | 'p50' | 'p99', Ratio>;

const startedAt = performance.now();
const loadAtStart = loadavg().map((x) => Number(x.toFixed(2))); // other work skews every figure
let backends: Backends | undefined;
let interrupted = false;
process.once('exit', killAllNow);
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    interrupted = true;
    console.error(`\nbench: ${signal}, stopping servers`);
    void shutdown().then(() => process.exit(130));
  });
}

try {
  await main();
} catch (err) {
  if (!interrupted) console.error(`bench failed: ${err instanceof Error ? err.message : err}`);
  process.exitCode = 1;
} finally {
  await shutdown();
  if (leftovers.size > 0) {
    console.error(`bench: process groups still alive after stopping: ${[...leftovers].join(' ')}`);
    process.exitCode = 1;
  }
}

async function shutdown(): Promise<void> {
  await stopAll();
  await backends?.stop();
  backends = undefined;
}

async function main(): Promise<void> {
  backends = await startBackends(API_KEY);
  const { upstream, redis } = backends;
  log(`upstream on ${upstream}, Upstash (${redis.backend}) on ${redis.url}; starting wrangler dev`);
  const started = await Promise.allSettled([
    startWrangler({
      name: 'floor',
      config: 'bench/wrangler.passthrough.toml',
      vars: { UPSTREAM_URL: upstream },
      readyPath: '/v1/models',
    }),
    startWrangler({
      name: 'gateway',
      vars: {
        OPENAI_BASE_URL: `${upstream}/v1`,
        OPENAI_API_KEY: 'sk-bench-upstream',
        UPSTASH_REDIS_REST_URL: redis.url,
        UPSTASH_REDIS_REST_TOKEN: redis.token,
        ADMIN_TOKEN: 'bench-admin-token-unused',
      },
      readyPath: '/health',
    }),
  ]);
  const failed = started.find((s) => s.status === 'rejected');
  if (failed) throw failed.reason;
  const [floor, gateway] = started.map((s) => (s.status === 'fulfilled' ? s.value : undefined));
  const targets: Target[] = [
    { name: 'upstream', url: upstream + CHAT },
    { name: 'floor', url: floor!.url + CHAT, cpuMs: floor!.cpuMs },
    { name: 'gateway', url: gateway!.url + CHAT, cpuMs: gateway!.cpuMs },
  ];

  // Load: each round runs every target once per mode, in alternating order.
  const runs = Object.fromEntries(
    MODES.map((mode) => [mode, Object.fromEntries(targets.map((t) => [t.name, [] as Run[]]))]),
  ) as Record<Mode, Record<string, Run[]>>;
  for (let r = 0; r < SETTINGS.rounds; r++) {
    const order = r % 2 === 0 ? targets : [...targets].reverse();
    for (const mode of MODES) {
      for (const target of order) {
        const run = await measure(target, mode);
        runs[mode][target.name]!.push(run);
        log(`round ${r + 1} ${mode.padEnd(6)} ${target.name.padEnd(8)} ${fmt(run.rps, 0)} req/s`);
      }
    }
  }
  const load = Object.fromEntries(
    MODES.map((mode) => [
      mode,
      Object.fromEntries(targets.map(({ name }) => [name, summarise(runs[mode][name]!)])),
    ]),
  ) as Record<Mode, Record<string, Summary>>;
  const ratios = Object.fromEntries(
    MODES.map((mode) => {
      const of = (key: keyof Ratios) => ratio(runs[mode].gateway!, runs[mode].floor!, key);
      return [mode, { rps: of('rps'), p50: of('p50'), p99: of('p99') }];
    }),
  ) as Record<Mode, Ratios>;

  log(`streaming first byte: ${SETTINGS.ttfbN} sequential requests per target`);
  const urls = Object.fromEntries(targets.map((t) => [t.name, t.url]));
  const streams = await measureStreams(urls, { warmup: SETTINGS.ttfbWarmup, n: SETTINGS.ttfbN });
  const ttfbAddedMs = streams.gateway!.ttfbP50 - streams.floor!.ttfbP50;

  const met = {
    rpsRatio: MODES.every((m) => ratios[m].rps.median >= TARGETS.rpsRatio),
    p50Ratio: MODES.every((m) => ratios[m].p50.median <= TARGETS.p50Ratio),
    ttfbAddedMs: ttfbAddedMs <= TARGETS.ttfbAddedMs,
  };
  const report = {
    date: new Date().toISOString(),
    gatewayRevision: gitRevision(),
    command: `node bench/run.ts${flags.quick ? ' --quick' : ''} (npm run bench)`,
    machine: {
      node: process.version,
      cpu: cpus()[0]?.model ?? 'unknown',
      cores: cpus().length,
      loadavgAtStart: loadAtStart,
      loadavgAtEnd: loadavg().map((x) => Number(x.toFixed(2))),
      note: 'load generator, upstream, floor and gateway share these cores',
    },
    settings: SETTINGS,
    servers: { floor: floor!.args.join(' '), gateway: gateway!.args.join(' ') },
    load,
    streams,
    ratios: { ...ratios, ttfbAddedMs },
    targets: TARGETS,
    met,
    runtimeS: (performance.now() - startedAt) / 1000,
    runs,
  };
  const out = join(ROOT, 'bench', 'results');
  mkdirSync(out, { recursive: true });
  writeFileSync(join(out, 'latest.json'), `${JSON.stringify(report, null, 2)}\n`);
  console.log(formatReport(report));
}

/** Warm-up, then one measured run; CPU per request from the target's processes around it. */
async function measure(target: Target, mode: Mode): Promise<Run> {
  const load = { connections: SETTINGS.connections, seconds: SETTINGS.warmupSeconds };
  await runLoad(target.url, mode, load);
  const before = target.cpuMs?.() ?? null;
  const result = await runLoad(target.url, mode, { ...load, seconds: SETTINGS.seconds });
  const after = target.cpuMs?.() ?? null;
  if (result.failed > 0)
    throw new Error(`${target.name} ${mode}: ${result.failed} failed requests`);
  const perRequest = (key: keyof CpuMs) => (after![key] - before![key]) / result.ok;
  const cpu =
    before && after
      ? {
          worker: perRequest('worker'),
          devProxy: perRequest('devProxy'),
          wrangler: perRequest('wrangler'),
        }
      : null;
  return { ...result, cpu };
}

function summarise(runs: Run[]): Summary {
  const of = (pick: (run: Run) => number) => median(runs.map(pick));
  const cpu = runs[0]?.cpu
    ? {
        worker: of((x) => x.cpu!.worker),
        devProxy: of((x) => x.cpu!.devProxy),
        wrangler: of((x) => x.cpu!.wrangler),
      }
    : null;
  return { rps: of((x) => x.rps), p50: of((x) => x.p50), p99: of((x) => x.p99), cpu };
}

function ratio(gateway: Run[], floor: Run[], key: keyof Ratios): Ratio {
  const each = gateway.map((g, i) => g[key] / floor[i]![key]);
  return { median: median(each), min: Math.min(...each), max: Math.max(...each) };
}

function formatReport(report: {
  machine: { node: string; cpu: string; cores: number; loadavgAtStart: number[] };
  load: Record<Mode, Record<string, Summary>>;
  streams: Record<string, StreamStats>;
  ratios: Record<Mode, Ratios> & { ttfbAddedMs: number };
  met: Record<keyof typeof TARGETS, boolean>;
  runtimeS: number;
}): string {
  const { machine, load, streams, ratios, met } = report;
  const { connections, seconds, rounds } = SETTINGS;
  const lines = [
    '',
    `${machine.cpu}, ${machine.cores} cores, Node ${machine.node}, load average at start ` +
      `${machine.loadavgAtStart.join(' ')}; ${connections} connections, ${seconds} s per run, ` +
      `median of ${rounds} round(s)`,
    '',
    row(
      'mode',
      'target',
      'req/s',
      'p50 ms',
      'p99 ms',
      'CPU ms/req',
      'worker',
      'dev proxy',
      'wrangler',
    ),
  ];
  for (const mode of MODES) {
    for (const [name, r] of Object.entries(load[mode])) {
      const cpu = r.cpu
        ? [r.cpu.worker + r.cpu.devProxy + r.cpu.wrangler, ...Object.values(r.cpu)]
        : [];
      const figures = [fmt(r.rps, 0), fmt(r.p50, 2), fmt(r.p99, 2), ...cpu.map((v) => fmt(v, 2))];
      lines.push(row(mode, name, ...figures));
    }
  }
  lines.push('', row('stream', 'target', 'TTFB p50', 'TTFB p90', 'end p50', 'chunk gap', 'chunks'));
  for (const [name, s] of Object.entries(streams)) {
    const values = [s.ttfbP50, s.ttfbP90, s.totalP50, s.gapMean].map((v) => `${fmt(v, 2)} ms`);
    lines.push(row('stream', name, ...values, fmt(s.chunksMean, 1)));
  }
  const mark = (ok: boolean) => (ok ? 'met' : 'NOT MET');
  const show = (r: Ratio) => `${fmt(r.median, 2)}x (${fmt(r.min, 2)}-${fmt(r.max, 2)})`;
  lines.push('', 'gateway / floor (median over rounds; min-max over rounds in brackets):');
  for (const mode of MODES) {
    const { rps, p50, p99 } = ratios[mode];
    lines.push(
      `  ${mode.padEnd(6)}  req/s ${show(rps)} target >= ${TARGETS.rpsRatio}x;` +
        `  p50 ${show(p50)} target <= ${TARGETS.p50Ratio}x;  p99 ${show(p99)}`,
    );
  }
  lines.push(
    `  stream TTFB p50 gateway - floor: ${fmt(ratios.ttfbAddedMs, 2)} ms (target <= ${TARGETS.ttfbAddedMs} ms)`,
    `  targets: req/s ${mark(met.rpsRatio)}, p50 ${mark(met.p50Ratio)}, TTFB ${mark(met.ttfbAddedMs)}`,
    '',
    `bench/results/latest.json written; ${fmt(report.runtimeS, 0)} s in all`,
  );
  return lines.join('\n');
}

function row(...cells: string[]): string {
  return cells.map((c, i) => (i < 2 ? c.padEnd(10) : c.padStart(11))).join('');
}

function fmt(value: number, digits: number): string {
  return value.toFixed(digits);
}

/** The commit under test; `-dirty` when tracked files (e.g. src/) differ from it. */
function gitRevision(): string {
  try {
    const args = ['describe', '--always', '--dirty'];
    return execFileSync('git', args, { cwd: ROOT, encoding: 'utf8' }).trim();
  } catch {
    return 'unknown';
  }
}

function log(message: string): void {
  console.error(`bench: ${message}`);
}
