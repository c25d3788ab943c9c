import Anthropic from '@anthropic-ai/sdk';
import { describe, expect, it } from 'vitest';
import { cacheKey } from '../../src/cache/key.ts';
import { eventually, gateway, openaiAt, scenario, UPSTREAM_KEY } from './helpers.ts';
import { fakeScenario } from './providers-fakes.ts';

/**
 * POST /v1/messages with the official @anthropic-ai/sdk, served by an Anthropic target (the
 * request and answer passed through as they are) and by an OpenAI target (translated).
 */
function client(providers: Record<string, unknown>, extra: Record<string, unknown> = {}) {
  const gw = gateway({
    providers,
    models: {
      m: { targets: Object.keys(providers).map((provider) => ({ provider, model: 'up-model' })) },
    },
    ...extra,
  });
  return { gw, sdk: sdkFor(gw) };
}

function sdkFor(gw: ReturnType<typeof gateway>, apiKey = 'sk-gw-client') {
  return new Anthropic({
    apiKey,
    baseURL: 'http://gateway.test',
    maxRetries: 0,
    fetch: (url, init) => gw.request(String(url).replace('http://gateway.test', ''), init),
  });
}

const anthropicTarget = async (step: Record<string, unknown> = {}) => {
  const s = await fakeScenario('anthropic', step);
  return { s, provider: { kind: 'anthropic', baseUrl: `${s.baseUrl}/v1`, apiKey: UPSTREAM_KEY } };
};
const openaiTarget = async (step: Record<string, unknown> = {}) => {
  const s = await scenario(step);
  return { s, provider: openaiAt(s) };
};

const weatherTool: Anthropic.Tool = {
  name: 'get_weather',
  description: 'Weather of a city',
  input_schema: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] },
};

const request = {
  model: 'm',
  max_tokens: 256,
  system: 'Be brief.',
  temperature: 0.2,
  stop_sequences: ['###'],
  messages: [
    {
      role: 'user',
      content: [
        { type: 'text', text: 'What is in this image?' },
        {
          type: 'image',
          source: { type: 'base64', media_type: 'image/png', data: 'iVBORw0KGgo=' },
        },
        { type: 'image', source: { type: 'url', url: 'https://example.com/cat.jpg' } },
      ],
    },
    {
      role: 'assistant',
      content: [{ type: 'tool_use', id: 'toolu_1', name: 'get_weather', input: { city: 'Rome' } }],
    },
    { role: 'user', content: [{ type: 'tool_result', tool_use_id: 'toolu_1', content: 'sunny' }] },
  ],
  tools: [weatherTool],
  tool_choice: { type: 'auto' },
} as Anthropic.MessageCreateParamsNonStreaming; // temperature: not in this SDK's types, still sent

describe('/v1/messages with an Anthropic target', () => {
  it('round-trips the request exactly and answers a Message', async () => {
    const { s, provider } = await anthropicTarget({ cacheReadTokens: 40, cacheWriteTokens: 8 });
    const { sdk } = client({ a: provider });
    const message = await sdk.messages.create(request);
    expect(message.type).toBe('message');
    expect(message.content).toEqual([
      { type: 'text', text: 'Hello! This is the fake Anthropic upstream.' },
    ]);
    expect(message.stop_reason).toBe('end_turn');
    expect(message.usage).toMatchObject({
      output_tokens: 11,
      cache_read_input_tokens: 40,
      cache_creation_input_tokens: 8,
    });
    expect(message.id).toMatch(/^msg_/);
    const [req] = await s.requests();
    // what the SDK sent, with the upstream model name
    expect(req!.body).toEqual({ ...request, model: 'up-model' });
  });

  it('streams text with exact usage (message_start + message_delta)', async () => {
    const { provider } = await anthropicTarget({ cacheReadTokens: 100 });
    const { sdk } = client({ a: provider });
    const stream = sdk.messages.stream({
      model: 'm',
      max_tokens: 64,
      messages: [{ role: 'user', content: 'Hi' }],
    });
    const types: string[] = [];
    stream.on('streamEvent', (e) => types.push(e.type));
    let text = '';
    stream.on('text', (t) => {
      text += t;
    });
    const final = await stream.finalMessage();
    expect(text).toBe('Hello! This is the fake Anthropic upstream.');
    expect(final.stop_reason).toBe('end_turn');
    expect(final.usage).toMatchObject({
      input_tokens: 4,
      output_tokens: 11,
      cache_read_input_tokens: 100,
    });
    expect(types[0]).toBe('message_start');
    expect(types.at(-1)).toBe('message_stop');
    expect(types).toContain('content_block_stop');
  });

  it('streams a tool call with input_json deltas', async () => {
    const input = { city: 'Paris', days: 3 };
    const { provider } = await anthropicTarget({ toolCall: { name: 'get_weather', input } });
    const { sdk } = client({ a: provider });
    const stream = sdk.messages.stream({ ...request, stream: true });
    const partials: string[] = [];
    stream.on('inputJson', (partial) => partials.push(partial));
    const final = await stream.finalMessage();
    expect(partials.length).toBeGreaterThan(1);
    expect(final.stop_reason).toBe('tool_use');
    expect(final.content).toEqual([
      { type: 'tool_use', id: expect.stringMatching(/^toolu_/), name: 'get_weather', input },
    ]);
  });

  it.each(['max_tokens', 'stop_sequence', 'refusal'] as const)(
    'passes stop reason %s through exactly',
    async (stopReason) => {
      const { provider } = await anthropicTarget({ stopReason, stopSequence: '###' });
      const { sdk } = client({ a: provider });
      const message = await sdk.messages.create({
        model: 'm',
        max_tokens: 8,
        messages: [{ role: 'user', content: 'x' }],
      });
      expect(message.stop_reason).toBe(stopReason);
      expect(message.stop_sequence).toBe(stopReason === 'stop_sequence' ? '###' : null);
    },
  );
});

