/**
 * Edge → origin → simulated GPUs, end to end through real processes on loopback:
 * the official openai client → `wrangler dev` running the real gateway app with `origin`
 * providers (test/origin/fixtures) → `node origin/src/main.ts` → gpu-sim (vLLM ×2, TEI).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../../tools/dev/ports.ts';
import type { GpuSim } from '../../tools/gpu-sim/server.ts';
import {
  BGE,
  LLAMA,
  metricValue,
  type OriginProcess,
  startOriginProcess,
  startSims,
  waitFor,
} from './helpers.ts';

const ROOT = join(import.meta.dirname, '..', '..');
let sims: GpuSim[] = [];
let origin: OriginProcess;
let wrangler: ChildProcess;
let edgeUrl = '';
let wranglerOut = '';
let persistDir = '';

beforeAll(async () => {
  const vllm = await startSims(2, { decodeMsPerToken: 5 });
  const tei = await startSims(1, { kind: 'tei' });
  sims = [...vllm, ...tei];
  origin = await startOriginProcess({
    pools: {
      vllm: { kind: 'vllm', endpoints: vllm.map((s) => s.url) },
      bert: { kind: 'tei', endpoints: tei.map((s) => s.url) },
    },
    models: { [LLAMA]: 'vllm', [BGE]: 'bert' },
  });

  const [port, inspector] = [await freePort(), await freePort()];
  persistDir = mkdtempSync(join(tmpdir(), 'origin-e2e-'));
  edgeUrl = `http://127.0.0.1:${port}`;
  wrangler = spawn(
    process.execPath,
    [
      join(ROOT, 'node_modules', 'wrangler', 'bin', 'wrangler.js'),
      'dev',
      '-c',
      'test/origin/fixtures/wrangler.toml',
      '--ip',
      '127.0.0.1',
      '--port',
      String(port),
      '--inspector-port',
      String(inspector),
      '--show-interactive-dev-session=false',
      '--persist-to',
      persistDir,
      '--var',
      `ORIGIN_URL:${origin.url}`,
    ],
    {
      cwd: ROOT,
      detached: true,
      env: {
        ...process.env,
        CLOUDFLARE_CF_FETCH_ENABLED: 'false',
        WRANGLER_SEND_METRICS: 'false',
        X_LOCAL_OBSERVABILITY: 'false',
        X_LOCAL_EXPLORER: 'false',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  const keep = (d: Buffer) => {
    wranglerOut = (wranglerOut + d).slice(-4_000);
  };
  wrangler.stdout!.on('data', keep);
  wrangler.stderr!.on('data', keep);
  await waitFor(async () => {
    if (wrangler.exitCode !== null) throw new Error(`wrangler exited:\n${wranglerOut}`);
    return fetch(`${edgeUrl}/health/ready`).then(
      (r) => r.ok,
      () => false,
    );
  }, 60_000).catch((err: Error) => {
    throw new Error(`${err.message}\n${wranglerOut}`);
  });
}, 90_000);

afterAll(async () => {
  if (wrangler?.pid) {
    try {
      process.kill(-wrangler.pid, 'SIGTERM');
    } catch {}
    await new Promise((r) => setTimeout(r, 300));
    try {
      process.kill(-wrangler.pid, 'SIGKILL');
    } catch {}
  }
  origin?.child.kill('SIGKILL');
  await Promise.all(sims.map((s) => s.close()));
  if (persistDir) rmSync(persistDir, { recursive: true, force: true });
});

const client = () => new OpenAI({ baseURL: `${edgeUrl}/v1`, apiKey: 'sk-local', maxRetries: 0 });
const originMetrics = async () => (await fetch(`${origin.url}/metrics`)).text();

describe('edge (wrangler dev) → origin → gpu-sim with the official openai client', () => {
  it('answers a chat completion from a simulated vLLM endpoint', async () => {
    const { data: reply, response } = await client()
      .chat.completions.create({
        model: 'llama',
        messages: [{ role: 'user', content: 'Hello from the edge' }],
        max_tokens: 5,
      })
      .withResponse();
    expect(response.headers.get('x-gateway-provider')).toBe('origin-local');
    expect(reply.usage?.completion_tokens).toBe(5);
    expect(reply.choices[0]?.message.content?.split(' ')).toHaveLength(5);
    expect(sims[0]!.state().finished + sims[1]!.state().finished).toBe(1);
  });

  it('streams through both hops, token by token, usage included on request', async () => {
    const stream = await client().chat.completions.create({
      model: 'llama',
      messages: [{ role: 'user', content: 'Stream please' }],
      max_tokens: 12,
      stream: true,
      stream_options: { include_usage: true },
    });
    const pieces: string[] = [];
    let usage: number | undefined;
    for await (const chunk of stream) {
      const piece = chunk.choices[0]?.delta?.content;
      if (piece) pieces.push(piece);
      if (chunk.usage) usage = chunk.usage.completion_tokens;
    }
    expect(pieces).toHaveLength(12);
    expect(usage).toBe(12);
    const text = await originMetrics();
    expect(metricValue(text, 'origin_ttft_seconds_count', { pool: 'vllm' })).toBe(1);
    expect(metricValue(text, 'origin_requests_total', { pool: 'vllm', status: '200' })).toBe(2);
  });

  it('routes embeddings to the TEI pool', async () => {
    const emb = await client().embeddings.create({ model: 'bge', input: 'embed me' });
    expect(emb.data[0]!.embedding).toHaveLength(384);
    expect(sims[2]!.state().finished).toBe(1);
  });

  it('is refused by the origin when the edge signs with a key it does not know', async () => {
    const before = metricValue(await originMetrics(), 'origin_requests_total', { status: '401' });
    const err = await client()
      .chat.completions.create({
        model: 'llama-wrong-key',
        messages: [{ role: 'user', content: 'Hello' }],
      })
      .catch((e: unknown) => e as { status?: number });
    expect(err).toMatchObject({ status: 502 });
    const after = metricValue(await originMetrics(), 'origin_requests_total', { status: '401' });
    expect(after).toBe(before + 1);
  });
});
