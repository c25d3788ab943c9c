/**
 * End to end through real processes: `tools/dev.ts` (what `npm run dev` runs) starts
 * `wrangler dev` with the bundled config, pointed at the fake OpenAI upstream; the official
 * `openai` client talks to it over loopback HTTP.
 *
 * Not covered here: a client leaving *before* a non-streamed answer. Production Workers abort
 * `request.signal` then (compat flag `enable_request_signal`), but wrangler dev's local proxy
 * (4.164) never does; test/edge/fallback.test.ts covers the gateway's side of that wiring.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { createServer } from 'node:net';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type FakeOpenAI, startFakeOpenAI } from '../../tools/fakes/openai.ts';

let fake: FakeOpenAI;
let dev: ChildProcess;
let gatewayUrl: string;
let scenarioUrl: string;
let output = '';

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

async function waitReady(url: string, timeoutMs: number): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (Date.now() < until) {
    try {
      if ((await fetch(url)).ok) return;
    } catch {}
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`gateway not ready after ${timeoutMs} ms:\n${output.slice(-2000)}`);
}

async function recorded(): Promise<{ clientAborted: boolean; body: Record<string, unknown> }[]> {
  const id = scenarioUrl.split('/s/')[1];
  const res = await fetch(`${fake.url}/__scenarios/${id}`);
  return ((await res.json()) as { requests: never[] }).requests;
}

beforeAll(async () => {
  fake = await startFakeOpenAI();
  // One scripted upstream behaviour per test below, consumed in order.
  const steps = [
    { content: 'plain answer' },
    { content: 'streamed answer here' },
    { content: 'a b c d e f g h i j k l m n o p q r s t', chunkDelayMs: 300 },
    {},
  ];
  const created = await fetch(`${fake.url}/__scenarios`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ steps }),
  });
  scenarioUrl = ((await created.json()) as { baseUrl: string }).baseUrl;

  const port = await freePort();
  gatewayUrl = `http://127.0.0.1:${port}`;
  dev = spawn(process.execPath, ['tools/dev.ts'], {
    detached: true,
    env: {
      ...process.env,
      PORT: String(port),
      OPENAI_API_KEY: 'sk-e2e-upstream',
      OPENAI_BASE_URL: `${scenarioUrl}/v1`,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  dev.stdout?.on('data', (d) => {
    output += d;
  });
  dev.stderr?.on('data', (d) => {
    output += d;
  });
  await waitReady(`${gatewayUrl}/health/ready`, 90_000);
}, 120_000);

afterAll(async () => {
  if (dev?.pid) {
    try {
      process.kill(-dev.pid, 'SIGTERM');
    } catch {}
    await new Promise((r) => setTimeout(r, 300));
    try {
      process.kill(-dev.pid, 'SIGKILL');
    } catch {}
  }
  await fake?.close();
});

describe('npm run dev (wrangler dev) with the official openai client', () => {
  const client = () =>
    new OpenAI({ baseURL: `${gatewayUrl}/v1`, apiKey: 'sk-local', maxRetries: 0 });

  it('answers a chat completion', async () => {
    const reply = await client().chat.completions.create({
      model: 'gpt-4o-mini',
      messages: [{ role: 'user', content: 'Hello' }],
    });
    expect(reply.choices[0]!.message.content).toBe('plain answer');
    expect(reply.usage!.completion_tokens).toBe(2);
  });

  it('streams a chat completion', async () => {
    const stream = await client().chat.completions.create({
      model: 'gpt-4o-mini',
      messages: [{ role: 'user', content: 'Hello' }],
      stream: true,
    });
    let text = '';
    for await (const chunk of stream) text += chunk.choices[0]?.delta?.content ?? '';
    expect(text).toBe('streamed answer here');
  });

  it('aborts the upstream when the client abandons a stream', async () => {
    const controller = new AbortController();
    const stream = await client().chat.completions.create(
      { model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'Count' }], stream: true },
      { signal: controller.signal },
    );
    for await (const _ of stream) {
      controller.abort();
      break;
    }
    await expect
      .poll(async () => (await recorded())[2]?.clientAborted, { timeout: 5_000 })
      .toBe(true);
  });

  it('answers curl-style requests as the README shows', async () => {
    const res = await fetch(`${gatewayUrl}/v1/models`);
    expect(res.status).toBe(200);
    const body = (await res.json()) as { data: { id: string }[] };
    expect(body.data.map((m) => m.id)).toContain('gpt-4o-mini');
  });
});