/** What Anthropic-native clients (Claude Code, agents) send that has no OpenAI equivalent. */
const nativeRequest = {
  model: 'm',
  max_tokens: 2048,
  thinking: { type: 'enabled', budget_tokens: 1024 },
  system: [
    { type: 'text', text: 'You are a careful assistant.' },
    {
      type: 'text',
      text: 'Long shared context...',
      cache_control: { type: 'ephemeral', ttl: '1h' },
    },
  ],
  messages: [
    {
      role: 'user',
      content: [
        {
          type: 'document',
          source: { type: 'text', media_type: 'text/plain', data: 'The sky is blue.' },
          citations: { enabled: true },
        },
        { type: 'text', text: 'What colour is the sky?', cache_control: { type: 'ephemeral' } },
      ],
    },
  ],
  metadata: { user_id: 'user-42' },
  service_tier: 'auto',
  some_future_field: { nested: [1, 2, 3] },
} as unknown as Anthropic.MessageCreateParamsNonStreaming;

const BETA = 'extended-cache-ttl-2025-04-11,interleaved-thinking-2025-05-14';

/**
 * Waits until the colo-local cache tier holds the answer to `body` (stored in the background
 * after the response), under the key of the native request: the Anthropic body itself.
 */
async function storedUnder(body: Record<string, unknown>) {
  const key = await cacheKey({
    scope: 'tenant:anonymous',
    endpoint: 'anthropic:chat/completions',
    body,
    generations: [0, 0],
  });
  await eventually(async () =>
    expect(await caches.default.match(`https://gateway-cache.internal/${key}`)).toBeDefined(),
  );
}

