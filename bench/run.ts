/**
 * `npm run bench`: the edge gateway against its floor, side by side, on loopback (bench/README.md).
 *
 *   upstream  the fake OpenAI upstream (tools/fakes/openai.ts), answering at once
 *   floor     workers/passthrough.ts under `wrangler dev`: a bare pass-through on the same runtime
 *   floor-log the same plus one ~1 KB JSON console.log line per request, as the gateway writes:
 *             what that one line costs under `wrangler dev` (its inspector relay), on its own
 *   gateway   this gateway (root wrangler.toml) under `wrangler dev`, in front of the same upstream,
 *             with API-key auth, limits and budget on (a local Upstash Redis holds the key)
 *   gateway-noauth  the same with GATEWAY_AUTH_ENABLED=false: the cost of auth + limits
 *   gateway-tracing  `gateway` with OpenTelemetry on (OTLP/protobuf to a local receiver,
 *             tools/otlp/receiver.ts): the cost of tracing and metrics (issue #17: ≤ +0.1 ms CPU)
 *   gateway-b  a second auth-on gateway sharing the Upstash: its first hit on an entry stored by
 *             `gateway` is a Redis-tier hit (cache section: tiers, and a workload with repeats)
 *
 * Prints a table and writes bench/results/latest.json. `--quick`: one short round (a smoke run).
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { Agent } from 'node:http';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { buildConsole } from '../tools/dev/console.ts';
import { type OtlpReceiver, startOtlpReceiver } from '../tools/otlp/receiver.ts';
import type { CpuMs } from './lib/cpu.ts';
import {
  API_KEY,
  bodyOf,
  count,
  deterministicBody,
  drive,
  type Mode,
  measureStreams,
  median,
  percentile,
  type StreamStats,
  type StreamTiming,
  setUpstreamStep,
  timeRequest,
  UPSTREAM_STEPS,
} from './lib/load.ts';
import { type MeasuredRun, measureRun } from './lib/measure.ts';
import { startPortkey } from './lib/portkey.ts';
import {
  type Backends,
  killAllNow,
  leftovers,
  ROOT,
  sleep,
  startBackends,
  startWrangler,
  stopAll,
  type WranglerServer,
} from './lib/processes.ts';
import { bundle, startWorkerd, WORKERD } from './lib/workerd.ts';

const { values: flags } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    'wrangler-dev': { type: 'boolean', default: false },
  },
});
/** `workerd` (default): the bundles `wrangler deploy --dry-run` writes, under plain `workerd
 * serve`, and the Portkey peer; `--wrangler-dev`: the same Workers under `wrangler dev`, with the
 * cache phases (the second, labelled table of bench/README.md). */
const RUNTIME: 'workerd' | 'wrangler-dev' = flags['wrangler-dev'] ? 'wrangler-dev' : 'workerd';
const ON_WORKERD = RUNTIME === 'workerd';
const SETTINGS = {
  connections: ON_WORKERD ? 32 : 16,
  ...(flags.quick
    ? { seconds: 1, warmupSeconds: 1, rounds: 1, ttfbWarmup: 10, ttfbN: 50 }
    : { seconds: 3, warmupSeconds: 1, rounds: 4, ttfbWarmup: 50, ttfbN: 200 }),
  ...(flags.quick
    ? { tierN: 20, workload: 200, prompts: 20 }
    : { tierN: 100, workload: 1_000, prompts: 100 }),
};
/** wrangler dev: issue #2's targets (auth off); workerd: issue #13's (worker CPU / floor). */
const TARGETS = { rpsRatio: 0.75, p50Ratio: 1.3, ttfbAddedMs: 1 };
const CPU_TARGETS = {
  gateway: { json: 2.0, stream: 2.5 },
  'gateway-noauth': { json: 1.5, stream: 2.0 },
} as const;
/** Target (issue #18): the default guardrail policy adds at most this much worker CPU to a
 * request with a 2 KB prompt. */
const GUARDRAIL_TARGET_MS = 0.1;

const MODES: Mode[] = ON_WORKERD ? ['json', 'stream'] : ['json', 'stream', 'cached'];
// gateway-tracing right after gateway: their difference is taken per round, back to back
const LOADED = ['upstream', 'floor', 'gateway', 'gateway-tracing', 'gateway-noauth', 'floor-log'];
/** Who runs each load mode: `cached` (a fixed temperature-0 body) only the floor and the gateway. */
const MODE_TARGETS: Record<Mode, string[]> = {
  json: ON_WORKERD ? [...LOADED, 'portkey'] : LOADED,
  stream: ON_WORKERD ? [...LOADED, 'portkey'] : LOADED,
  cached: ['floor', 'gateway'],
  // their own phase (measureGuardrails), not in the main rounds
  prompt2k: [],
  answer2k: [],
};
const GATEWAYS = [
  'gateway',
  'gateway-noauth',
  'gateway-tracing',
  ...(ON_WORKERD ? ['portkey'] : []),
];
const CHAT = '/v1/chat/completions';
const RUN_ID = Date.now().toString(36); // prompts of the cache phases are new in every run

