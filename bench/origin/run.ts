/**
 * Origin benchmark: `npm run bench:origin` (results in bench/origin/README.md).
 *
 * Four simulated vLLM endpoints (tools/gpu-sim, one child process) behind the origin
 * (`node origin/src/main.ts`, one child process per policy, fresh simulators each time), and an
 * open-loop load generator here: Poisson arrivals of streamed chat requests, each starting
 * with one of a few long system prompts. Phases:
 *
 * 1. capacity: round-robin under a closed loop (enough concurrency to saturate) → the
 *    sustainable throughput of the baseline; the offered load below is 80 % of it;
 * 2. scheduler vs round-robin vs least-request at that load: TTFT p50/p90, end-to-end p90,
 *    throughput, prefix-cache hit rate reported by the simulators;
 * 3. the router's own added latency: `server-timing: dispatch` of every request in (2), and
 *    direct-to-simulator vs through-the-origin round trips at concurrency 1;
 * 4. the origin's memory with 500 open streams.
 *
 * Options: --quick (shorter phases), --seed N, --rate R (skip the capacity phase and offer R
 * req/s), --policies a,b (subset), --scheduler '<json>' (merged into the origin's `scheduler`
 * config, for tuning), --no-extras (skip phases 3 and 4).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { signRequest } from '../../src/signing/index.ts';
import { seededRandom, tokenize } from '../../tools/gpu-sim/model.ts';
import type { SimOptions } from '../../tools/gpu-sim/server.ts';

const ROOT = join(import.meta.dirname, '..', '..');
const { values: args } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    seed: { type: 'string', default: '7' },
    rate: { type: 'string' },
    policies: { type: 'string', default: 'scheduler,round-robin,least-request' },
    scheduler: { type: 'string', default: '{}' },
    'no-extras': { type: 'boolean', default: false },
  },
});
const QUICK = args.quick;
const SEED = Number(args.seed);
const MODEL = 'meta-llama/Llama-3.1-8B-Instruct';
const KEY = { id: 'bench', secret: 'bench-origin-secret-0123456789' };

/** The simulated servers: gpu-sim defaults, with a KV cache that holds ~3 of the prompts. */
const SIM: SimOptions = { kind: 'vllm', maxBatch: 8, kvBlocks: 400, blockSize: 16 };
const WORKLOAD = {
  systemPrompts: 8,
  systemPromptTokens: 1_600,
  questionWords: 12,
  maxTokens: 24,
};
const PHASE = {
  capacityMs: QUICK ? 6_000 : 12_000,
  capacityConcurrency: 48,
  warmupMs: QUICK ? 2_000 : 4_000,
  measureMs: QUICK ? 8_000 : 20_000,
  load: 0.8,
  overheadRequests: QUICK ? 100 : 300,
  streams: 500,
};

// ---------------------------------------------------------------------------------------------
// Processes

const children = new Set<ChildProcess>();
process.on('exit', () => {
  for (const c of children) c.kill('SIGKILL');
});
for (const signal of ['SIGINT', 'SIGTERM'] as const) process.on(signal, () => process.exit(130));

