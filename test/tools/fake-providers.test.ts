/**
 * The provider fakes (tools/fakes/anthropic.ts, gemini.ts, bedrock.ts) driven directly: the
 * official @anthropic-ai/sdk proves the Anthropic fake's wire shapes; raw fetch checks Gemini's;
 * aws4fetch + the Smithy event-stream codec check Bedrock's.
 */
import Anthropic from '@anthropic-ai/sdk';
import { EventStreamCodec } from '@smithy/eventstream-codec';
import { fromUtf8, toUtf8 } from '@smithy/util-utf8';
import { AwsClient } from 'aws4fetch';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeAnthropic } from '../../tools/fakes/anthropic.ts';
import {
  FAKE_BEDROCK_ACCESS_KEY_ID,
  FAKE_BEDROCK_SECRET,
  type RecordedRequest,
  startFakeBedrock,
  verifySigV4,
} from '../../tools/fakes/bedrock.ts';
import { startFakeGemini } from '../../tools/fakes/gemini.ts';
import type { FakeServer } from '../../tools/fakes/scenario-server.ts';

let anthropic: FakeServer;
let gemini: FakeServer;
let bedrock: FakeServer;
beforeAll(async () => {
  anthropic = await startFakeAnthropic();
  gemini = await startFakeGemini();
  bedrock = await startFakeBedrock();
});
afterAll(async () => {
  await anthropic.close();
  await gemini.close();
  await bedrock.close();
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

describe('fake bedrock', () => {
  const aws = new AwsClient({
    accessKeyId: FAKE_BEDROCK_ACCESS_KEY_ID,
    secretAccessKey: FAKE_BEDROCK_SECRET,
    service: 'bedrock',
    region: 'eu-west-1',
    retries: 0, // aws4fetch retries 429/5xx by default
  });
  const converse = { messages: [{ role: 'user', content: [{ text: 'hi' }] }] };
  const post = (url: string, body: object = converse) =>
    aws.fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });

  it('Converse and ConverseStream (event stream frames), SigV4 checked', async () => {
    const baseRes = await fetch(`${bedrock.url}/__scenarios`, {
      method: 'POST',
      body: JSON.stringify({
        steps: [{ cacheReadTokens: 4 }, { toolCall: { name: 'f', input: { a: 1 } } }],
      }),
    });
    const { baseUrl, id } = (await baseRes.json()) as { baseUrl: string; id: string };
    const res = await post(`${baseUrl}/model/amazon.nova-pro-v1%3A0/converse`);
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({
      output: {
        message: {
          role: 'assistant',
          content: [{ text: 'Hello! This is the fake Bedrock upstream.' }],
        },
      },
      stopReason: 'end_turn',
      usage: { inputTokens: 4, outputTokens: 11, totalTokens: 19, cacheReadInputTokens: 4 },
    });

    const stream = await post(`${baseUrl}/model/m/converse-stream`);
    expect(stream.headers.get('content-type')).toBe('application/vnd.amazon.eventstream');
    let bytes = new Uint8Array(await stream.arrayBuffer());
    const codec = new EventStreamCodec(toUtf8, fromUtf8);
    const events: [string, Record<string, unknown>][] = [];
    while (bytes.length > 0) {
      const length = new DataView(bytes.buffer, bytes.byteOffset).getUint32(0);
      const { headers, body } = codec.decode(bytes.subarray(0, length));
      expect(headers[':message-type']?.value).toBe('event');
      expect(headers[':content-type']?.value).toBe('application/json');
      events.push([String(headers[':event-type']?.value), JSON.parse(toUtf8(body))]);
      bytes = bytes.subarray(length);
    }
    expect(events.map(([type]) => type)).toEqual([
      'messageStart',
      'contentBlockStart',
      'contentBlockDelta',
      'contentBlockDelta',
      'contentBlockDelta',
      'contentBlockStop',
      'messageStop',
      'metadata',
    ]);
    expect(events[1]![1]).toMatchObject({ start: { toolUse: { name: 'f' } } });
    const input = events
      .slice(2, 5)
      .map(([, e]) => (e.delta as { toolUse: { input: string } }).toolUse.input);
    expect(JSON.parse(input.join(''))).toEqual({ a: 1 });
    expect(events[6]![1]).toMatchObject({ stopReason: 'tool_use' });

    const recorded = (
      (await (await fetch(`${bedrock.url}/__scenarios/${id}`)).json()) as {
        requests: RecordedRequest[];
      }
    ).requests;
    expect(recorded.map((r) => verifySigV4(r, FAKE_BEDROCK_SECRET))).toEqual([
      { ok: true },
      { ok: true },
    ]);
    expect(verifySigV4(recorded[0]!, 'wrong').ok).toBe(false);
    const tampered = { ...recorded[0]!, body: { messages: [] } };
    expect(verifySigV4(tampered, FAKE_BEDROCK_SECRET)).toEqual({
      ok: false,
      reason: 'signature mismatch',
    });
  });

  it('refuses unsigned requests and invalid conversations; scripted errors carry x-amzn-errortype', async () => {
    const unsigned = await fetch(`${bedrock.url}/model/m/converse`, {
      method: 'POST',
      body: JSON.stringify(converse),
    });
    expect(unsigned.status).toBe(403);
    expect(unsigned.headers.get('x-amzn-errortype')).toMatch(
      /^MissingAuthenticationTokenException:/,
    );
    const invalid = await post(`${bedrock.url}/model/m/converse`, {
      messages: [{ role: 'assistant', content: [{ text: 'x' }] }],
    });
    expect(invalid.status).toBe(400);
    expect(invalid.headers.get('x-amzn-errortype')).toMatch(/^ValidationException:/);
    expect(await invalid.json()).toEqual({
      message: expect.stringContaining('must start with a user message'),
    });
    const baseRes = await fetch(`${bedrock.url}/__scenarios`, {
      method: 'POST',
      body: JSON.stringify({ steps: [{ status: 429, errorType: 'ModelNotReadyException' }] }),
    });
    const { baseUrl } = (await baseRes.json()) as { baseUrl: string };
    const scripted = await post(`${baseUrl}/model/m/converse`);
    expect(scripted.status).toBe(429);
    expect(scripted.headers.get('x-amzn-errortype')).toMatch(/^ModelNotReadyException:/);
    expect(await scripted.json()).toHaveProperty('message');
  });
});