interface Target {
  name: string;
  url: string;
  cpuMs?: () => CpuMs | null;
  headers?: Record<string, string>;
}
/** One measured run; `cpu`: CPU ms per request of the target's processes; `redisCpu`: of the
 * Redis side (the Upstash bridge's thread and redis-server) over the same run. */
type Run = MeasuredRun;
type Summary = Pick<Run, 'rps' | 'p50' | 'p99' | 'cpu' | 'redisCpu'>;
/** gateway / floor of one figure: computed per round (the two run back to back), then summarised. */
interface Ratio {
  median: number;
  min: number;
  max: number;
}
type Ratios = Record<'rps' | 'p50' | 'p99' | 'cpu', Ratio>;
/** a − b: p50 per round (median, min-max), worker and all CPU ms/request (auth: gateway −
 * gateway-noauth; log line: floor-log − floor). */
interface AuthCost {
  p50Ms: Ratio;
  workerCpuMs: number;
  /** a − b worker CPU ms/request per round (the two ran back to back), median and min-max. */
  workerCpuMsPerRound: Ratio;
  allCpuMs: number;
  devProxyCpuMs?: number;
  wranglerCpuMs?: number;
}
interface Latency {
  p50: number;
  p90: number;
  p99: number;
  cache: Record<string, number>;
}

const startedAt = performance.now();
const loadAtStart = loadavg().map((x) => Number(x.toFixed(2))); // other work skews every figure
let backends: Backends | undefined;
/** The collector of `gateway-tracing`. */
let otlp: OtlpReceiver | undefined;
const stateDir = mkdtempSync(join(tmpdir(), 'gw-bench-')); // each gateway's own local cache
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
  await otlp?.close();
  otlp = undefined;
  await backends?.stop();
  backends = undefined;
  rmSync(stateDir, { recursive: true, force: true });
}