function spawnNode(script: string, argv: string[], env: Record<string, string> = {}) {
  const child = spawn(process.execPath, [script, ...argv], {
    cwd: ROOT,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.add(child);
  let out = '';
  child.stdout!.on('data', (d) => {
    out += d;
  });
  child.stderr!.on('data', (d) => {
    out += d;
  });
  const waitFor = async (re: RegExp, ms = 15_000) => {
    const until = Date.now() + ms;
    for (;;) {
      const m = re.exec(out);
      if (m) return m;
      if (child.exitCode !== null || Date.now() > until) {
        throw new Error(`${script} did not start:\n${out.slice(-2_000)}`);
      }
      await sleep(20);
    }
  };
  const stop = async () => {
    if (child.exitCode === null) {
      child.kill('SIGTERM');
      await new Promise((r) => child.once('exit', r));
    }
    children.delete(child);
    return out;
  };
  return { child, waitFor, stop, output: () => out };
}

interface SimState {
  prefixQueryTokens: number;
  prefixHitTokens: number;
  preemptions: number;
  finished: number;
}

async function startSims(options: SimOptions = SIM, count = 4, nullServers = false) {
  const p = spawnNode('bench/origin/sims.ts', [
    '--count',
    String(count),
    '--options',
    JSON.stringify(options),
    ...(nullServers ? ['--null'] : []),
  ]);
  const m = await p.waitFor(/\{"urls":(\[[^\]]*\])\}/);
  const urls = JSON.parse(m[1]!) as string[];
  return {
    urls,
    async stop(): Promise<SimState[]> {
      const out = await p.stop();
      const line = out.split('\n').find((l) => l.startsWith('{"states"'));
      return line ? (JSON.parse(line) as { states: SimState[] }).states : [];
    },
  };
}

async function startOrigin(policy: string, urls: string[], extra: Record<string, unknown> = {}) {
  // The router's prefix index sized like the simulators' KV cache, in 64-character blocks.
  const charsPerToken = promptCharsPerToken();
  const lruBlocks = Math.floor(
    ((SIM.kvBlocks ?? 2048) * (SIM.blockSize ?? 16) * charsPerToken) / 64,
  );
  const config = {
    listen: { host: '127.0.0.1', port: 0 },
    policy,
    pools: { vllm: { kind: 'vllm', endpoints: urls } },
    models: { [MODEL]: 'vllm' },
    scheduler: {
      ...(JSON.parse(args.scheduler) as Record<string, unknown>),
      prefix: { lruBlocksPerEndpoint: lruBlocks },
    },
    // Admission control off for a clean policy comparison: no router-side queueing.
    limits: { maxWaitingPerEndpoint: 100_000, maxKvUsage: 1, queueSize: 10_000 },
    ...extra,
  };
  const p = spawnNode('origin/src/main.ts', [], {
    PORT: '0',
    ORIGIN_CONFIG: JSON.stringify(config),
    ORIGIN_SIGNING_KEYS: `${KEY.id}:${KEY.secret}`,
    DRAIN_DEADLINE_MS: '1000',
  });
  const m = await p.waitFor(/"event":"listening","url":"([^"]+)"/);
  return { url: m[1]!, stop: p.stop, pid: p.child.pid! };
}

// ---------------------------------------------------------------------------------------------
// Workload

const VOCAB = (
  'alpha beta gamma delta system policy answer customer support invoice refund shipping ' +
  'warranty account billing product manual chapter section clause contract review summary ' +
  'context document retrieval assistant careful precise friendly concise evidence source'
).split(' ');

function words(rng: () => number, n: number): string {
  return Array.from({ length: n }, () => VOCAB[Math.floor(rng() * VOCAB.length)]).join(' ');
}

const systemPrompts = (() => {
  const rng = seededRandom(SEED * 1000);
  return Array.from({ length: WORKLOAD.systemPrompts }, (_, i) => {
    let text = `System prompt ${i}. You are assistant number ${i}.`;
    while (tokenize(text).length < WORKLOAD.systemPromptTokens) text += ` ${words(rng, 20)}.`;
    return text;
  });
})();

function promptCharsPerToken(): number {
  const text = systemPrompts[0]!;
  return text.length / tokenize(text).length;
}

function workload(seed: number) {
  const rng = seededRandom(seed);
  return () => {
    const k = Math.floor(rng() * systemPrompts.length);
    return {
      model: MODEL,
      stream: true,
      stream_options: { include_usage: true },
      max_tokens: WORKLOAD.maxTokens,
      messages: [
        { role: 'system', content: systemPrompts[k]! },
        { role: 'user', content: `${words(rng, WORKLOAD.questionWords)}?` },
      ],
    };
  };
}

// ---------------------------------------------------------------------------------------------
// Load generation

interface Sample {
  startedAt: number;
  ttftMs: number;
  e2eMs: number;
  tokens: number;
  dispatchMs: number | undefined;
  status: number;
}

async function signedPost(url: string, body: unknown, signal?: AbortSignal): Promise<Response> {
  const text = JSON.stringify(body);
  const headers = await signRequest({ key: KEY, method: 'POST', url, body: text });
  return fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: text,
    ...(signal ? { signal } : {}),
  });
}