describe('the default route (/__default), as npm run dev uses it', () => {
  const control = (fake: FakeServer, method: string, body?: unknown) =>
    fetch(`${fake.url}/__default`, {
      method,
      headers: { 'content-type': 'application/json' },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
  const message = (fake: FakeServer) =>
    fetch(`${fake.url}/v1/messages`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        'x-api-key': 'k',
        'anthropic-version': '2023-06-01',
      },
      body: JSON.stringify({
        model: 'claude',
        max_tokens: 8,
        messages: [{ role: 'user', content: 'hi' }],
      }),
    });

  it('counts requests by method and path, follows a scripted step, and restores success', async () => {
    const fake = await startFakeAnthropic();
    try {
      expect((await message(fake)).status).toBe(200);
      expect((await control(fake, 'PUT', { step: { status: 529 } })).status).toBe(200);
      const failed = await message(fake);
      expect(failed.status).toBe(529);
      expect(((await failed.json()) as { error: { type: string } }).error.type).toBe(
        'overloaded_error',
      );
      await fetch(`${fake.url}/v1/models`, { headers: { 'x-api-key': 'k' } });
      expect((await control(fake, 'DELETE')).status).toBe(200);
      expect((await message(fake)).status).toBe(200);
      expect(await (await control(fake, 'GET')).json()).toEqual({
        step: {},
        requests: 4,
        byRoute: { 'POST /v1/messages': 3, 'GET /v1/models': 1 },
      });
      expect((await control(fake, 'PUT', { step: 'fail' })).status).toBe(400);
    } finally {
      await fake.close();
    }
  });
});
