/**
 * End to end through real processes: the official `@anthropic-ai/sdk` against `wrangler dev`
 * running the gateway (test/e2e/fixtures/messages-worker.ts) in front of the fake Anthropic and
 * OpenAI upstreams (tools/fakes), over loopback HTTP. `/v1/messages` to the Anthropic target is
 * passed through, event for event as the upstream writes them; when that target is overloaded
 * the OpenAI one answers, translated.
 */
import Anthropic from '@anthropic-ai/sdk';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeAnthropic } from '../../tools/fakes/anthropic.ts';
import { startFakeOpenAI } from '../../tools/fakes/openai.ts';
import type { FakeServer, RecordedRequest } from '../../tools/fakes/scenario-server.ts';
import { freePort, type Running, startProcess, wranglerDevArgs } from './processes.ts';

let fakes: FakeServer[] = [];
let dev: Running;
const scenarios: Record<'anthropic' | 'openai', { url: string; id: string; baseUrl: string }> =
  {} as never;

async function scenario(url: string, steps: Record<string, unknown>[]) {
  const res = await fetch(`${url}/__scenarios`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ steps }),
  });
  const { id, baseUrl } = (await res.json()) as { id: string; baseUrl: string };
  return { url, id, baseUrl };
}

async function recorded(which: 'anthropic' | 'openai'): Promise<RecordedRequest[]> {
  const { url, id } = scenarios[which];
  return ((await (await fetch(`${url}/__scenarios/${id}`)).json()) as { requests: never[] })
    .requests;
}

beforeAll(async () => {
  const anthropic = await startFakeAnthropic();
  const openai = await startFakeOpenAI();
  fakes = [anthropic, openai];
  // One scripted upstream behaviour per request below, consumed in order.
  scenarios.anthropic = await scenario(anthropic.url, [
    // message_start, content_block_start, ping, the first text delta; then held open.
    { content: 'one two three four', hangAfterChunks: 4 },
    { thinking: 'Greeting back.', chunkDelayMs: 150 },
    { content: 'one two three four five six seven eight nine ten', chunkDelayMs: 300 },
    { status: 529 },
  ]);
  scenarios.openai = await scenario(openai.url, [{ content: 'Translated from OpenAI.' }]);
  const port = await freePort();
  dev = await startProcess(
    await wranglerDevArgs(port, {
      configs: ['test/e2e/fixtures/wrangler.messages.toml'],
      vars: {
        ANTHROPIC_URL: scenarios.anthropic.baseUrl,
        OPENAI_URL: scenarios.openai.baseUrl,
      },
    }),
    { port, env: { X_LOCAL_OBSERVABILITY: 'false', X_LOCAL_EXPLORER: 'false' } },
  );
}, 120_000);

afterAll(async () => {
  await dev?.stop();
  await Promise.all(fakes.map((f) => f.close()));
});

const sdk = () => new Anthropic({ baseURL: dev.url, apiKey: 'sk-gw-unused', maxRetries: 0 });
const request = {
  model: 'claude',
  max_tokens: 2048,
  thinking: { type: 'enabled', budget_tokens: 1024 },
  system: [{ type: 'text', text: 'Be brief.', cache_control: { type: 'ephemeral' } }],
  messages: [{ role: 'user', content: 'Hello' }],
} as Anthropic.MessageCreateParamsNonStreaming;

describe('/v1/messages through wrangler dev with the official @anthropic-ai/sdk', () => {
  it('streams the Anthropic target pass-through, each event before the upstream is done', async () => {
    const controller = new AbortController();
    const plain = { ...request, thinking: undefined } as never;
    const stream = sdk().messages.stream(plain, { signal: controller.signal });
    const ended = stream.done().catch((err: unknown) => err);
    const first = await new Promise<string>((resolve) => stream.once('text', resolve));
    expect(first).toMatch(/^one/);
    // The upstream holds the rest back, so this event cannot have come from a buffered body.
    const [held] = await recorded('anthropic');
    expect(held).toMatchObject({ completed: false, clientAborted: false });
    // (Aborting a stream the upstream keeps silent is the abandon test's subject, below.)
    controller.abort();
    expect(await ended).toBeInstanceOf(Anthropic.APIUserAbortError);
  });

  it('streams the Anthropic target pass-through to the end, thinking and signature included', async () => {
    const stream = sdk().messages.stream(request);
    const final = await stream.finalMessage();
    const { response } = await stream.withResponse();
    expect(response.headers.get('x-gateway-provider')).toBe('anthropic');
    expect(final.content[0]).toMatchObject({ type: 'thinking', thinking: 'Greeting back.' });
    expect((final.content[0] as Anthropic.ThinkingBlock).signature).toMatch(/^sig_/);
    expect(final.content[1]).toMatchObject({ type: 'text' });
    expect(final.model).toBe('claude-sonnet-4-5');
    const sent = (await recorded('anthropic'))[1];
    expect(sent!.body).toEqual({ ...request, model: 'claude-sonnet-4-5', stream: true });
    expect(sent!.completed).toBe(true);
  });

  it('a client that abandons a native stream aborts the upstream request', async () => {
    const controller = new AbortController();
    const stream = sdk().messages.stream({ ...request, thinking: undefined } as never, {
      signal: controller.signal,
    });
    const ended = stream.done().catch((err: unknown) => err);
    await new Promise<void>((resolve) => stream.once('text', () => resolve()));
    controller.abort();
    expect(await ended).toBeInstanceOf(Anthropic.APIUserAbortError);
    await expect
      .poll(async () => (await recorded('anthropic'))[2]?.clientAborted, { timeout: 10_000 })
      .toBe(true);
    expect((await recorded('anthropic'))[2]!.completed).toBe(false);
  });

  it('an overloaded Anthropic target falls back to OpenAI, answered as a Message', async () => {
    const raw = await sdk().messages.create(request).withResponse();
    expect(raw.response.headers.get('x-gateway-provider')).toBe('openai');
    expect(raw.data.content).toEqual([{ type: 'text', text: 'Translated from OpenAI.' }]);
    expect(raw.data.type).toBe('message');
    const [sent] = await recorded('openai');
    expect(sent!.body).toMatchObject({ model: 'gpt-4o-mini', max_tokens: 2048 });
    expect(sent!.body).not.toHaveProperty('thinking');
  });
});
