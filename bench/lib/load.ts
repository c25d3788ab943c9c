/**
 * Load and latency measurements: autocannon at fixed concurrency (requests/s, p50/p99), and a
 * sequential loop timing each stream's first body byte and the gaps between body chunks.
 */
import { Agent, request } from 'node:http';
import { performance } from 'node:perf_hooks';
import autocannon from 'autocannon';

/** The gateway API key the bench seeds; the floor passes it on to the upstream, which takes any. */
export const API_KEY = 'sk-gw-bench000000000000000000000000000';
const HEADERS = { 'content-type': 'application/json', authorization: `Bearer ${API_KEY}` };
const MESSAGES = [{ role: 'user', content: 'Hello' }];
const BODIES = {
  json: JSON.stringify({ model: 'gpt-4o-mini', messages: MESSAGES }),
  stream: JSON.stringify({ model: 'gpt-4o-mini', stream: true, messages: MESSAGES }),
  // deterministic and fixed: the gateway answers it from its response cache after the first
  cached: deterministicBody('Hello, cache'),
  // a 2 KB prompt of prose with an email and a card in it: what the default guardrail policy
  // (PII masked, secrets blocked) scans per request
  prompt2k: JSON.stringify({
    model: 'gpt-4o-mini',
    messages: [{ role: 'user', content: prompt2k() }],
  }),
  // a streamed answer of that text in 20-character deltas (the fake upstream's step, below):
  // what the default policy masks as it flows
  answer2k: JSON.stringify({ model: 'gpt-4o-mini', stream: true, messages: MESSAGES }),
};

/** What the fake upstream answers in a mode (its `PUT /__default` step), when not its default. */
export const UPSTREAM_STEPS: Partial<Record<Mode, { content: string; pieceChars: number }>> = {
  answer2k: { content: prompt2k(), pieceChars: 20 },
};

function prompt2k(): string {
  const sentence =
    'Please summarise the quarterly report for the board, with the figures for each region. ';
  const pii = 'Reply to jane.roe@example.com; the card on file is 4111 1111 1111 1111. ';
  return (pii + sentence.repeat(24)).slice(0, 2_048);
}
export type Mode = keyof typeof BODIES;
export const bodyOf = (mode: Mode) => BODIES[mode];

/** Every later request to the fake upstream outside a scenario follows `step` (`{}`: its
 * default answer); tools/fakes/default-route.ts. */
export async function setUpstreamStep(upstream: string, step: object): Promise<void> {
  const res = await fetch(`${upstream}/__default`, {
    method: 'PUT',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ step }),
  });
  if (!res.ok) throw new Error(`the fake upstream refused PUT /__default: ${res.status}`);
}

/** A chat request the gateway caches (`temperature: 0`), one per distinct prompt. */
export function deterministicBody(prompt: string): string {
  const messages = [{ role: 'user', content: prompt }];
  return JSON.stringify({ model: 'gpt-4o-mini', temperature: 0, messages });
}

export interface LoadResult {
  rps: number; // 2xx responses per second
  p50: number; // ms, from our own sample of every 2xx response (autocannon's histogram is whole ms)
  p99: number;
  ok: number;
  failed: number; // non-2xx, errors and timeouts
  cache: Record<string, number>; // 2xx responses by `x-gateway-cache` (HIT, MISS, BYPASS; none)
  firstError?: string; // status and body of the first non-2xx response
}

export async function runLoad(
  url: string,
  mode: Mode,
  opts: { connections: number; seconds: number; headers?: Record<string, string> },
): Promise<LoadResult> {
  const latencies: number[] = [];
  const cache: Record<string, number> = {};
  let firstError: string | undefined;
  const onResponse = (status: number, body: string, _ctx: unknown, headers: Headers) => {
    const value = Object.entries(headers).find(([k]) => k.toLowerCase() === CACHE_HEADER)?.[1];
    if (status >= 200 && status < 300) count(cache, value === undefined ? 'none' : String(value));
    else firstError ??= `${status} ${String(body).slice(0, 200)}`;
  };
  const run = autocannon({
    url,
    method: 'POST',
    headers: { ...HEADERS, ...opts.headers },
    body: BODIES[mode],
    connections: opts.connections,
    duration: opts.seconds,
    timeout: 10,
    requests: [{ onResponse }],
  });
  run.on('response', (_client: unknown, status: number, _bytes: number, ms: number) => {
    if (status >= 200 && status < 300) latencies.push(ms);
  });
  const result = await run;
  return {
    rps: result['2xx'] / result.duration,
    p50: percentile(latencies, 50),
    p99: percentile(latencies, 99),
    ok: result['2xx'],
    failed: result.non2xx + result.errors + result.timeouts,
    cache,
    firstError,
  };
}

const CACHE_HEADER = 'x-gateway-cache';
type Headers = Record<string, string | string[]>;
export const count = (counts: Record<string, number>, key: string, n = 1) => {
  counts[key] = (counts[key] ?? 0) + n;
};