async function main(): Promise<void> {
  backends = await startBackends(API_KEY);
  otlp = await startOtlpReceiver();
  const tracing = { OTEL_EXPORTER_OTLP_ENDPOINT: otlp.url };
  const { upstream, redis } = backends;
  log(`upstream on ${upstream}, Upstash (${redis.backend}) on ${redis.url}; starting ${RUNTIME}`);
  const vars = {
    OPENAI_BASE_URL: `${upstream}/v1`,
    OPENAI_API_KEY: 'sk-bench-upstream',
    UPSTASH_REDIS_REST_URL: redis.url,
    UPSTASH_REDIS_REST_TOKEN: redis.token,
    ADMIN_TOKEN: 'bench-admin-token-unused',
  };
  const servers = ON_WORKERD
    ? await startOnWorkerd(vars, upstream, tracing)
    : await startOnDev(vars, tracing);
  const byName = Object.fromEntries(servers.map((s) => [s.name, s]));
  const targets: Target[] = [
    { name: 'upstream', url: upstream + CHAT },
    ...servers
      .filter((s) => s.name !== 'gateway-b')
      .map((s) => ({ name: s.name, url: s.url + CHAT, cpuMs: s.cpuMs, headers: s.headers })),
  ];
  const peer = ON_WORKERD ? await probePeer(targets.find((t) => t.name === 'portkey')!) : null;
  if (peer && !peer.stream.ok) MODE_TARGETS.stream = LOADED; // recorded in the report, not hidden

  // Load: each round runs every target once per mode, in alternating order.
  const runs = Object.fromEntries(
    MODES.map((mode) => [
      mode,
      Object.fromEntries(MODE_TARGETS[mode].map((t) => [t, [] as Run[]])),
    ]),
  ) as Record<Mode, Record<string, Run[]>>;
  for (let r = 0; r < SETTINGS.rounds; r++) {
    for (const mode of MODES) {
      // in MODE_TARGETS' order (pairs compared per round run back to back), reversed every other round
      const inOrder = MODE_TARGETS[mode].flatMap((n) => targets.filter((t) => t.name === n));
      for (const target of r % 2 === 0 ? inOrder : inOrder.reverse()) {
        const run = await measure(target, mode);
        runs[mode][target.name]!.push(run);
        log(`round ${r + 1} ${mode.padEnd(6)} ${target.name.padEnd(8)} ${fmt(run.rps, 0)} req/s`);
      }
    }
  }
  const load = Object.fromEntries(
    MODES.map((mode) => [
      mode,
      Object.fromEntries(MODE_TARGETS[mode].map((name) => [name, summarise(runs[mode][name]!)])),
    ]),
  ) as Record<Mode, Record<string, Summary>>;
  const ratiosTo = (base: string, modes: Mode[]) =>
    Object.fromEntries(
      modes.map((mode) => {
        const of = (name: string, key: keyof Ratios) =>
          ratio(runs[mode][name]!, runs[mode][base]!, (run) =>
            key === 'cpu' ? (run.cpu?.worker ?? Number.NaN) : run[key],
          );
        const names = GATEWAYS.filter((name) => runs[mode][name]?.length);
        const set = (n: string) => ({
          rps: of(n, 'rps'),
          p50: of(n, 'p50'),
          p99: of(n, 'p99'),
          cpu: of(n, 'cpu'),
        });
        return [mode, Object.fromEntries(names.map((n) => [n, set(n)]))];
      }),
    ) as Record<Mode, Record<string, Ratios>>;
  const ratios = ratiosTo('floor', MODES);
  // the same against a floor that also writes the one log line: what the gateway costs beyond it
  const ratiosToFloorLog = ratiosTo('floor-log', ['json', 'stream']);
  const difference = (a: string, b: string) =>
    Object.fromEntries(
      (['json', 'stream'] as const).map((mode) => {
        const [on, off] = [load[mode][a]!.cpu, load[mode][b]!.cpu];
        const all = (c: CpuMs) => c.worker + c.devProxy + c.wrangler;
        const cost: AuthCost = {
          p50Ms: ratio(runs[mode][a]!, runs[mode][b]!, (r) => r.p50, 'diff'),
          workerCpuMs: on && off ? on.worker - off.worker : Number.NaN,
          workerCpuMsPerRound: ratio(
            runs[mode][a]!,
            runs[mode][b]!,
            (r) => r.cpu?.worker ?? Number.NaN,
            'diff',
          ),
          allCpuMs: on && off ? all(on) - all(off) : Number.NaN,
          ...(on && off
            ? {
                devProxyCpuMs: on.devProxy - off.devProxy,
                wranglerCpuMs: on.wrangler - off.wrangler,
              }
            : {}),
        };
        return [mode, cost];
      }),
    ) as Record<'json' | 'stream', AuthCost>;
  const authCost = difference('gateway', 'gateway-noauth');
  const tracingCost = difference('gateway-tracing', 'gateway');
  const logLineCost = difference('floor-log', 'floor');
  const cachedLoadCounts: Record<string, number> = {}; // the measured runs' answers, all rounds
  for (const run of runs.cached?.gateway ?? [])
    for (const [k, v] of Object.entries(run.cache)) count(cachedLoadCounts, k, v);

  log(`streaming first byte: ${SETTINGS.ttfbN} sequential requests per target`);
  const urls = Object.fromEntries(targets.map((t) => [t.name, t.url]));
  const streamUrls = Object.fromEntries(
    Object.entries(urls).filter(([name]) => MODE_TARGETS.stream.includes(name)),
  );
  const headers = Object.fromEntries(targets.map((t) => [t.name, t.headers ?? {}]));
  const streams = await measureStreams(
    streamUrls,
    { warmup: SETTINGS.ttfbWarmup, n: SETTINGS.ttfbN },
    headers,
  );
  const ttfbAddedMs = Object.fromEntries(
    GATEWAYS.filter((n) => streams[n]).map((n) => [
      n,
      streams[n]!.ttfbP50 - streams.floor!.ttfbP50,
    ]),
  );
  const ttfbAddedToFloorLogMs = Object.fromEntries(
    GATEWAYS.filter((n) => streams[n]).map((n) => [
      n,
      streams[n]!.ttfbP50 - streams['floor-log']!.ttfbP50,
    ]),
  );

  const guardrails = ON_WORKERD ? await measureGuardrails(targets) : null;

  const cacheSection = ON_WORKERD
    ? null
    : {
        load: { gateway: cachedLoadCounts },
        tiers: await measureTiers(
          byName.floor!.url + CHAT,
          byName.gateway!.url + CHAT,
          byName['gateway-b']!.url + CHAT,
        ),
        workload: await measureWorkload(byName.gateway!.url + CHAT),
      };
  const cpuMet = Object.fromEntries(
    Object.entries(CPU_TARGETS).map(([name, limit]) => [
      name,
      (['json', 'stream'] as const).every((m) => ratios[m][name]!.cpu.median <= limit[m]),
    ]),
  );
  const noauthRps = (['json', 'stream'] as const).every(
    (m) => ratios[m]['gateway-noauth']!.rps.median >= TARGETS.rpsRatio,
  );
  const met = {
    ...(ON_WORKERD ? { cpuRatio: cpuMet, noauthRpsRatio: noauthRps } : {}),
    rpsRatio: (['json', 'stream'] as const).every(
      (m) => ratios[m].gateway!.rps.median >= TARGETS.rpsRatio,
    ),
    p50Ratio: (['json', 'stream'] as const).every(
      (m) => ratios[m].gateway!.p50.median <= TARGETS.p50Ratio,
    ),
    ttfbAddedMs: ttfbAddedMs.gateway! <= TARGETS.ttfbAddedMs,
  };
  const report = {
    date: new Date().toISOString(),
    gatewayRevision: gitRevision(),
    runtime: RUNTIME,
    command: `node bench/run.ts${flags.quick ? ' --quick' : ''}${ON_WORKERD ? ' (npm run bench)' : ' --wrangler-dev'}`,
    machine: {
      node: process.version,
      cpu: cpus()[0]?.model ?? 'unknown',
      cores: cpus().length,
      loadavgAtStart: loadAtStart,
      loadavgAtEnd: loadavg().map((x) => Number(x.toFixed(2))),
      redis: redis.backend,
      workerd: ON_WORKERD ? WORKERD : undefined,
      note: 'load generator, upstream, floor and gateway share these cores',
    },
    settings: SETTINGS,
    servers: Object.fromEntries(servers.map((s) => [s.name, s.args.join(' ')])),
    peer,
    load,
    streams,
    ratios: { ...ratios, ttfbAddedMs },
    ratiosToFloorLog: { ...ratiosToFloorLog, ttfbAddedMs: ttfbAddedToFloorLogMs },
    authCost,
    tracingCost,
    logLineCost,
    guardrails,
    cache: cacheSection,
    targets: TARGETS,
    met,
    runtimeS: (performance.now() - startedAt) / 1000,
    runs,
  };
  const out = join(ROOT, 'bench', 'results');
  mkdirSync(out, { recursive: true });
  const file = ON_WORKERD ? 'latest.json' : 'latest-wrangler-dev.json';
  writeFileSync(join(out, file), `${JSON.stringify(report, null, 2)}\n`);
  console.log(formatReport(report));
}