describe('/v1/messages passes Anthropic requests through to Anthropic targets', () => {
  it('sends the request as it came and answers the upstream Message untouched', async () => {
    const { s, provider } = await anthropicTarget({
      thinking: 'Blue, says the document.',
      cacheWriteTokens: 300,
      cacheWrite1hTokens: 200,
      cacheReadTokens: 50,
    });
    const { sdk, gw } = client(
      { a: provider },
      {
        prices: {
          'up-model': {
            inputPerMTok: 3,
            outputPerMTok: 15,
            cachedInputPerMTok: 0.3,
            cacheWriteInputPerMTok: 3.75,
            cacheWrite1hInputPerMTok: 6,
          },
        },
      },
    );
    const raw = await sdk.messages
      .create(nativeRequest, {
        headers: { 'anthropic-beta': BETA, 'anthropic-version': '2023-06-01' },
      })
      .withResponse();
    const message = raw.data;
    const [req] = await s.requests();
    expect(req!.body).toEqual({ ...nativeRequest, model: 'up-model' });
    expect(req!.headers['anthropic-beta']).toBe(BETA);
    expect(req!.headers['anthropic-version']).toBe('2023-06-01');
    expect(req!.headers['x-api-key']).toBe(UPSTREAM_KEY);

    expect(message.content[0]).toEqual({
      type: 'thinking',
      thinking: 'Blue, says the document.',
      signature: expect.stringMatching(/^sig_/),
    });
    expect(message.content[1]).toEqual({
      type: 'text',
      text: 'Hello! This is the fake Anthropic upstream.',
    });
    expect(message.usage).toMatchObject({
      cache_creation_input_tokens: 300,
      cache_read_input_tokens: 50,
      cache_creation: { ephemeral_5m_input_tokens: 100, ephemeral_1h_input_tokens: 200 },
    });
    const log = gw.logs.at(-1)!;
    expect(log.native).toBe('pass-through');
    const { input_tokens, output_tokens } = message.usage;
    expect(log.usage).toMatchObject({
      prompt_tokens: input_tokens + 350,
      completion_tokens: output_tokens,
      cached_tokens: 50,
      cache_write_tokens: 300,
      cache_write_1h_tokens: 200,
    });
    const usd = (input_tokens * 3 + 50 * 0.3 + 100 * 3.75 + 200 * 6 + output_tokens * 15) / 1e6;
    expect(Number(raw.response.headers.get('x-gateway-cost-usd'))).toBeCloseTo(usd, 9);
    expect(raw.response.headers.get('x-gateway-provider')).toBe('a');
  });

  it('streams the upstream events as they came (thinking, signature) with exact usage', async () => {
    const { s, provider } = await anthropicTarget({ thinking: 'Hmm.', cacheReadTokens: 7 });
    const { sdk, gw } = client({ a: provider });
    const stream = sdk.messages.stream({ ...nativeRequest, stream: true } as never);
    const types: string[] = [];
    stream.on('streamEvent', (e) =>
      types.push(e.type === 'content_block_delta' ? e.delta.type : e.type),
    );
    const final = await stream.finalMessage();
    expect(final.content[0]).toMatchObject({ type: 'thinking', thinking: 'Hmm.' });
    expect((final.content[0] as { signature: string }).signature).toMatch(/^sig_/);
    expect(final.content[1]).toMatchObject({ type: 'text' });
    expect(types).toContain('thinking_delta');
    expect(types).toContain('signature_delta');
    expect((await s.requests())[0]!.body).toMatchObject({ thinking: nativeRequest.thinking });
    await eventually(() => expect(gw.logs).toHaveLength(1));
    expect(gw.logs[0]!.native).toBe('pass-through');
    expect(gw.logs[0]!.stream_end).toBe('done');
    expect(gw.logs[0]!.usage).toMatchObject({
      completion_tokens: final.usage.output_tokens,
      prompt_tokens: final.usage.input_tokens + 7,
      cached_tokens: 7,
      source: 'upstream',
    });
  });

  it('relays the bytes of every upstream event unchanged', async () => {
    const { provider } = await anthropicTarget({});
    const upstream = await fetch(`${provider.baseUrl}/messages`, {
      method: 'POST',
      headers: { 'x-api-key': UPSTREAM_KEY, 'anthropic-version': '2023-06-01' },
      body: JSON.stringify({ ...nativeRequest, model: 'up-model', stream: true }),
    });
    const { gw } = client({ a: provider });
    const res = await gw.request('/v1/messages', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ ...nativeRequest, stream: true }),
    });
    expect(res.headers.get('content-type')).toMatch(/^text\/event-stream/);
    // ids and signatures are random per answer; everything else is byte for byte the same
    const normal = (t: string) => t.replace(/(msg|sig)_[0-9a-f]+/g, '$1_X');
    expect(normal(await res.text())).toBe(normal(await upstream.text()));
  });

  it('an overloaded Anthropic target falls back to an OpenAI one, translated', async () => {
    const { s: a, provider } = await anthropicTarget({ status: 529 });
    const { s: o, provider: openai } = await openaiTarget();
    const { sdk, gw } = client({ a: provider, o: openai });
    const message = await sdk.messages.create(nativeRequest);
    expect(message.content).toEqual([{ type: 'text', text: 'Hello! This is the fake upstream.' }]);
    expect(await a.requests()).toHaveLength(2); // retried once, then the next target
    const [sent] = await o.requests();
    expect(sent!.body).toMatchObject({ model: 'up-model', max_tokens: 2048 });
    expect(sent!.body).not.toHaveProperty('thinking');
    expect(gw.logs.at(-1)).toMatchObject({ native: 'translated', provider: 'o', attempts: 3 });
  });

  it('an OpenAI target that fails falls back to an Anthropic one, passed through', async () => {
    const { provider: openai } = await openaiTarget({ status: 503 });
    const { s: a, provider } = await anthropicTarget({});
    const { sdk, gw } = client({ o: openai, a: provider });
    const stream = sdk.messages.stream({ ...nativeRequest, stream: true } as never);
    const final = await stream.finalMessage();
    expect(final.content.map((b) => b.type)).toEqual(['thinking', 'text']);
    expect((await a.requests())[0]!.body).toEqual({
      ...nativeRequest,
      model: 'up-model',
      stream: true,
    });
    await eventually(() => expect(gw.logs).toHaveLength(1));
    expect(gw.logs[0]).toMatchObject({ native: 'pass-through', provider: 'a' });
  });

  it('an upstream error event mid-stream reaches the client once, as Anthropic sent it', async () => {
    const { provider } = await anthropicTarget({ streamErrorAfter: 4 });
    const { gw } = client({ a: provider });
    const res = await gw.request('/v1/messages', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ ...nativeRequest, stream: true }),
    });
    const events = (await res.text()).trim().split('\n\n');
    expect(events.at(-1)).toBe(
      'event: error\ndata: {"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}',
    );
    expect(events.filter((e) => e.startsWith('event: error'))).toHaveLength(1);
    await eventually(() => expect(gw.logs).toHaveLength(1));
    expect(gw.logs[0]!.stream_end).toBe('upstream_error');
  });

  it('caches native answers as they were, keyed on the native request', async () => {
    const { s, provider } = await anthropicTarget({ thinking: 'Cached thought.' });
    const { gw } = client({ a: provider });
    const body = {
      ...nativeRequest,
      temperature: 0,
      messages: [{ role: 'user', content: `Say ${crypto.randomUUID()}` }],
    };
    const post = (b: unknown) =>
      gw.request('/v1/messages', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(b),
      });
    const first = await post(body);
    expect(first.headers.get('x-gateway-cache')).toBe('MISS');
    const firstBody = (await first.json()) as Record<string, unknown>;
    await storedUnder(body);
    const again = await post(body);
    expect(again.headers.get('x-gateway-cache')).toBe('HIT');
    expect(await again.json()).toEqual(firstBody); // thinking block and signature included
    // the same request streamed: the stored Message, as the events Anthropic sends for it
    const streamed = sdkFor(gw).messages.stream({ ...body, stream: true } as never);
    const final = await streamed.finalMessage();
    expect(final).toMatchObject(firstBody); // (the SDK adds its own parsed_output field)
    expect((await streamed.withResponse()).response.headers.get('x-gateway-cache')).toBe('HIT');

    // differs only in a field the OpenAI translation would drop: its own entry
    const other = await post({ ...body, thinking: { type: 'enabled', budget_tokens: 2000 } });
    expect(other.headers.get('x-gateway-cache')).toBe('MISS');
    expect(await s.requests()).toHaveLength(2);
  });

  it('replays a stored native stream event for event', async () => {
    const { s, provider } = await anthropicTarget({ thinking: 'Streamed thought.' });
    const { gw } = client({ a: provider });
    const body = {
      ...nativeRequest,
      stream: true,
      temperature: 0,
      messages: [{ role: 'user', content: `Stream ${crypto.randomUUID()}` }],
    };
    const post = () =>
      gw.request('/v1/messages', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
    const first = await post();
    const firstText = await first.text();
    await storedUnder(body);
    const again = await post();
    expect(again.headers.get('x-gateway-cache')).toBe('HIT');
    expect(await again.text()).toBe(firstText);
    // the same request not streamed: the Message those events describe
    const asMessage = await sdkFor(gw).messages.create({ ...body, stream: false } as never);
    const signature = /"signature":"(sig_[0-9a-f]+)"/.exec(firstText)![1];
    expect(asMessage.content).toEqual([
      { type: 'thinking', thinking: 'Streamed thought.', signature },
      { type: 'text', text: 'Hello! This is the fake Anthropic upstream.' },
    ]);
    expect(asMessage.id).toBe(/"id":"(msg_[0-9a-f]+)"/.exec(firstText)![1]);
    expect(asMessage.usage.output_tokens).toBeGreaterThan(1);
    expect(await s.requests()).toHaveLength(1);
  });
});

