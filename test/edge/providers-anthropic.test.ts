import OpenAI from 'openai';
import { describe, expect, it } from 'vitest';

type Chunk = {
  choices?: { delta?: { content?: string } }[];
  error: { code: string };
};

import { gateway, openaiAt, scenario, sseData, UPSTREAM_KEY } from './helpers.ts';
import { fakeScenario } from './providers-fakes.ts';

/** The official openai client against the gateway, with Anthropic (the fake) behind it. */
const anthropicAt = (s: { baseUrl: string }) => ({
  kind: 'anthropic',
  baseUrl: `${s.baseUrl}/v1`,
  apiKey: UPSTREAM_KEY,
});

function setup(providers: Record<string, unknown>, extra: Record<string, unknown> = {}) {
  const gw = gateway({
    providers,
    models: {
      m: { targets: Object.keys(providers).map((provider) => ({ provider, model: 'claude-x' })) },
    },
    prices: {
      'claude-x': {
        inputPerMTok: 3,
        outputPerMTok: 15,
        cachedInputPerMTok: 0.3,
        cacheWriteInputPerMTok: 3.75,
        cacheWrite1hInputPerMTok: 6,
      },
    },
    ...extra,
  });
  const client = new OpenAI({
    apiKey: 'unused',
    baseURL: 'http://gateway.test/v1',
    maxRetries: 0,
    fetch: (url, init) => gw.request(String(url).replace('http://gateway.test', ''), init),
  });
  return { gw, client };
}

const weather = {
  type: 'function' as const,
  function: {
    name: 'get_weather',
    description: 'Weather of a city',
    parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] },
  },
};