type Server = WranglerServer & { headers?: Record<string, string> };

/** The bundles on plain `workerd serve`, and the Portkey peer on Node. */
async function startOnWorkerd(
  vars: Record<string, string>,
  upstream: string,
  tracing: Record<string, string>,
): Promise<Server[]> {
  log('bundling with wrangler deploy --dry-run');
  const floor = bundle('bench/wrangler.passthrough.toml', join(stateDir, 'floor'));
  await buildConsole(); // wrangler.toml's [assets] directory must exist to bundle
  const gateway = bundle('wrangler.toml', join(stateDir, 'gateway'));
  const gw = (name: string, extra: Record<string, string> = {}) =>
    startWorkerd({
      name,
      bundle: gateway,
      vars: { GATEWAY_FORCE_ZONE: 'none', ...vars, ...extra },
      readyPath: '/health',
    });
  return settle([
    startWorkerd({
      name: 'floor',
      bundle: floor,
      vars: { UPSTREAM_URL: upstream },
      readyPath: '/v1/models',
    }),
    gw('gateway'),
    gw('gateway-noauth', { GATEWAY_AUTH_ENABLED: 'false' }),
    gw('gateway-tracing', tracing),
    // workers/gateway.config.json's `default` policy (PII masked, secrets blocked) on
    gw('gateway-guardrails', { GATEWAY_GUARDRAIL_POLICIES: 'default' }),
    startWorkerd({
      name: 'floor-log',
      bundle: floor,
      vars: { UPSTREAM_URL: upstream, LOG_LINE: '1' },
      readyPath: '/v1/models',
    }),
    startPortkey(upstream).then(({ server, headers }) => ({ ...server, headers })),
  ]);
}