describe('/v1/messages with an OpenAI target', () => {
  it('translates the request to chat completions and the answer back', async () => {
    const { s, provider } = await openaiTarget();
    const { sdk } = client({ o: provider });
    const message = await sdk.messages.create(request);
    expect(message.content).toEqual([{ type: 'text', text: 'Hello! This is the fake upstream.' }]);
    expect(message.stop_reason).toBe('end_turn');
    expect(message.usage.input_tokens).toBeGreaterThan(0);
    expect(message.usage.output_tokens).toBe(6);
    const [req] = await s.requests();
    expect(req!.body).toMatchObject({
      model: 'up-model',
      max_tokens: 256,
      temperature: 0.2,
      stop: ['###'],
      tool_choice: 'auto',
      tools: [
        {
          type: 'function',
          function: { name: 'get_weather', parameters: weatherTool.input_schema },
        },
      ],
      messages: [
        { role: 'system', content: 'Be brief.' },
        {
          role: 'user',
          content: [
            { type: 'text', text: 'What is in this image?' },
            { type: 'image_url', image_url: { url: 'data:image/png;base64,iVBORw0KGgo=' } },
            { type: 'image_url', image_url: { url: 'https://example.com/cat.jpg' } },
          ],
        },
        {
          role: 'assistant',
          content: null,
          tool_calls: [
            {
              id: 'toolu_1',
              type: 'function',
              function: { name: 'get_weather', arguments: '{"city":"Rome"}' },
            },
          ],
        },
        { role: 'tool', tool_call_id: 'toolu_1', content: 'sunny' },
      ],
    });
  });

  it('streams text with usage', async () => {
    const { provider } = await openaiTarget();
    const { sdk } = client({ o: provider });
    const stream = sdk.messages.stream({
      model: 'm',
      max_tokens: 64,
      messages: [{ role: 'user', content: 'Hi' }],
    });
    const final = await stream.finalMessage();
    expect(final.content).toEqual([{ type: 'text', text: 'Hello! This is the fake upstream.' }]);
    expect(final.usage.output_tokens).toBe(6);
    expect(final.usage.input_tokens).toBeGreaterThan(0);
  });

  it('streams and answers tool calls', async () => {
    const toolCall = { name: 'get_weather', arguments: '{"city":"Oslo","days":2}' };
    const { provider } = await openaiTarget({ toolCall });
    const { sdk } = client({ o: provider });
    const final = await sdk.messages.stream({ ...request, stream: true }).finalMessage();
    expect(final.stop_reason).toBe('tool_use');
    expect(final.content).toEqual([
      {
        type: 'tool_use',
        id: expect.any(String),
        name: 'get_weather',
        input: { city: 'Oslo', days: 2 },
      },
    ]);
    const message = await sdk.messages.create(request);
    expect(message.content[0]).toMatchObject({
      type: 'tool_use',
      input: { city: 'Oslo', days: 2 },
    });
  });
});

