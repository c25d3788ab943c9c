import Anthropic from '@anthropic-ai/sdk';
import { describe, expect, it } from 'vitest';
import { gateway, openaiAt, scenario, UPSTREAM_KEY } from './helpers.ts';
import { fakeScenario } from './providers-fakes.ts';

/**
 * POST /v1/messages with the official @anthropic-ai/sdk, served by an Anthropic target (a
 * round trip through the internal OpenAI shape) and by an OpenAI target (translated).
 */
function client(providers: Record<string, unknown>, extra: Record<string, unknown> = {}) {
  const gw = gateway({
    providers,
    models: {
      m: { targets: Object.keys(providers).map((provider) => ({ provider, model: 'up-model' })) },
    },
    ...extra,
  });
  const sdk = new Anthropic({
    apiKey: 'sk-gw-client',
    baseURL: 'http://gateway.test',
    maxRetries: 0,
    fetch: (url, init) => gw.request(String(url).replace('http://gateway.test', ''), init),
  });
  return { gw, sdk };
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

  it.each([
    ['max_tokens', 'max_tokens'],
    ['stop_sequence', 'end_turn'],
  ])('maps stop reason %s to %s', async (upstream, expected) => {
    const { provider } = await anthropicTarget({ stopReason: upstream });
    const { sdk } = client({ a: provider });
    const message = await sdk.messages.create({
      model: 'm',
      max_tokens: 8,
      messages: [{ role: 'user', content: 'x' }],
    });
    expect(message.stop_reason).toBe(expected);
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
    const sdk = new Anthropic({
      apiKey: key,
      baseURL: 'http://gateway.test',
      maxRetries: 0,
      fetch: (url, init) => gw.request(String(url).replace('http://gateway.test', ''), init),
    });
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