/** The same Workers under `wrangler dev`, plus gateway-b for the Redis-tier cache hits. */
async function startOnDev(
  vars: Record<string, string>,
  tracing: Record<string, string>,
): Promise<Server[]> {
  const upstream = vars.OPENAI_BASE_URL!.replace(/\/v1$/, '');
  const gatewayNamed = (name: string, extra: Record<string, string> = {}) =>
    startWrangler({
      name,
      vars: { ...vars, ...extra },
      readyPath: '/health',
      persistTo: join(stateDir, name),
    });
  return settle([
    startWrangler({
      name: 'floor',
      config: 'bench/wrangler.passthrough.toml',
      vars: { UPSTREAM_URL: upstream },
      readyPath: '/v1/models',
    }),
    gatewayNamed('gateway'),
    gatewayNamed('gateway-noauth', { GATEWAY_AUTH_ENABLED: 'false' }),
    gatewayNamed('gateway-tracing', tracing),
    gatewayNamed('gateway-b'),
    startWrangler({
      name: 'floor-log',
      config: 'bench/wrangler.passthrough.toml',
      vars: { UPSTREAM_URL: upstream, LOG_LINE: '1' },
      readyPath: '/v1/models',
    }),
  ]);
}

async function settle(starting: Promise<Server>[]): Promise<Server[]> {
  const started = await Promise.allSettled(starting);
  const failed = started.find((s) => s.status === 'rejected');
  if (failed) throw failed.reason;
  return started.map((s) => (s as PromiseFulfilledResult<Server>).value);
}

/** What the peer does with one JSON and one streaming request (its streaming can fail). */
async function probePeer(target: Target) {
  const agent = new Agent({ keepAlive: true, maxSockets: 1 });
  const attempt = (mode: Mode): Promise<{ ok: boolean; error?: string }> =>
    timeRequest(target.url, agent, bodyOf(mode), target.headers).then(
      () => ({ ok: true }),
      (err: Error) => ({ ok: false, error: err.message }),
    );
  try {
    const result = { json: await attempt('json'), stream: await attempt('stream') };
    if (!result.stream.ok) log(`portkey: streaming fails (${result.stream.error}): json only`);
    return result;
  } finally {
    agent.destroy();
  }
}

/**
 * The default guardrail policy's cost: `gateway` and `gateway-guardrails` (the same with
 * `GATEWAY_GUARDRAIL_POLICIES=default`) back to back, each round: on the 2 KB prompt (JSON
 * answers; the request side and the answer read whole), and on a 2 KB answer streamed in
 * 20-character deltas (`answer2k`, masked as it flows; 2 rounds of 2 s, a short phase); worker
 * CPU ms per request, the difference per round.
 */
async function measureGuardrails(targets: Target[]) {
  const prompt = await pairedRuns(targets, 'prompt2k', SETTINGS);
  const answerSettings = flags.quick ? SETTINGS : { ...SETTINGS, seconds: 2, rounds: 2 };
  await setUpstreamStep(backends!.upstream, UPSTREAM_STEPS.answer2k!);
  const answer = await pairedRuns(targets, 'answer2k', answerSettings).finally(() =>
    setUpstreamStep(backends!.upstream, {}),
  );
  return {
    ...prompt,
    targetMs: GUARDRAIL_TARGET_MS,
    met: prompt.addedCpuMs.median <= GUARDRAIL_TARGET_MS,
    answer: { ...answer, settings: answerSettings },
  };
}

/** `gateway` and `gateway-guardrails` on one mode, back to back each round (alternating which
 * goes first); worker CPU added per request, per round. */
async function pairedRuns(targets: Target[], mode: Mode, settings: typeof SETTINGS) {
  const [off, on] = ['gateway', 'gateway-guardrails'].map(
    (n) => targets.find((t) => t.name === n)!,
  );
  const runs: Record<'gateway' | 'gateway-guardrails', Run[]> = {
    gateway: [],
    'gateway-guardrails': [],
  };
  for (let r = 0; r < settings.rounds; r++) {
    for (const target of r % 2 === 0 ? [off!, on!] : [on!, off!]) {
      const run = await measureRun(target, mode, settings, () => backends!.redisCpuMs());
      runs[target.name as keyof typeof runs].push(run);
      log(`round ${r + 1} ${mode} ${target.name} ${fmt(run.rps, 0)} req/s`);
    }
  }
  const addedCpuMs = ratio(
    runs['gateway-guardrails'],
    runs.gateway,
    (run) => run.cpu?.worker ?? Number.NaN,
    'diff',
  );
  return {
    load: {
      gateway: summarise(runs.gateway),
      'gateway-guardrails': summarise(runs['gateway-guardrails']),
    },
    addedCpuMs,
  };
}

function measure(target: Target, mode: Mode): Promise<Run> {
  return measureRun(target, mode, SETTINGS, () => backends!.redisCpuMs());
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
  const redisCpu = runs[0]?.redisCpu === null ? null : of((x) => x.redisCpu!);
  return { rps: of((x) => x.rps), p50: of((x) => x.p50), p99: of((x) => x.p99), cpu, redisCpu };
}