describe('/v1/messages errors are Anthropic-shaped', () => {
  it('invalid request, unknown model, missing key, upstream failure', async () => {
    const { provider } = await openaiTarget({ status: 500 });
    const { sdk, gw } = client({ o: provider });
    const bad = await gw.request('/v1/messages', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'm', messages: [{ role: 'user', content: 'x' }] }),
    });
    expect(bad.status).toBe(400);
    expect(await bad.json()).toMatchObject({
      type: 'error',
      error: { type: 'invalid_request_error' },
    });

    await expect(
      sdk.messages.create({
        model: 'nope',
        max_tokens: 5,
        messages: [{ role: 'user', content: 'x' }],
      }),
    ).rejects.toBeInstanceOf(Anthropic.NotFoundError);

    const err = await sdk.messages
      .create({ model: 'm', max_tokens: 5, messages: [{ role: 'user', content: 'x' }] })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(Anthropic.InternalServerError);
    expect((err as InstanceType<typeof Anthropic.APIError>).error).toMatchObject({
      type: 'error',
      error: { type: 'api_error' },
    });
  });

  it('authenticates with x-api-key and answers 401 authentication_error without one', async () => {
    const { provider } = await anthropicTarget();
    const gw = gateway({
      auth: { enabled: true },
      providers: { a: provider },
      models: { m: { targets: [{ provider: 'a', model: 'up-model' }] } },
    });
    const res = await gw.request('/v1/messages', {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-api-key': 'sk-gw-wrong' },
      body: JSON.stringify({
        model: 'm',
        max_tokens: 5,
        messages: [{ role: 'user', content: 'x' }],
      }),
    });
    expect(res.status).toBe(401);
    expect(await res.json()).toMatchObject({
      type: 'error',
      error: { type: 'authentication_error' },
    });
    const { key } = (await (await gw.admin('POST', '/keys', { name: 'anthropic sdk' })).json()) as {
      key: string;
    };
    const sdk = sdkFor(gw, key);
    const message = await sdk.messages.create({
      model: 'm',
      max_tokens: 5,
      messages: [{ role: 'user', content: 'x' }],
    });
    expect(message.content[0]).toMatchObject({ type: 'text' });
  });

  it('a stream cut mid-way ends with an Anthropic error event after the text produced', async () => {
    const { provider } = await anthropicTarget({ closeAfterChunks: 5 });
    const { gw } = client({ a: provider });
    const res = await gw.request('/v1/messages', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        model: 'm',
        max_tokens: 5,
        stream: true,
        messages: [{ role: 'user', content: 'x' }],
      }),
    });
    const text = await res.text();
    expect(text).toContain('event: message_start');
    expect(text).toContain('"text":"Hello! "');
    expect(text.trim().split('\n\n').at(-1)).toMatch(/^event: error\ndata: .*"api_error"/);
  });
});

