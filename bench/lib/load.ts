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
};
export type Mode = keyof typeof BODIES;

export interface LoadResult {
  rps: number; // 2xx responses per second
  p50: number; // ms, from our own sample of every 2xx response (autocannon's histogram is whole ms)
  p99: number;
  ok: number;
  failed: number; // non-2xx, errors and timeouts
}

export async function runLoad(
  url: string,
  mode: Mode,
  opts: { connections: number; seconds: number },
): Promise<LoadResult> {
  const latencies: number[] = [];
  const run = autocannon({
    url,
    method: 'POST',
    headers: HEADERS,
    body: BODIES[mode],
    connections: opts.connections,
    duration: opts.seconds,
    timeout: 10,
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
  };
}

export interface StreamTiming {
  ttfb: number; // ms from sending the request to the first body chunk
  total: number; // ms to the end of the body
  spread: number; // ms from the first to the last body chunk
  chunks: number; // body chunks as read by the client (TCP may merge SSE events)
}

/** One streaming request on a keep-alive agent; rejects on a non-200 or a body without [DONE]. */
export function timeStream(url: string, agent: Agent): Promise<StreamTiming> {
  return new Promise((resolve, reject) => {
    const start = performance.now();
    const req = request(
      url,
      { method: 'POST', headers: HEADERS, agent, timeout: 10_000 },
      (res) => {
        let [ttfb, lastAt, chunks, last] = [0, 0, 0, ''];
        res.on('data', (chunk: Buffer) => {
          lastAt = performance.now() - start;
          if (chunks++ === 0) ttfb = lastAt;
          last = chunk.toString('latin1').slice(-32);
        });
        res.on('end', () => {
          const total = performance.now() - start;
          if (res.statusCode !== 200 || !last.includes('[DONE]')) {
            reject(new Error(`${url}: status ${res.statusCode}, stream ended with ${last}`));
          } else resolve({ ttfb, total, spread: lastAt - ttfb, chunks });
        });
        res.on('error', reject);
      },
    );
    req.on('timeout', () => req.destroy(new Error(`${url}: timed out`)));
    req.on('error', reject);
    req.end(BODIES.stream);
  });
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
): Promise<Record<string, StreamStats>> {
  const names = Object.keys(urls);
  const agents = names.map(() => new Agent({ keepAlive: true, maxSockets: 1 }));
  const timings: StreamTiming[][] = names.map(() => []);
  try {
    for (let i = 0; i < opts.warmup + opts.n; i++) {
      for (const [t, name] of names.entries()) {
        const timing = await timeStream(urls[name]!, agents[t]!);
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