/** a / b (or a − b) of one figure, per round (the two ran back to back); median and min-max. */
function ratio(a: Run[], b: Run[], pick: (run: Run) => number, kind = 'ratio'): Ratio {
  const each = a.map((x, i) => (kind === 'diff' ? pick(x) - pick(b[i]!) : pick(x) / pick(b[i]!)));
  return { median: median(each), min: Math.min(...each), max: Math.max(...each) };
}

/**
 * Single requests, one at a time, each over `tierN` new prompts: the floor (same bodies), a miss
 * at `gateway` (it stores the answer in both tiers), then at `gateway-b` (own local state, same
 * Upstash) a Redis-tier hit (its first request for the entry) and a local-tier hit (its second).
 */
async function measureTiers(floorUrl: string, aUrl: string, bUrl: string) {
  const prompts = (tag: string, n: number) =>
    Array.from({ length: n }, (_, i) => deterministicBody(`${tag} ${RUN_ID} ${i}`));
  const phases = async (bodies: string[]) => {
    const floor = await drive(floorUrl, bodies, 1);
    const miss = await drive(aUrl, bodies, 1);
    await sleep(1_000); // the entries are written after the answer (waitUntil)
    const redisHit = await drive(bUrl, bodies, 1);
    await sleep(1_000);
    const localHit = await drive(bUrl, bodies, 1);
    return { floor, miss, redisHit, localHit };
  };
  log(`cache tiers: ${SETTINGS.tierN} new prompts, one request at a time (after a warm-up)`);
  await phases(prompts('warm-up', 20)); // gateway-b has had no traffic yet
  const timed = await phases(prompts('tier', SETTINGS.tierN));
  return Object.fromEntries(Object.entries(timed).map(([k, v]) => [k, latency(v)]));
}

/** `workload` requests over `prompts` distinct deterministic prompts (Zipf, s = 1), at `gateway`. */
async function measureWorkload(url: string) {
  const { workload, prompts, connections } = SETTINGS;
  const draws = zipfDraws(workload, prompts);
  log(`workload: ${workload} requests over ${prompts} prompts (Zipf), ${connections} connections`);
  const startAt = performance.now();
  const timings = await drive(
    url,
    draws.map((k) => deterministicBody(`workload ${RUN_ID} ${k}`)),
    connections,
  );
  const seconds = (performance.now() - startAt) / 1000;
  const summary = latency(timings);
  const upstreamCalls = summary.cache.MISS ?? 0; // a MISS is the one answer that came upstream
  return {
    requests: workload,
    distinctPrompts: new Set(draws).size, // the fewest upstream calls possible
    upstreamCalls,
    upstreamCallsSaved: workload - upstreamCalls,
    distinctAnswerIds: new Set(timings.map((t) => t.id)).size, // check: one per upstream answer
    rps: workload / seconds,
    ...summary,
  };
}

function latency(timings: StreamTiming[]): Latency {
  const totals = timings.map((t) => t.total);
  const cache: Record<string, number> = {};
  for (const t of timings) count(cache, t.cache);
  const [p50, p90, p99] = [50, 90, 99].map((p) => percentile(totals, p)) as [
    number,
    number,
    number,
  ];
  return { p50, p90, p99, cache };
}

/** `n` draws of ranks 0..k-1 with P(rank) ∝ 1/(rank+1)^s, from a fixed seed (mulberry32). */
function zipfDraws(n: number, k: number, s = 1): number[] {
  const weights = Array.from({ length: k }, (_, i) => 1 / (i + 1) ** s);
  const total = weights.reduce((a, b) => a + b, 0);
  let seed = 0x5eed;
  const random = () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return Array.from({ length: n }, () => {
    let [x, i] = [random() * total, 0];
    while (i < k - 1 && x >= weights[i]!) x -= weights[i++]!;
    return i;
  });
}

