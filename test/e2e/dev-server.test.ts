/**
 * End to end through real processes: `tools/dev.ts` (what `npm run dev` runs) starts a local
 * Upstash (redis-server + REST bridge), seeds the development key, and starts `wrangler dev`
 * with the bundled config pointed at the fake OpenAI upstream; the official `openai` client
 * talks to it over loopback HTTP.
 *
 * Not covered here: a client leaving *before* a non-streamed answer. Production Workers abort
 * `request.signal` then (compat flag `enable_request_signal`), but wrangler dev's local proxy
 * (4.164) never does; test/edge/fallback.test.ts covers the gateway's side of that wiring.
 */
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type FakeOpenAI, startFakeOpenAI } from '../../tools/fakes/openai.ts';
import { freePort, type Running, startProcess } from './processes.ts';

const DEV_KEY = 'sk-gw-e2etestkey0000000000000000000000';
let fake: FakeOpenAI;
let dev: Running;
let scenarioUrl: string;

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
  dev = await startProcess([process.execPath, 'tools/dev.ts'], {
    port,
    env: {
      PORT: String(port),
      WRANGLER_INSPECTOR_PORT: String(await freePort()),
      GATEWAY_DEV_KEY: DEV_KEY,
      // The scripted upstream answers in order: no health probe may take a step.
      DEV_PROBE_INTERVAL_MS: '0',
      OPENAI_API_KEY: 'sk-e2e-upstream',
      OPENAI_BASE_URL: `${scenarioUrl}/v1`,
    },
  });
}, 120_000);

afterAll(async () => {
  await dev?.stop();
  await fake?.close();
});

describe('npm run dev (wrangler dev) with the official openai client', () => {
  const client = (apiKey = DEV_KEY) =>
    new OpenAI({ baseURL: `${dev.url}/v1`, apiKey, maxRetries: 0 });

  it('answers a chat completion with the seeded development key', async () => {
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

  it('refuses an unknown key', async () => {
    await expect(client('sk-gw-unknown').models.list()).rejects.toBeInstanceOf(
      OpenAI.AuthenticationError,
    );
  });

  it('answers curl-style requests as the README shows', async () => {
    const res = await fetch(`${dev.url}/v1/models`, {
      headers: { authorization: `Bearer ${DEV_KEY}` },
    });
    expect(res.status).toBe(200);
    const body = (await res.json()) as { data: { id: string }[] };
    expect(body.data.map((m) => m.id)).toContain('gpt-4o-mini');
  });
});
