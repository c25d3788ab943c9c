/**
 * Helpers for the origin tests: gpu-sim endpoints, an in-process origin over them, and a
 * fetch that signs like the edge does (so the official openai client can talk to the origin).
 */

import { type ChildProcess, spawn } from 'node:child_process';
import { type OriginConfigInput, resolveConfig } from '../../origin/src/config.ts';
import { type Origin, startOrigin } from '../../origin/src/server.ts';
import { signRequest } from '../../src/signing/index.ts';
import { type GpuSim, type SimOptions, startGpuSim } from '../../tools/gpu-sim/server.ts';

export const KEY = { id: 'edge-1', secret: 'origin-test-secret-0123456789' };
export const KEYS_SPEC = `${KEY.id}:${KEY.secret}`;
export const LLAMA = 'meta-llama/Llama-3.1-8B-Instruct';
export const BGE = 'BAAI/bge-small-en-v1.5';

/** Fast simulator timings so tests take milliseconds, not seconds. */
export const FAST: SimOptions = { prefillMsPerToken: 0.01, decodeMsPerToken: 2 };

export async function startSims(n: number, opts: SimOptions = {}): Promise<GpuSim[]> {
  return Promise.all(Array.from({ length: n }, () => startGpuSim({ ...FAST, ...opts })));
}

export type DeepPartial<T> = { [K in keyof T]?: T[K] extends object ? DeepPartial<T[K]> : T[K] };

/** An origin on a free loopback port; quiet, quick loops, no default process metrics. */
export async function startTestOrigin(
  raw: Partial<OriginConfigInput> & Pick<OriginConfigInput, 'pools' | 'models'>,
  opts: Parameters<typeof startOrigin>[1] = {},
): Promise<Origin> {
  const resolved = resolveConfig(
    {
      listen: { host: '127.0.0.1', port: 0 },
      signingKeys: KEYS_SPEC,
      scrape: { intervalMs: 50, staleAfterMs: 1_000 },
      health: { intervalMs: 100, timeoutMs: 500 },
      timeouts: { firstByteMs: 5_000, idleMs: 5_000 },
      ...raw,
    },
    {},
  );
  return startOrigin(resolved, { log: () => {}, defaultMetrics: false, ...opts });
}

/** A fetch that signs every request like the edge's origin provider. */
export function signingFetch(key = KEY, extraHeaders: Record<string, string> = {}): typeof fetch {
  return async (input, init = {}) => {
    const url = typeof input === 'string' ? input : input instanceof URL ? input.href : input.url;
    const method = init.method ?? 'GET';
    const body = typeof init.body === 'string' ? init.body : '';
    const headers = new Headers(init.headers);
    for (const [k, v] of Object.entries(extraHeaders)) headers.set(k, v);
    const signed = await signRequest({ key, method, url, body });
    for (const [k, v] of Object.entries(signed)) headers.set(k, v);
    return fetch(url, { ...init, headers });
  };
}

export const post = (
  origin: Origin,
  path: string,
  body: unknown,
  headers: Record<string, string> = {},
) =>
  signingFetch(KEY, headers)(`${origin.url}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });

export const chat = (content: string, extra: Record<string, unknown> = {}) => ({
  model: LLAMA,
  messages: [{ role: 'user', content }],
  ...extra,
});

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export async function waitFor(cond: () => boolean | Promise<boolean>, ms = 5_000): Promise<void> {
  const until = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > until) throw new Error('condition not met in time');
    await sleep(10);
  }
}

/** SSE `data:` payloads of a response body. */
export async function sseData(res: Response): Promise<string[]> {
  const text = await res.text();
  return text
    .split('\n\n')
    .filter((b) => b.startsWith('data: '))
    .map((b) => b.slice(6));
}

/** A metric's value from Prometheus text (sum over series matching the labels given). */
export function metricValue(
  text: string,
  name: string,
  labels: Record<string, string> = {},
): number {
  let sum = 0;
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${name}{`) && !line.startsWith(`${name} `)) continue;
    const match = Object.entries(labels).every(([k, v]) => line.includes(`${k}="${v}"`));
    if (match) sum += Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return sum;
}

export interface OriginProcess {
  child: ChildProcess;
  url: string;
  output(): string;
}

/** `node origin/src/main.ts` as a child process, config inline; resolves once listening. */
export async function startOriginProcess(
  config: Record<string, unknown>,
  env: Record<string, string> = {},
): Promise<OriginProcess> {
  const child = spawn(process.execPath, ['origin/src/main.ts'], {
    env: {
      ...process.env,
      PORT: '0',
      ORIGIN_SIGNING_KEYS: KEYS_SPEC,
      ORIGIN_CONFIG: JSON.stringify({ listen: { host: '127.0.0.1' }, ...config }),
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout!.on('data', (d) => {
    out += d;
  });
  child.stderr!.on('data', (d) => {
    out += d;
  });
  await waitFor(() => /"event":"listening"/.test(out) || child.exitCode !== null, 15_000);
  const url = /"event":"listening","url":"([^"]+)"/.exec(out)?.[1];
  if (!url) {
    child.kill('SIGKILL');
    throw new Error(`origin did not start:\n${out}`);
  }
  return { child, url, output: () => out };
}