function formatReport(report: {
  runtime: string;
  machine: {
    node: string;
    cpu: string;
    cores: number;
    loadavgAtStart: number[];
    loadavgAtEnd: number[];
  };
  load: Record<Mode, Record<string, Summary>>;
  streams: Record<string, StreamStats>;
  ratios: Record<Mode, Record<string, Ratios>> & { ttfbAddedMs: Record<string, number> };
  ratiosToFloorLog: Partial<Record<Mode, Record<string, Ratios>>> & {
    ttfbAddedMs: Record<string, number>;
  };
  authCost: Record<'json' | 'stream', AuthCost>;
  tracingCost: Record<'json' | 'stream', AuthCost>;
  logLineCost: Record<'json' | 'stream', AuthCost>;
  guardrails: Awaited<ReturnType<typeof measureGuardrails>> | null;
  cache: {
    load: { gateway: Record<string, number> };
    tiers: Record<string, Latency>;
    workload: Awaited<ReturnType<typeof measureWorkload>>;
  } | null;
  peer: { json: { ok: boolean; error?: string }; stream: { ok: boolean; error?: string } } | null;
  met: Record<string, unknown>;
  runtimeS: number;
}): string {
  const {
    machine,
    load,
    streams,
    ratios,
    ratiosToFloorLog,
    authCost,
    tracingCost,
    logLineCost,
    cache,
    met,
  } = report;
  const { connections, seconds, rounds } = SETTINGS;
  const cpuHead = ON_WORKERD
    ? ['worker CPU', 'Redis CPU']
    : ['CPU ms/req', 'worker', 'dev proxy', 'wrangler', 'Redis CPU'];
  const lines = [
    '',
    `${report.runtime}: ${machine.cpu}, ${machine.cores} cores, Node ${machine.node}, load average ` +
      `${machine.loadavgAtStart.join(' ')} at start, ${machine.loadavgAtEnd.join(' ')} at the end; ` +
      `${connections} connections, ${seconds} s per run, median of ${rounds} round(s); CPU in ms per request`,
    '',
    row('mode', 'target', 'req/s', 'p50 ms', 'p99 ms', ...cpuHead),
  ];
  for (const mode of MODES) {
    for (const [name, r] of Object.entries(load[mode])) {
      const cpu = !r.cpu
        ? ['', ...(ON_WORKERD ? [] : ['', '', ''])]
        : ON_WORKERD
          ? [fmt(r.cpu.worker, 3)]
          : [r.cpu.worker + r.cpu.devProxy + r.cpu.wrangler, ...Object.values(r.cpu)].map((v) =>
              fmt(v, 2),
            );
      const redisCpu = r.redisCpu === null ? '' : fmt(r.redisCpu, 3);
      lines.push(row(mode, name, fmt(r.rps, 0), fmt(r.p50, 2), fmt(r.p99, 2), ...cpu, redisCpu));
    }
  }
  lines.push('', row('stream', 'target', 'TTFB p50', 'TTFB p90', 'end p50', 'chunk gap', 'chunks'));
  for (const [name, s] of Object.entries(streams)) {
    const values = [s.ttfbP50, s.ttfbP90, s.totalP50, s.gapMean].map((v) => `${fmt(v, 2)} ms`);
    lines.push(row('stream', name, ...values, fmt(s.chunksMean, 1)));
  }
  if (report.peer) {
    const said = (r: { ok: boolean; error?: string }) => (r.ok ? 'works' : `FAILS: ${r.error}`);
    lines.push(
      '',
      `portkey (peer, Node): json ${said(report.peer.json)}; stream ${said(report.peer.stream)}`,
    );
  }
  const mark = (ok: unknown) => (ok ? 'met' : 'NOT MET');
  const show = (r: Ratio, unit = 'x') =>
    `${fmt(r.median, 2)}${unit} (${fmt(r.min, 2)}-${fmt(r.max, 2)})`;
  const ratioLines = (byMode: Partial<Record<Mode, Record<string, Ratios>>>) => {
    for (const mode of MODES) {
      for (const [name, { rps, p50, p99, cpu }] of Object.entries(byMode[mode] ?? {})) {
        const label = mode === 'cached' ? `${name} (cache hits)` : name;
        lines.push(
          `  ${mode.padEnd(6)}  ${label.padEnd(20)} worker CPU ${show(cpu)};  req/s ${show(rps)};  ` +
            `p50 ${show(p50)};  p99 ${show(p99)}`,
        );
      }
    }
  };
  lines.push('', '/ floor (median over rounds; min-max over rounds in brackets):');
  ratioLines(ratios);
  const ttfb = (name: string, of = ratios.ttfbAddedMs) =>
    `${name} ${fmt(of[name] ?? Number.NaN, 2)} ms`;
  if (ON_WORKERD) {
    const cpuMet = met.cpuRatio as Record<string, boolean>;
    lines.push(
      `  targets: worker CPU gateway <= 2.0x json / 2.5x stream ${mark(cpuMet.gateway)}; ` +
        `gateway-noauth <= 1.5x / 2.0x ${mark(cpuMet['gateway-noauth'])}; gateway-noauth req/s >= ` +
        `${TARGETS.rpsRatio}x ${mark(met.noauthRpsRatio)}`,
    );
  } else {
    lines.push(
      `  targets (gateway, json and stream): req/s >= ${TARGETS.rpsRatio}x ${mark(met.rpsRatio)}, ` +
        `p50 <= ${TARGETS.p50Ratio}x ${mark(met.p50Ratio)}`,
    );
  }
  lines.push(
    `  stream TTFB p50 - floor: ${ttfb('gateway')}, ${ttfb('gateway-noauth')} (target gateway <= ` +
      `${TARGETS.ttfbAddedMs} ms: ${mark(met.ttfbAddedMs)})`,
    '/ floor-log (the floor plus the one log line; for reading, not the targets):',
  );
  ratioLines(ratiosToFloorLog);
  const toLog = ratiosToFloorLog.ttfbAddedMs;
  lines.push(
    `  stream TTFB p50 - floor-log: ${ttfb('gateway', toLog)}, ${ttfb('gateway-noauth', toLog)}`,
  );
  const costLines = (title: string, costs: Record<string, AuthCost>) => {
    lines.push(title);
    for (const [mode, c] of Object.entries(costs)) {
      const dev = ON_WORKERD
        ? ''
        : `, dev proxy +${fmt(c.devProxyCpuMs ?? Number.NaN, 2)}, wrangler +${fmt(c.wranglerCpuMs ?? Number.NaN, 2)}`;
      lines.push(
        `  ${mode.padEnd(6)}  p50 +${show(c.p50Ms, ' ms')};  CPU ms/req: worker ` +
          `+${fmt(c.workerCpuMs, 3)}${dev}, all +${fmt(c.allCpuMs, 3)}; worker per round ` +
          `+${fmt(c.workerCpuMsPerRound.median, 3)} (${fmt(c.workerCpuMsPerRound.min, 3)}..${fmt(c.workerCpuMsPerRound.max, 3)})`,
      );
    }
  };
  lines.push('');
  costLines('auth + limits + budget, gateway - gateway-noauth:', authCost);
  costLines(
    'OpenTelemetry on, gateway-tracing - gateway (target worker CPU <= +0.1 ms):',
    tracingCost,
  );
  costLines('one console.log line per request, floor-log - floor:', logLineCost);
  if (report.guardrails) {
    const g = report.guardrails;
    lines.push(
      '',
      `default guardrail policy, 2 KB prompt (json), gateway-guardrails - gateway: worker CPU ` +
        `+${fmt(g.addedCpuMs.median, 3)} ms/req (${fmt(g.addedCpuMs.min, 3)}..${fmt(g.addedCpuMs.max, 3)}), ` +
        `target <= +${g.targetMs} ms ${g.met ? 'met' : 'NOT met'}`,
      `default guardrail policy, 2 KB answer streamed in 20-character deltas (answer2k), ` +
        `gateway-guardrails - gateway: worker CPU +${fmt(g.answer.addedCpuMs.median, 3)} ms/req ` +
        `(${fmt(g.answer.addedCpuMs.min, 3)}..${fmt(g.answer.addedCpuMs.max, 3)}; gateway ` +
        `${fmt(g.answer.load.gateway.cpu?.worker ?? Number.NaN, 3)} ms/req)`,
    );
  }
  if (cache) {
    const counts = (c: Record<string, number>) =>
      Object.entries(c)
        .map(([k, v]) => `${k} ${v}`)
        .join(', ');
    lines.push(
      '',
      `cache, load runs at gateway (measured, all rounds): ${counts(cache.load.gateway)}`,
      `cache tiers, ${SETTINGS.tierN} prompts one at a time:`,
    );
    for (const [name, t] of Object.entries(cache.tiers)) {
      const figures = [t.p50, t.p90, t.p99].map((v) => `${fmt(v, 2)} ms`);
      lines.push(`  ${row(name, '', ...figures)}   ${counts(t.cache)}`);
    }
    const w = cache.workload;
    lines.push(
      `workload: ${w.requests} requests, ${w.distinctPrompts} distinct prompts drawn: ` +
        `${w.upstreamCalls} reached the upstream (${w.distinctAnswerIds} distinct answer ids), ` +
        `${w.upstreamCallsSaved} saved; ${counts(w.cache)}; ${fmt(w.rps, 0)} req/s, ` +
        `p50 ${fmt(w.p50, 2)} ms, p99 ${fmt(w.p99, 2)} ms`,
    );
  }
  const file = ON_WORKERD ? 'latest.json' : 'latest-wrangler-dev.json';
  lines.push('', `bench/results/${file} written; ${fmt(report.runtimeS, 0)} s in all`);
  return lines.join('\n');
}

function row(...cells: string[]): string {
  return cells.map((c, i) => (i < 2 ? c.padEnd(i === 0 ? 8 : 16) : c.padStart(11))).join('');
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
