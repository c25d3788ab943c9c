import OpenAI from 'openai';
import { describe, expect, it } from 'vitest';

type Chunk = {
  choices?: { delta?: { content?: string } }[];
  error: { code: string };
};

import { gateway, sseData, UPSTREAM_KEY } from './helpers.ts';
import { fakeScenario } from './providers-fakes.ts';

/** The official openai client against the gateway, with Gemini (the fake) behind it. */
const geminiAt = (s: { baseUrl: string }) => ({
  kind: 'gemini',
  baseUrl: `${s.baseUrl}/v1beta`,
  apiKey: UPSTREAM_KEY,
});

function setup(providers: Record<string, unknown>) {
  const gw = gateway({
    providers,
    models: {
      m: { targets: Object.keys(providers).map((provider) => ({ provider, model: 'gemini-x' })) },
    },
    prices: { 'gemini-x': { inputPerMTok: 1, outputPerMTok: 10, cachedInputPerMTok: 0.25 } },
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
    parameters: { type: 'object', properties: { city: { type: 'string' } } },
  },
};

describe('gemini provider through the openai SDK', () => {
  it('translates request and response, with usage', async () => {
    const s = await fakeScenario('gemini', {});
    const { client } = setup({ g: geminiAt(s) });
    const res = await client.chat.completions.create({
      model: 'm',
      messages: [
        { role: 'system', content: 'Be brief.' },
        {
          role: 'user',
          content: [
            { type: 'text', text: 'Look' },
            { type: 'image_url', image_url: { url: 'data:image/png;base64,iVBORw0KGgo=' } },
            { type: 'image_url', image_url: { url: 'https://example.com/cat.png' } },
          ],
        },
      ],
      max_tokens: 50,
      temperature: 0.4,
      stop: ['###'],
    });
    expect(res.choices[0]!.message.content).toBe('Hello! This is the fake Gemini upstream.');
    expect(res.choices[0]!.finish_reason).toBe('stop');
    expect(res.usage).toMatchObject({ prompt_tokens: 4, completion_tokens: 10, total_tokens: 14 });
    const [req] = await s.requests();
    expect(req!.path).toMatch(/\/v1beta\/models\/gemini-x:generateContent$/);
    expect(req!.headers['x-goog-api-key']).toBe(UPSTREAM_KEY);
    expect(req!.body).toEqual({
      systemInstruction: { parts: [{ text: 'Be brief.' }] },
      contents: [
        {
          role: 'user',
          parts: [
            { text: 'Look' },
            { inlineData: { mimeType: 'image/png', data: 'iVBORw0KGgo=' } },
            { fileData: { mimeType: 'image/png', fileUri: 'https://example.com/cat.png' } },
          ],
        },
      ],
      generationConfig: { maxOutputTokens: 50, temperature: 0.4, stopSequences: ['###'] },
    });
  });

  it('streams text with usage (alt=sse)', async () => {
    const s = await fakeScenario('gemini', {});
    const { client } = setup({ g: geminiAt(s) });
    const stream = await client.chat.completions.create({
      model: 'm',
      messages: [{ role: 'user', content: 'Say hello' }],
      stream: true,
      stream_options: { include_usage: true },
    });
    let text = '';
    let usage: OpenAI.CompletionUsage | undefined;
    const finishes: string[] = [];
    for await (const chunk of stream) {
      text += chunk.choices[0]?.delta?.content ?? '';
      if (chunk.choices[0]?.finish_reason) finishes.push(chunk.choices[0].finish_reason);
      if (chunk.usage) usage = chunk.usage;
    }
    expect(text).toBe('Hello! This is the fake Gemini upstream.');
    expect(finishes).toEqual(['stop']);
    expect(usage).toMatchObject({ prompt_tokens: 3, completion_tokens: 10, total_tokens: 13 });
    const [req] = await s.requests();
    expect(req!.path).toMatch(/:streamGenerateContent$/);
    expect(req!.query.alt).toBe('sse');
  });

  it('function calling: tools, tool results by name, streamed call', async () => {
    const s = await fakeScenario('gemini', {
      toolCall: { name: 'get_weather', args: { city: 'Paris' } },
    });
    const { client } = setup({ g: geminiAt(s) });
    const stream = await client.chat.completions.create({
      model: 'm',
      messages: [
        { role: 'user', content: 'Weather?' },
        {
          role: 'assistant',
          content: null,
          tool_calls: [
            {
              id: 'c1',
              type: 'function',
              function: { name: 'get_weather', arguments: '{"city":"Rome"}' },
            },
          ],
        },
        { role: 'tool', tool_call_id: 'c1', content: '{"temp":21}' },
      ],
      tools: [weather],
      tool_choice: 'required',
      stream: true,
    });
    let args = '';
    let finish: string | null | undefined;
    for await (const chunk of stream) {
      args += chunk.choices[0]?.delta?.tool_calls?.[0]?.function?.arguments ?? '';
      finish ??= chunk.choices[0]?.finish_reason;
    }
    expect(JSON.parse(args)).toEqual({ city: 'Paris' });
    expect(finish).toBe('tool_calls');
    const body = (await s.requests())[0]!.body as Record<string, unknown>;
    expect(body.tools).toEqual([
      { functionDeclarations: [{ name: 'get_weather', parameters: weather.function.parameters }] },
    ]);
    expect(body.toolConfig).toEqual({ functionCallingConfig: { mode: 'ANY' } });
    expect(body.contents).toEqual([
      { role: 'user', parts: [{ text: 'Weather?' }] },
      { role: 'model', parts: [{ functionCall: { name: 'get_weather', args: { city: 'Rome' } } }] },
      {
        role: 'user',
        parts: [{ functionResponse: { name: 'get_weather', response: { temp: 21 } } }],
      },
    ]);
    const res = await client.chat.completions.create({
      model: 'm',
      messages: [{ role: 'user', content: 'x' }],
      tools: [weather],
    });
    expect(res.choices[0]!.finish_reason).toBe('tool_calls');
    const call = res.choices[0]!.message.tool_calls![0]!;
    expect(call.type === 'function' && JSON.parse(call.function.arguments)).toEqual({
      city: 'Paris',
    });
  });

  it.each([
    ['MAX_TOKENS', 'length'],
    ['SAFETY', 'content_filter'],
    ['STOP', 'stop'],
  ])('maps finishReason %s to %s', async (finishReason, expected) => {
    const s = await fakeScenario('gemini', { finishReason });
    const { client } = setup({ g: geminiAt(s) });
    const res = await client.chat.completions.create({
      model: 'm',
      messages: [{ role: 'user', content: 'x' }],
    });
    expect(res.choices[0]!.finish_reason).toBe(expected);
  });

  it('a prompt blocked by safety answers content_filter with a refusal', async () => {
    const s = await fakeScenario('gemini', { blockReason: 'SAFETY' });
    const { client } = setup({ g: geminiAt(s) });
    const res = await client.chat.completions.create({
      model: 'm',
      messages: [{ role: 'user', content: 'x' }],
    });
    expect(res.choices[0]!.finish_reason).toBe('content_filter');
    expect(res.choices[0]!.message.refusal).toContain('SAFETY');
    const stream = await client.chat.completions.create({
      model: 'm',
      messages: [{ role: 'user', content: 'x' }],
      stream: true,
    });
    const finishes: string[] = [];
    for await (const chunk of stream)
      if (chunk.choices[0]?.finish_reason) finishes.push(chunk.choices[0].finish_reason);
    expect(finishes).toEqual(['content_filter']);
  });

  it('counts cached and thinking tokens and bills cached tokens at the cached price', async () => {
    const s = await fakeScenario('gemini', { cachedTokens: 1000, thoughtsTokens: 20 });
    const { client } = setup({ g: geminiAt(s) });
    const raw = await client.chat.completions
      .create({ model: 'm', messages: [{ role: 'user', content: 'Say hello' }] })
      .withResponse();
    expect(raw.data.usage).toMatchObject({
      prompt_tokens: 1003,
      completion_tokens: 30,
      total_tokens: 1033,
    });
    expect(raw.data.usage!.prompt_tokens_details!.cached_tokens).toBe(1000);
    // (3 * 1 + 1000 * 0.25 + 30 * 10) / 1e6
    expect(raw.response.headers.get('x-gateway-cost-usd')).toBe('0.000553');
  });

  it('a stream cut mid-way delivers what was produced', async () => {
    const s = await fakeScenario('gemini', { closeAfterChunks: 2 });
    const { gw } = setup({ g: geminiAt(s) });
    const res = await gw.chat({
      model: 'm',
      messages: [{ role: 'user', content: 'x' }],
      stream: true,
    });
    const chunks = (await sseData(res)).map((d) => JSON.parse(d) as Chunk);
    expect(chunks.map((c) => c.choices?.[0]?.delta?.content ?? '').join('')).toBe('Hello! This ');
    expect(chunks.at(-1)!.error.code).toBe('upstream_stream_error');
  });
});

describe('gemini error mapping', () => {
  const prompt = { model: 'm', messages: [{ role: 'user', content: 'x' }] };
  it.each([
    // [step, client status, code, attempts]
    [{ status: 400 }, 400, null, 1],
    [{ status: 400, errorReason: 'API_KEY_INVALID' }, 502, 'upstream_error', 1],
    [{ status: 403 }, 502, 'upstream_error', 1],
    [{ status: 404 }, 502, 'upstream_error', 1],
    [{ status: 429 }, 503, 'upstream_unavailable', 2],
    [{ status: 500 }, 502, 'upstream_error', 2],
    [{ status: 503 }, 503, 'upstream_unavailable', 2],
    [
      {
        status: 400,
        errorBody: {
          error: {
            code: 400,
            status: 'INVALID_ARGUMENT',
            message:
              'The input token count (2000000) exceeds the maximum number of tokens allowed (1048576).',
          },
        },
      },
      400,
      'context_length_exceeded',
      1,
    ],
  ])('%j -> %i %s after %i attempts', async (step, status, code, attempts) => {
    const s = await fakeScenario('gemini', step);
    const { gw } = setup({ g: geminiAt(s) });
    const res = await gw.chat(prompt);
    expect(res.status).toBe(status);
    expect(((await res.json()) as { error: { code: string | null } }).error.code).toBe(code);
    expect(res.headers.get('x-gateway-attempts')).toBe(String(attempts));
  });
});