async function oneRequest(base: string, body: unknown): Promise<Sample> {
  const startedAt = performance.now();
  let ttft = Number.NaN;
  let tokens = 0;
  try {
    const res = await signedPost(`${base}/v1/chat/completions`, body);
    const timing = /dispatch;dur=([\d.]+)/.exec(res.headers.get('server-timing') ?? '');
    if (!res.ok || !res.body) {
      await res.body?.cancel();
      return sample(res.status);
    }
    const decoder = new TextDecoder();
    for await (const chunk of res.body) {
      const text = decoder.decode(chunk, { stream: true });
      if (Number.isNaN(ttft) && text.includes('"content":"')) ttft = performance.now() - startedAt;
      const usage = /"completion_tokens":(\d+)/.exec(text);
      if (usage) tokens = Number(usage[1]);
    }
    return { ...sample(res.status), dispatchMs: timing ? Number(timing[1]) : undefined };
  } catch {
    return sample(0);
  }
  function sample(status: number): Sample {
    const e2eMs = performance.now() - startedAt;
    return { startedAt, ttftMs: ttft, e2eMs, tokens, dispatchMs: undefined, status };
  }
}

/** Poisson arrivals at `rate`/s for warmup + measure; samples of the measured window only. */
async function openLoop(base: string, rate: number, seed: number) {
  const next = workload(seed);
  const rng = seededRandom(seed + 1);
  const t0 = performance.now();
  const end = t0 + PHASE.warmupMs + PHASE.measureMs;
  const pending: Promise<Sample>[] = [];
  for (let at = t0; at < end; at += (-Math.log(1 - rng()) * 1000) / rate) {
    const wait = at - performance.now();
    if (wait > 0) await sleep(wait);
    pending.push(oneRequest(base, next()));
  }
  const all = await Promise.all(pending);
  const from = t0 + PHASE.warmupMs;
  const measured = all.filter((s) => s.startedAt >= from);
  const windowEnd = t0 + PHASE.warmupMs + PHASE.measureMs;
  const done = measured.filter(
    (s) => s.status === 200 && s.startedAt + s.e2eMs <= windowEnd + 5_000,
  );
  return { measured, done, windowMs: PHASE.measureMs };
}

/** `concurrency` clients each sending the next request as soon as the last one finished. */
async function closedLoop(base: string, concurrency: number, ms: number, seed: number) {
  const next = workload(seed);
  const until = performance.now() + ms;
  const from = performance.now() + ms / 4; // first quarter: warm-up
  let completed = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (performance.now() < until) {
        const s = await oneRequest(base, next());
        if (s.status === 200 && s.startedAt >= from && performance.now() <= until) completed++;
      }
    }),
  );
  return completed / ((until - from) / 1000);
}

// ---------------------------------------------------------------------------------------------
// Phases

const pct = (xs: number[], p: number) => {
  const s = xs.filter((x) => Number.isFinite(x)).sort((a, b) => a - b);
  return s.length === 0 ? Number.NaN : s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))]!;
};
const round = (x: number, d = 1) => Math.round(x * 10 ** d) / 10 ** d;

async function capacity(policy = 'round-robin'): Promise<number> {
  const sims = await startSims();
  const origin = await startOrigin(policy, sims.urls);
  const rps = await closedLoop(origin.url, PHASE.capacityConcurrency, PHASE.capacityMs, SEED);
  await origin.stop();
  await sims.stop();
  return rps;
}

async function comparePolicy(policy: string, rate: number) {
  const sims = await startSims();
  const origin = await startOrigin(policy, sims.urls);
  const { measured, done, windowMs } = await openLoop(origin.url, rate, SEED);
  await origin.stop();
  const states = await sims.stop();
  const hits = states.reduce((n, s) => n + s.prefixHitTokens, 0);
  const queries = states.reduce((n, s) => n + s.prefixQueryTokens, 0);
  const ok = measured.filter((s) => s.status === 200);
  return {
    policy,
    requests: measured.length,
    errors: measured.length - ok.length,
    ttftP50: round(
      pct(
        ok.map((s) => s.ttftMs),
        50,
      ),
    ),
    ttftP90: round(
      pct(
        ok.map((s) => s.ttftMs),
        90,
      ),
    ),
    e2eP90: round(
      pct(
        ok.map((s) => s.e2eMs),
        90,
      ),
    ),
    throughputRps: round(done.length / (windowMs / 1000), 2),
    tokensPerSec: round(done.reduce((n, s) => n + s.tokens, 0) / (windowMs / 1000)),
    prefixHitRate: round(queries > 0 ? hits / queries : 0, 3),
    preemptions: states.reduce((n, s) => n + s.preemptions, 0),
    dispatchMs: ok.map((s) => s.dispatchMs).filter((x): x is number => x !== undefined),
  };
}

