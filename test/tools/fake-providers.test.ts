/**
 * The provider fakes (tools/fakes/anthropic.ts, gemini.ts) driven directly: the official
 * @anthropic-ai/sdk proves the Anthropic fake's wire shapes; raw fetch checks Gemini's.
 */
import Anthropic from '@anthropic-ai/sdk';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeAnthropic } from '../../tools/fakes/anthropic.ts';
import { startFakeGemini } from '../../tools/fakes/gemini.ts';
import type { FakeServer } from '../../tools/fakes/scenario-server.ts';

let anthropic: FakeServer;
let gemini: FakeServer;
beforeAll(async () => {
  anthropic = await startFakeAnthropic();
  gemini = await startFakeGemini();
});
afterAll(async () => {
  await anthropic.close();
  await gemini.close();
});

async function scenario(fake: FakeServer, ...steps: object[]) {
  const res = await fetch(`${fake.url}/__scenarios`, {
    method: 'POST',
    body: JSON.stringify({ steps }),
  });
  return ((await res.json()) as { baseUrl: string }).baseUrl;
}

describe('fake anthropic', () => {
  it('answers the SDK, streamed and not, with tool use and errors', async () => {
    const baseURL = await scenario(
      anthropic,
      {},
      { toolCall: { name: 'f', input: { a: 1 } } },
      { status: 529 },
    );
    const sdk = new Anthropic({ apiKey: 'k', baseURL, maxRetries: 0 });
    const message = await sdk.messages.create({
      model: 'c',
      max_tokens: 9,
      messages: [{ role: 'user', content: 'hi' }],
    });
    expect(message.content).toEqual([
      { type: 'text', text: 'Hello! This is the fake Anthropic upstream.' },
    ]);
    const final = await sdk.messages
      .stream({ model: 'c', max_tokens: 9, messages: [{ role: 'user', content: 'hi' }] })
      .finalMessage();
    expect(final.content[0]).toMatchObject({ type: 'tool_use', name: 'f', input: { a: 1 } });
    expect(final.stop_reason).toBe('tool_use');
    const err = await sdk.messages
      .create({ model: 'c', max_tokens: 9, messages: [{ role: 'user', content: 'hi' }] })
      .catch((e: unknown) => e);
    expect((err as InstanceType<typeof Anthropic.APIError>).status).toBe(529);
  });

  it('requires max_tokens and anthropic-version', async () => {
    const res = await fetch(`${anthropic.url}/v1/messages`, {
      method: 'POST',
      headers: { 'x-api-key': 'k', 'content-type': 'application/json' },
      body: JSON.stringify({
        model: 'c',
        max_tokens: 5,
        messages: [{ role: 'user', content: 'x' }],
      }),
    });
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({
      type: 'error',
      error: { type: 'invalid_request_error' },
    });
  });
});

describe('fake gemini', () => {
  it('generateContent and streamGenerateContent?alt=sse', async () => {
    const base = await scenario(gemini, {});
    const init = {
      method: 'POST',
      headers: { 'x-goog-api-key': 'k', 'content-type': 'application/json' },
      body: JSON.stringify({ contents: [{ role: 'user', parts: [{ text: 'hi' }] }] }),
    };
    const res = await fetch(`${base}/v1beta/models/g:generateContent`, init);
    const body = (await res.json()) as {
      candidates: { finishReason: string }[];
      usageMetadata: object;
    };
    expect(body.candidates[0]!.finishReason).toBe('STOP');
    expect(body.usageMetadata).toMatchObject({ promptTokenCount: 1, candidatesTokenCount: 10 });
    const stream = await fetch(`${base}/v1beta/models/g:streamGenerateContent?alt=sse`, init);
    expect(stream.headers.get('content-type')).toBe('text/event-stream');
    const events = (await stream.text()).split('\r\n\r\n').filter(Boolean);
    expect(events.length).toBe(7);
    const noKey = await fetch(`${base}/v1beta/models/g:generateContent`, { ...init, headers: {} });
    expect(noKey.status).toBe(403);
  });
});