describe('/v1/messages/count_tokens', () => {
  const countRequest = {
    model: 'm',
    system: 'Be brief.',
    messages: [{ role: 'user' as const, content: 'How many tokens is this prompt?' }],
    thinking: { type: 'enabled' as const, budget_tokens: 1024 },
  };

  it("asks the Anthropic target's own endpoint, with the request as it came", async () => {
    const { s, provider } = await anthropicTarget();
    const { sdk, gw } = client({ a: provider });
    const raw = await sdk.messages
      .countTokens(countRequest, { headers: { 'anthropic-beta': BETA } })
      .withResponse();
    // the fake's count: ceil(chars / 4) + 3 per message
    const expected =
      Math.ceil(('Be brief.'.length + countRequest.messages[0]!.content.length) / 4) + 3;
    expect(raw.data).toEqual({ input_tokens: expected });
    expect(raw.response.headers.get('x-gateway-provider')).toBe('a');
    expect(raw.response.headers.get('x-gateway-estimated')).toBeNull();
    const [sent] = await s.requests();
    expect(sent!.path).toMatch(/\/v1\/messages\/count_tokens$/);
    expect(sent!.body).toEqual({ ...countRequest, model: 'up-model' });
    expect(sent!.headers['anthropic-beta']).toBe(BETA);
    expect(gw.logs.at(-1)).toMatchObject({ status: 200, provider: 'a' });
  });

  it('estimates (and says so) when no target counts or the count fails', async () => {
    const { provider: openai } = await openaiTarget();
    const estimated = await client({ o: openai })
      .sdk.messages.countTokens(countRequest)
      .withResponse();
    expect(estimated.response.headers.get('x-gateway-estimated')).toBe('true');
    expect(estimated.data.input_tokens).toBeGreaterThan(5);

    const { provider } = await anthropicTarget({ status: 500 });
    const failed = await client({ a: provider })
      .sdk.messages.countTokens(countRequest)
      .withResponse();
    expect(failed.response.headers.get('x-gateway-estimated')).toBe('true');
    expect(failed.data.input_tokens).toBe(estimated.data.input_tokens);
  });

  it('refuses an unknown model and a bad body, Anthropic-shaped', async () => {
    const { provider } = await anthropicTarget();
    const { sdk, gw } = client({ a: provider });
    await expect(
      sdk.messages.countTokens({ ...countRequest, model: 'nope' }),
    ).rejects.toBeInstanceOf(Anthropic.NotFoundError);
    const bad = await gw.request('/v1/messages/count_tokens', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'm' }),
    });
    expect(bad.status).toBe(400);
    expect(await bad.json()).toMatchObject({
      type: 'error',
      error: { type: 'invalid_request_error' },
    });
  });
});