/**
 * Round trips of a tiny non-streamed request, one at a time, to an upstream that answers at
 * once (no simulator timers): directly, and through the origin (an extra loopback hop plus
 * signing at the client and everything the router does).
 */
async function overhead() {
  const sims = await startSims(SIM, 1, true);
  const origin = await startOrigin('scheduler', sims.urls);
  const body = { model: MODEL, max_tokens: 1, messages: [{ role: 'user', content: 'ping' }] };
  const directUrl = `${sims.urls[0]}/v1/chat/completions`;
  const originUrl = `${origin.url}/v1/chat/completions`;
  const once = async (signed: boolean) => {
    const t = performance.now();
    const res = signed
      ? await signedPost(originUrl, body)
      : await fetch(directUrl, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify(body),
        });
    await res.arrayBuffer();
    return performance.now() - t;
  };
  // Alternating, so drift (JIT, CPU frequency, other processes) hits both series alike.
  const direct: number[] = [];
  const via: number[] = [];
  for (let i = 0; i < 100 + PHASE.overheadRequests; i++) {
    const [d, v] = [await once(false), await once(true)];
    if (i >= 100) {
      direct.push(d);
      via.push(v);
    }
  }
  await origin.stop();
  await sims.stop();
  return {
    directP50: round(pct(direct, 50), 2),
    originP50: round(pct(via, 50), 2),
    addedP50: round(pct(via, 50) - pct(direct, 50), 2),
    directP99: round(pct(direct, 99), 2),
    originP99: round(pct(via, 99), 2),
  };
}

async function rssOf(pid: number): Promise<number> {
  const { readFileSync } = await import('node:fs');
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  return Number(/VmRSS:\s+(\d+) kB/.exec(status)![1]) / 1024;
}

async function heapOf(url: string): Promise<number> {
  const text = await (await fetch(`${url}/metrics`)).text();
  return Number(/^nodejs_heap_size_used_bytes (\S+)$/m.exec(text)?.[1] ?? Number.NaN) / 2 ** 20;
}

/** The origin's memory while it relays 500 open streams (slow ones, so they stay open). */
async function memory() {
  const sims = await startSims({ ...SIM, maxBatch: 128, kvBlocks: 8_192, decodeMsPerToken: 200 });
  const origin = await startOrigin('scheduler', sims.urls);
  // warm up, then measure idle
  for (let i = 0; i < 20; i++) {
    await (
      await signedPost(`${origin.url}/v1/chat/completions`, {
        model: MODEL,
        max_tokens: 1,
        messages: [{ role: 'user', content: 'hi' }],
      })
    ).arrayBuffer();
  }
  const idleRss = await rssOf(origin.pid);
  const idleHeap = await heapOf(origin.url);
  const abort = new AbortController();
  let open = 0;
  const streams = Array.from({ length: PHASE.streams }, async (_, i) => {
    const res = await signedPost(
      `${origin.url}/v1/chat/completions`,
      {
        model: MODEL,
        stream: true,
        max_tokens: 400,
        messages: [{ role: 'user', content: `stream number ${i} keeps going` }],
      },
      abort.signal,
    );
    const reader = res.body!.getReader();
    await reader.read();
    open++;
    try {
      while (!(await reader.read()).done) {}
    } catch {}
  });
  const until = Date.now() + 20_000;
  while (open < PHASE.streams && Date.now() < until) await sleep(50);
  await sleep(1_000); // all streams flowing
  const openRss = await rssOf(origin.pid);
  const openHeap = await heapOf(origin.url);
  const reached = open;
  abort.abort();
  await Promise.allSettled(streams);
  await origin.stop();
  await sims.stop();
  return {
    streams: reached,
    idleRssMiB: round(idleRss),
    openRssMiB: round(openRss),
    idleHeapMiB: round(idleHeap),
    openHeapMiB: round(openHeap),
    perStreamKiB: round(((openRss - idleRss) * 1024) / reached),
  };
}