export interface StreamTiming {
  ttfb: number; // ms from sending the request to the first body chunk
  total: number; // ms to the end of the body
  spread: number; // ms from the first to the last body chunk
  chunks: number; // body chunks as read by the client (TCP may merge SSE events)
  cache: string; // the `x-gateway-cache` header ('none' without one)
  id: string; // the answer's `id` (JSON answers; the fake upstream makes a new one per call)
}

/**
 * One request on a keep-alive agent (default: the streaming chat request); rejects on a
 * non-200, or a stream without [DONE].
 */
export function timeRequest(
  url: string,
  agent: Agent,
  body: string = BODIES.stream,
  headers: Record<string, string> = {},
): Promise<StreamTiming> {
  return new Promise((resolve, reject) => {
    const start = performance.now();
    const req = request(
      url,
      { method: 'POST', headers: { ...HEADERS, ...headers }, agent, timeout: 10_000 },
      (res) => {
        let [ttfb, lastAt, chunks, last, text] = [0, 0, 0, '', ''];
        const isStream = String(res.headers['content-type']).startsWith('text/event-stream');
        res.on('data', (chunk: Buffer) => {
          lastAt = performance.now() - start;
          if (chunks++ === 0) ttfb = lastAt;
          last = chunk.toString('latin1').slice(-32);
          if (!isStream) text += chunk.toString();
        });
        res.on('end', () => {
          const total = performance.now() - start;
          if (res.statusCode !== 200 || (isStream && !last.includes('[DONE]'))) {
            reject(new Error(`${url}: status ${res.statusCode}, body ended with ${last}`));
            return;
          }
          const cache = String(res.headers[CACHE_HEADER] ?? 'none');
          const id = isStream ? '' : String((JSON.parse(text) as { id?: string }).id);
          resolve({ ttfb, total, spread: lastAt - ttfb, chunks, cache, id });
        });
        res.on('error', reject);
      },
    );
    req.on('timeout', () => req.destroy(new Error(`${url}: timed out`)));
    req.on('error', reject);
    req.end(body);
  });
}

/** `bodies` in order over `connections` keep-alive connections to `url`; every answer's timing. */
export async function drive(
  url: string,
  bodies: string[],
  connections: number,
  headers: Record<string, string> = {},
): Promise<StreamTiming[]> {
  const agent = new Agent({ keepAlive: true, maxSockets: connections });
  const timings: StreamTiming[] = [];
  let next = 0;
  const loop = async () => {
    for (let i = next++; i < bodies.length; i = next++)
      timings[i] = await timeRequest(url, agent, bodies[i], headers);
  };
  try {
    await Promise.all(Array.from({ length: connections }, loop));
  } finally {
    agent.destroy();
  }
  return timings;
}

export interface StreamStats {
  ttfbP50: number;
  ttfbP90: number;
  totalP50: number;
  gapMean: number; // mean time between body chunks after the first, ms
  chunksMean: number;
}

/**
 * Sequential streams, one target after the other for each request (interleaved, so drift hits
 * every target alike): `warmup` untimed rounds, then `n` timed ones.
 */
export async function measureStreams(
  urls: Record<string, string>,
  opts: { warmup: number; n: number },
  headers: Record<string, Record<string, string>> = {},
): Promise<Record<string, StreamStats>> {
  const names = Object.keys(urls);
  const agents = names.map(() => new Agent({ keepAlive: true, maxSockets: 1 }));
  const timings: StreamTiming[][] = names.map(() => []);
  try {
    for (let i = 0; i < opts.warmup + opts.n; i++) {
      for (const [t, name] of names.entries()) {
        const timing = await timeRequest(urls[name]!, agents[t]!, undefined, headers[name]);
        if (i >= opts.warmup) timings[t]!.push(timing);
      }
    }
  } finally {
    for (const agent of agents) agent.destroy();
  }
  return Object.fromEntries(names.map((name, t) => [name, streamStats(timings[t]!)]));
}

function streamStats(timings: StreamTiming[]): StreamStats {
  const gaps = timings.filter((x) => x.chunks > 1).map((x) => x.spread / (x.chunks - 1));
  return {
    ttfbP50: percentile(
      timings.map((x) => x.ttfb),
      50,
    ),
    ttfbP90: percentile(
      timings.map((x) => x.ttfb),
      90,
    ),
    totalP50: percentile(
      timings.map((x) => x.total),
      50,
    ),
    gapMean: mean(gaps),
    chunksMean: mean(timings.map((x) => x.chunks)),
  };
}

/** Nearest-rank percentile. */
export function percentile(values: number[], p: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[
    Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))
  ]!;
}

export const median = (values: number[]) => percentile(values, 50);
const mean = (values: number[]) =>
  values.length === 0 ? Number.NaN : values.reduce((a, b) => a + b, 0) / values.length;