describe('anthropic provider through the openai SDK', () => {
  it('translates a chat request and the response, with exact usage', async () => {
    const s = await fakeScenario('anthropic', {});
    const { client } = setup({ a: anthropicAt(s) });
    const res = await client.chat.completions.create({
      model: 'm',
      messages: [
        { role: 'system', content: 'Be brief.' },
        { role: 'user', content: 'Hi' },
        { role: 'assistant', content: 'Hello.' },
        { role: 'user', content: 'How are you?' },
      ],
      temperature: 0.5,
      top_p: 0.9,
      stop: ['###'],
    });
    expect(res.choices[0]!.message.content).toBe('Hello! This is the fake Anthropic upstream.');
    expect(res.choices[0]!.finish_reason).toBe('stop');
    expect(res.usage!.total_tokens).toBe(res.usage!.prompt_tokens + res.usage!.completion_tokens);
    const [req] = await s.requests();
    expect(req!.path).toMatch(/\/v1\/messages$/);
    expect(req!.headers['x-api-key']).toBe(UPSTREAM_KEY);
    expect(req!.headers['anthropic-version']).toBe('2023-06-01');
    expect(req!.headers.authorization).toBeUndefined();
    expect(req!.body).toEqual({
      model: 'claude-x',
      max_tokens: 4096,
      system: 'Be brief.',
      messages: [
        { role: 'user', content: 'Hi' },
        { role: 'assistant', content: 'Hello.' },
        { role: 'user', content: 'How are you?' },
      ],
      temperature: 0.5,
      top_p: 0.9,
      stop_sequences: ['###'],
    });
  });

  it('sends images (data URL and https URL) as Anthropic image sources', async () => {
    const s = await fakeScenario('anthropic', {});
    const { client } = setup({ a: anthropicAt(s) });
    await client.chat.completions.create({
      model: 'm',
      max_tokens: 100,
      messages: [
        {
          role: 'user',
          content: [
            { type: 'text', text: 'What is this?' },
            { type: 'image_url', image_url: { url: 'data:image/png;base64,iVBORw0KGgo=' } },
            { type: 'image_url', image_url: { url: 'https://example.com/cat.jpg' } },
          ],
        },
      ],
    });
    const [req] = await s.requests();
    expect((req!.body as { max_tokens: number }).max_tokens).toBe(100);
    expect((req!.body as { messages: unknown[] }).messages).toEqual([
      {
        role: 'user',
        content: [
          { type: 'text', text: 'What is this?' },
          {
            type: 'image',
            source: { type: 'base64', media_type: 'image/png', data: 'iVBORw0KGgo=' },
          },
          { type: 'image', source: { type: 'url', url: 'https://example.com/cat.jpg' } },
        ],
      },
    ]);
  });

  it('streams text with usage, and strips usage when not asked', async () => {
    const s = await fakeScenario('anthropic', {});
    const { client } = setup({ a: anthropicAt(s) });
    const stream = await client.chat.completions.create({
      model: 'm',
      messages: [{ role: 'user', content: 'Say hello' }],
      stream: true,
      stream_options: { include_usage: true },
    });
    let text = '';
    let finish: string | null | undefined;
    let usage: OpenAI.CompletionUsage | null | undefined;
    for await (const chunk of stream) {
      text += chunk.choices[0]?.delta?.content ?? '';
      finish ??= chunk.choices[0]?.finish_reason;
      if (chunk.usage) usage = chunk.usage;
    }
    expect(text).toBe('Hello! This is the fake Anthropic upstream.');
    expect(finish).toBe('stop');
    expect(usage).toMatchObject({ completion_tokens: 11, prompt_tokens: 6, total_tokens: 17 });

    const plain = await client.chat.completions.create({
      model: 'm',
      messages: [{ role: 'user', content: 'Say hello' }],
      stream: true,
    });
    for await (const chunk of plain) expect(chunk.usage ?? null).toBeNull();
  });

  it('sends tools and tool results, and reassembles streamed tool-call arguments', async () => {
    const toolCall = { name: 'get_weather', input: { city: 'Paris', unit: 'celsius' } };
    const s = await fakeScenario('anthropic', { toolCall });
    const { client } = setup({ a: anthropicAt(s) });
    const stream = await client.chat.completions.create({
      model: 'm',
      messages: [
        { role: 'user', content: 'Weather in Paris?' },
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
      tools: [weather],
      tool_choice: { type: 'function', function: { name: 'get_weather' } },
      parallel_tool_calls: false,
      stream: true,
    });
    const args: string[] = [];
    let name = '';
    let id = '';
    let finish: string | null | undefined;
    for await (const chunk of stream) {
      const call = chunk.choices[0]?.delta?.tool_calls?.[0];
      if (call?.id) id = call.id;
      if (call?.function?.name) name = call.function.name;
      if (call?.function?.arguments) args.push(call.function.arguments);
      finish ??= chunk.choices[0]?.finish_reason;
    }
    expect(args.length).toBeGreaterThan(1);
    expect(JSON.parse(args.join(''))).toEqual(toolCall.input);
    expect(name).toBe('get_weather');
    expect(id).toMatch(/^toolu_/);
    expect(finish).toBe('tool_calls');

    const [req] = await s.requests();
    const body = req!.body as Record<string, unknown>;
    expect(body.tools).toEqual([
      {
        name: 'get_weather',
        description: 'Weather of a city',
        input_schema: weather.function.parameters,
      },
    ]);
    expect(body.tool_choice).toEqual({
      type: 'tool',
      name: 'get_weather',
      disable_parallel_tool_use: true,
    });
    expect(body.messages).toEqual([
      { role: 'user', content: 'Weather in Paris?' },
      {
        role: 'assistant',
        content: [
          { type: 'tool_use', id: 'toolu_1', name: 'get_weather', input: { city: 'Rome' } },
        ],
      },
      {
        role: 'user',
        content: [{ type: 'tool_result', tool_use_id: 'toolu_1', content: 'sunny' }],
      },
    ]);
  });

  it('maps a non-streamed tool call', async () => {
    const s = await fakeScenario('anthropic', {
      toolCall: { name: 'get_weather', input: { city: 'Oslo' } },
    });
    const { client } = setup({ a: anthropicAt(s) });
    const res = await client.chat.completions.create({
      model: 'm',
      messages: [{ role: 'user', content: 'Weather?' }],
      tools: [weather],
      tool_choice: 'required',
    });
    const call = res.choices[0]!.message.tool_calls![0]!;
    expect(call.type === 'function' && JSON.parse(call.function.arguments)).toEqual({
      city: 'Oslo',
    });
    expect(res.choices[0]!.finish_reason).toBe('tool_calls');
    expect(((await s.requests())[0]!.body as { tool_choice: unknown }).tool_choice).toEqual({
      type: 'any',
    });
  });

  it.each([
    ['max_tokens', 'length'],
    ['stop_sequence', 'stop'],
    ['end_turn', 'stop'],
    ['refusal', 'content_filter'],
  ])('maps stop reason %s to %s, streamed and not', async (stopReason, finish) => {
    const s = await fakeScenario('anthropic', { stopReason });
    const { client } = setup({ a: anthropicAt(s) });
    const res = await client.chat.completions.create({
      model: 'm',
      messages: [{ role: 'user', content: 'x' }],
    });
    expect(res.choices[0]!.finish_reason).toBe(finish);
    const stream = await client.chat.completions.create({
      model: 'm',
      messages: [{ role: 'user', content: 'x' }],
      stream: true,
    });
    const reasons: string[] = [];
    for await (const chunk of stream)
      if (chunk.choices[0]?.finish_reason) reasons.push(chunk.choices[0].finish_reason);
    expect(reasons).toEqual([finish]);
  });

  it('counts cached tokens exactly (usage split across message_start and message_delta) and bills reads and 5-minute and 1-hour writes at their prices', async () => {
    const s = await fakeScenario('anthropic', {
      cacheReadTokens: 1000,
      cacheWriteTokens: 200,
      cacheWrite1hTokens: 50,
    });
    const { gw, client } = setup({ a: anthropicAt(s) });
    const raw = await client.chat.completions
      .create({ model: 'm', messages: [{ role: 'user', content: 'Say hello' }] })
      .withResponse();
    const usage = raw.data.usage!;
    // input 6 + cache write 200 + cache read 1000
    expect(usage.prompt_tokens).toBe(1206);
    expect(usage.prompt_tokens_details?.cached_tokens).toBe(1000);
    expect(usage.completion_tokens).toBe(11);
    // (6 * 3 + 150 * 3.75 + 50 * 6 + 1000 * 0.3 + 11 * 15) / 1e6 USD
    expect(raw.response.headers.get('x-gateway-cost-usd')).toBe('0.0013455');

    const stream = await client.chat.completions.create({
      model: 'm',
      messages: [{ role: 'user', content: 'Say hello' }],
      stream: true,
      stream_options: { include_usage: true },
    });
    let streamed: OpenAI.CompletionUsage | undefined;
    for await (const chunk of stream) if (chunk.usage) streamed = chunk.usage;
    expect(streamed).toMatchObject({
      prompt_tokens: 1206,
      completion_tokens: 11,
      total_tokens: 1217,
    });
    expect(streamed!.prompt_tokens_details?.cached_tokens).toBe(1000);
    await vi_wait(() => gw.logs.length === 2);
    expect(gw.logs[1]!.usage).toMatchObject({
      prompt_tokens: 1206,
      cached_tokens: 1000,
      cache_write_tokens: 200,
      cache_write_1h_tokens: 50,
      source: 'upstream',
    });
    expect(gw.logs[1]!.cost_usd).toBeCloseTo(0.0013455, 9);
  });

  it('a stream cut mid-way still delivers what was produced, and estimates usage', async () => {
    const s = await fakeScenario('anthropic', { closeAfterChunks: 5 });
    const { gw } = setup({ a: anthropicAt(s) });
    const res = await gw.chat({
      model: 'm',
      messages: [{ role: 'user', content: 'hi' }],
      stream: true,
    });
    expect(res.status).toBe(200);
    const data = await sseData(res);
    const chunks = data.map((d) => JSON.parse(d) as Chunk);
    const text = chunks.map((c) => c.choices?.[0]?.delta?.content ?? '').join('');
    expect(text).toBe('Hello! This '); // message_start, block start, ping, 2 deltas
    expect(chunks.at(-1)!.error.code).toBe('upstream_stream_error');
    await vi_wait(() => gw.logs.length === 1);
    expect(gw.logs[0]).toMatchObject({
      stream_end: 'upstream_error',
      usage: { source: 'estimated', completion_tokens: 3 },
    });
  });

  it('turns a mid-stream error event into an OpenAI error event', async () => {
    const s = await fakeScenario('anthropic', { streamErrorAfter: 4 });
    const { gw } = setup({ a: anthropicAt(s) });
    const res = await gw.chat({
      model: 'm',
      messages: [{ role: 'user', content: 'hi' }],
      stream: true,
    });
    const data = await sseData(res);
    const errs = data.filter((d) => d.includes('"error"')).map((d) => JSON.parse(d).error);
    expect(errs[0]).toMatchObject({
      type: 'server_error',
      code: 'overloaded',
      message: 'Overloaded',
    });
  });
});

describe('anthropic error mapping', () => {
  const prompt = { model: 'm', messages: [{ role: 'user', content: 'x' }] };
  it.each([
    // [upstream status, error body type, client status, client code, upstream attempts]
    [400, 'invalid_request_error', 400, null, 1],
    [401, 'authentication_error', 502, 'upstream_error', 1],
    [403, 'permission_error', 502, 'upstream_error', 1],
    [404, 'not_found_error', 502, 'upstream_error', 1],
    [413, 'request_too_large', 413, 'request_too_large', 1],
    [429, 'rate_limit_error', 503, 'upstream_unavailable', 2],
    [500, 'api_error', 502, 'upstream_error', 2],
    [529, 'overloaded_error', 503, 'upstream_unavailable', 2],
  ])(
    'upstream %i %s -> %i %s after %i attempts',
    async (status, _type, clientStatus, code, attempts) => {
      const s = await fakeScenario('anthropic', { status });
      const { gw } = setup({ a: anthropicAt(s) });
      const res = await gw.chat(prompt);
      expect(res.status).toBe(clientStatus);
      const body = (await res.json()) as { error: { code: string | null; message: string } };
      expect(body.error.code).toBe(code);
      expect(res.headers.get('x-gateway-attempts')).toBe(String(attempts));
      expect(JSON.stringify(body)).not.toContain(UPSTREAM_KEY);
    },
  );

  it('a too-long prompt is context_length_exceeded and not retried; an overload falls back', async () => {
    const tooLong = await fakeScenario('anthropic', {
      status: 400,
      errorBody: {
        type: 'error',
        error: {
          type: 'invalid_request_error',
          message: 'prompt is too long: 210000 tokens > 200000 maximum',
        },
      },
    });
    const spare = await scenario({});
    const { gw } = setup({ a: anthropicAt(tooLong), b: openaiAt(spare) });
    const res = await gw.chat(prompt);
    expect(res.status).toBe(400);
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe(
      'context_length_exceeded',
    );
    expect(await spare.requests()).toHaveLength(0);

    const overloaded = await fakeScenario('anthropic', { status: 529 });
    const spare2 = await scenario({});
    const two = setup({ a: anthropicAt(overloaded), b: openaiAt(spare2) });
    const ok = await two.gw.chat(prompt);
    expect(ok.status).toBe(200);
    expect(ok.headers.get('x-gateway-provider')).toBe('b');
    expect(await overloaded.requests()).toHaveLength(2);
  });
});

async function vi_wait(check: () => boolean, timeoutMs = 3_000) {
  const until = Date.now() + timeoutMs;
  while (!check() && Date.now() < until) await new Promise((r) => setTimeout(r, 10));
}