function sleep(ms: number) {
  return new Promise((r) => setTimeout(r, ms));
}

// ---------------------------------------------------------------------------------------------

const t0 = Date.now();
console.log(
  `origin bench: 4 × gpu-sim vLLM (maxBatch ${SIM.maxBatch}, kvBlocks ${SIM.kvBlocks}), ` +
    `${WORKLOAD.systemPrompts} system prompts × ${WORKLOAD.systemPromptTokens} tokens, ` +
    `max_tokens ${WORKLOAD.maxTokens}${QUICK ? ' (quick)' : ''}`,
);
const cap = args.rate ? Number(args.rate) / PHASE.load : await capacity();
const rate = round(cap * PHASE.load, 2);
console.log(
  args.rate
    ? `offered ${rate} req/s (--rate)`
    : `capacity (round-robin, closed loop ×${PHASE.capacityConcurrency}): ${round(cap, 2)} req/s → offered ${rate} req/s`,
);

const results = [];
for (const policy of args.policies.split(',')) {
  const r = await comparePolicy(policy, rate);
  const { dispatchMs: _, ...row } = r;
  console.log(JSON.stringify(row));
  results.push(r);
}
const sched = results.find((r) => r.policy === 'scheduler');
const rr = results.find((r) => r.policy === 'round-robin');
const dispatch = sched && {
  p50: round(pct(sched.dispatchMs, 50), 3),
  p99: round(pct(sched.dispatchMs, 99), 3),
  samples: sched.dispatchMs.length,
};
if (dispatch) console.log(`dispatch (scheduler, server-timing): ${JSON.stringify(dispatch)}`);
const extras = !args['no-extras'];
const rtt = extras ? await overhead() : undefined;
if (rtt) console.log(`round trip, direct vs through the origin: ${JSON.stringify(rtt)}`);
const mem = extras ? await memory() : undefined;
if (mem) console.log(`memory with open streams: ${JSON.stringify(mem)}`);
// The other side of "throughput not lower": what the scheduler sustains when saturated.
const schedCap = extras && !args.rate ? round(await capacity('scheduler'), 2) : undefined;
if (schedCap) console.log(`capacity (scheduler, same closed loop): ${schedCap} req/s`);

const table = [
  '| policy | TTFT p50 (ms) | TTFT p90 (ms) | e2e p90 (ms) | throughput (req/s) | tokens/s | prefix hit rate | errors |',
  '| --- | --- | --- | --- | --- | --- | --- | --- |',
  ...results.map(
    (r) =>
      `| ${r.policy} | ${r.ttftP50} | ${r.ttftP90} | ${r.e2eP90} | ${r.throughputRps} | ${r.tokensPerSec} | ${r.prefixHitRate} | ${r.errors}/${r.requests} |`,
  ),
].join('\n');
console.log(`\n${table}\n`);
if (sched && rr) {
  console.log(
    `p90 TTFT round-robin / scheduler: ${round(rr.ttftP90 / sched.ttftP90, 2)}x; ` +
      `throughput scheduler / round-robin: ${round(sched.throughputRps / rr.throughputRps, 3)}`,
  );
}
console.log(`total ${round((Date.now() - t0) / 1000)} s`);

const complete = extras && !args.rate && results.length === 3;
if (!complete) process.exit(0); // tuning runs do not overwrite the recorded results
const dir = join(import.meta.dirname, 'results');
mkdirSync(dir, { recursive: true });
writeFileSync(
  join(dir, QUICK ? 'latest-quick.json' : 'latest.json'),
  `${JSON.stringify(
    {
      at: new Date().toISOString(),
      quick: QUICK,
      seed: SEED,
      sim: SIM,
      workload: WORKLOAD,
      capacityRps: round(cap, 2),
      schedulerCapacityRps: schedCap,
      offeredRps: rate,
      policies: results.map(({ dispatchMs: _, ...r }) => r),
      dispatch,
      roundTrip: rtt,
      memory: mem,
    },
    null,
    2,
  )}\n`,
);
process.exit(0);
