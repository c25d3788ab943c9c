import { AwsV4Signer } from 'aws4fetch';
import OpenAI from 'openai';
import { describe, expect, it } from 'vitest';
import { createGateway } from '../../src/app.ts';
import { loadConfig } from '../../src/config/index.ts';
import { bedrockControlEndpoint } from '../../src/providers/bedrock/index.ts';
import { gateway, openaiAt, type RecordedRequest, scenario, sseData } from './helpers.ts';
import { FAKES, fakeScenario } from './providers-fakes.ts';

type Chunk = { choices?: { delta?: { content?: string } }[]; error: { code: string } };

// The credentials the fake accepts (tools/fakes/bedrock.ts FAKE_BEDROCK_*; that module is
// Node-only, so they are repeated here).
const ACCESS_KEY_ID = 'AKIAFAKEBEDROCK00001';
const SECRET = 'fake-bedrock-secret-key-0123456789abcdef';

/** The official openai client against the gateway, with Bedrock (the fake) behind it. */
const bedrockAt = (s: { baseUrl: string }, extra: Record<string, unknown> = {}) => ({
  kind: 'bedrock',
  awsRegion: 'us-east-1',
  accessKeyId: ACCESS_KEY_ID,
  secretAccessKey: SECRET,
  endpoint: s.baseUrl,
  ...extra,
});

function setup(providers: Record<string, unknown>, model = 'claude-x') {
  const gw = gateway({
    providers,
    models: {
      m: { targets: Object.keys(providers).map((provider) => ({ provider, model })) },
    },
    prices: {
      [model]: {
        inputPerMTok: 3,
        outputPerMTok: 15,
        cachedInputPerMTok: 0.3,
        cacheWriteInputPerMTok: 3.75,
      },
    },
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

/** The fake's independent (node:crypto) SigV4 check of a recorded request. */
async function verify(request: RecordedRequest, secretAccessKey = SECRET) {
  const res = await fetch(`${FAKES.bedrock}/__verify-sigv4`, {
    method: 'POST',
    body: JSON.stringify({ request, secretAccessKey }),
  });
  return (await res.json()) as { ok: boolean; reason?: string };
}

/** The same request re-signed with aws4fetch at the recorded x-amz-date. */
async function resign(request: RecordedRequest, sessionToken?: string) {
  const signed = request.headers.authorization!;
  const names = /SignedHeaders=([\w;-]+)/.exec(signed)![1]!.split(';');
  const headers = Object.fromEntries(
    names
      .filter((n) => n !== 'host' && n !== 'x-amz-date' && n !== 'x-amz-security-token')
      .map((n) => [n, request.headers[n]!]),
  );
  const signer = new AwsV4Signer({
    method: 'POST',
    url: `http://${request.headers.host}${request.path}`,
    headers,
    body: JSON.stringify(request.body),
    accessKeyId: ACCESS_KEY_ID,
    secretAccessKey: SECRET,
    ...(sessionToken ? { sessionToken } : {}),
    service: 'bedrock',
    region: 'us-east-1',
    datetime: request.headers['x-amz-date']!,
  });
  return (await signer.sign()).headers.get('authorization');
}

describe('bedrock provider through the openai SDK', () => {
  it('translates a chat request and the response, SigV4-signed (verified at the fake)', async () => {
    const s = await fakeScenario('bedrock', {});
    const { client } = setup({ b: bedrockAt(s) }, 'anthropic.claude-3-5-sonnet-20240620-v1:0');
    const res = await client.chat.completions.create({
      model: 'm',
      messages: [
        { role: 'system', content: 'Be brief.' },
        { role: 'user', content: 'Hi' },
        { role: 'assistant', content: 'Hello.' },
        { role: 'user', content: 'How are you?' },
      ],
      max_tokens: 50,
      temperature: 0.5,
      top_p: 0.9,
      stop: ['###'],
    });
    expect(res.choices[0]!.message.content).toBe('Hello! This is the fake Bedrock upstream.');
    expect(res.choices[0]!.finish_reason).toBe('stop');
    expect(res.usage).toMatchObject({ prompt_tokens: 17, completion_tokens: 11, total_tokens: 28 });
    const [req] = await s.requests();
    expect(req!.path).toMatch(/\/model\/anthropic\.claude-3-5-sonnet-20240620-v1%3A0\/converse$/);
    expect(req!.body).toEqual({
      system: [{ text: 'Be brief.' }],
      messages: [
        { role: 'user', content: [{ text: 'Hi' }] },
        { role: 'assistant', content: [{ text: 'Hello.' }] },
        { role: 'user', content: [{ text: 'How are you?' }] },
      ],
      inferenceConfig: { maxTokens: 50, temperature: 0.5, topP: 0.9, stopSequences: ['###'] },
    });
    expect(req!.headers.authorization).toMatch(
      new RegExp(
        `^AWS4-HMAC-SHA256 Credential=${ACCESS_KEY_ID}/\\d{8}/us-east-1/bedrock/aws4_request, SignedHeaders=[\\w;-]*host[\\w;-]*, Signature=[0-9a-f]{64}$`,
      ),
    );
    expect(req!.headers['x-amz-date']).toMatch(/^\d{8}T\d{6}Z$/);
    expect(JSON.stringify(req!.headers)).not.toContain(SECRET);
    expect(await verify(req!)).toEqual({ ok: true });
    expect(await verify(req!, 'another-secret')).toMatchObject({ ok: false });
    expect(await resign(req!)).toBe(req!.headers.authorization);
  });

  it('signs the session token of temporary credentials; a wrong key id is refused', async () => {
    const s = await fakeScenario('bedrock', {});
    const { client } = setup({ b: bedrockAt(s, { sessionToken: 'session-token-xyz' }) });
    await client.chat.completions.create({
      model: 'm',
      messages: [{ role: 'user', content: 'x' }],
    });
    const [req] = await s.requests();
    expect(req!.headers['x-amz-security-token']).toBe('session-token-xyz');
    expect(req!.headers.authorization).toMatch(/SignedHeaders=[\w;-]*x-amz-security-token/);
    expect(await verify(req!)).toEqual({ ok: true });
    expect(await resign(req!, 'session-token-xyz')).toBe(req!.headers.authorization);

    const bad = await fakeScenario('bedrock', {});
    const { gw } = setup({ b: bedrockAt(bad, { accessKeyId: 'AKIAWRONG' }) });
    const res = await gw.chat({ model: 'm', messages: [{ role: 'user', content: 'x' }] });
    expect(res.status).toBe(502);
    expect(res.headers.get('x-gateway-attempts')).toBe('1');
  });

  it('sends data-URL images as Converse image blocks; web URLs are refused', async () => {
    const s = await fakeScenario('bedrock', {});
    const { client, gw } = setup({ b: bedrockAt(s) });
    await client.chat.completions.create({
      model: 'm',
      messages: [
        {
          role: 'user',
          content: [
            { type: 'text', text: 'What is this?' },
            { type: 'image_url', image_url: { url: 'data:image/png;base64,iVBORw0KGgo=' } },
            { type: 'image_url', image_url: { url: 'data:image/webp;base64,UklGRg==' } },
          ],
        },
      ],
    });
    const [req] = await s.requests();
    expect((req!.body as { messages: unknown[] }).messages).toEqual([
      {
        role: 'user',
        content: [
          { text: 'What is this?' },
          { image: { format: 'png', source: { bytes: 'iVBORw0KGgo=' } } },
          { image: { format: 'webp', source: { bytes: 'UklGRg==' } } },
        ],
      },
    ]);
    const refused = await gw.chat({
      model: 'm',
      messages: [
        {
          role: 'user',
          content: [{ type: 'image_url', image_url: { url: 'https://example.com/cat.jpg' } }],
        },
      ],
    });
    expect(refused.status).toBe(400);
    expect(await s.requests()).toHaveLength(1);
  });

  it('streams text (binary event stream) with usage, and strips usage when not asked', async () => {
    const s = await fakeScenario('bedrock', {});
    const { client } = setup({ b: bedrockAt(s) });
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
    expect(text).toBe('Hello! This is the fake Bedrock upstream.');
    expect(finish).toBe('stop');
    expect(usage).toMatchObject({ completion_tokens: 11, prompt_tokens: 6, total_tokens: 17 });
    const [req] = await s.requests();
    expect(req!.path).toMatch(/\/model\/claude-x\/converse-stream$/);
    expect(req!.body).not.toHaveProperty('stream');
    expect(await verify(req!)).toEqual({ ok: true });

    const plain = await client.chat.completions.create({
      model: 'm',
      messages: [{ role: 'user', content: 'Say hello' }],
      stream: true,
    });
    let chunks = 0;
    for await (const chunk of plain) {
      chunks++;
      expect(chunk.usage ?? null).toBeNull();
    }
    expect(chunks).toBeGreaterThan(1);
  });

  it('sends tools and tool results, and reassembles streamed tool-call input', async () => {
    const toolCall = { name: 'get_weather', input: { city: 'Paris', unit: 'celsius' } };
    const s = await fakeScenario('bedrock', { toolCall });
    const { client } = setup({ b: bedrockAt(s) });
    const stream = await client.chat.completions.create({
      model: 'm',
      messages: [
        { role: 'user', content: 'Weather in Paris?' },
        {
          role: 'assistant',
          content: null,
          tool_calls: [
            {
              id: 'tooluse_1',
              type: 'function',
              function: { name: 'get_weather', arguments: '{"city":"Rome"}' },
            },
          ],
        },
        { role: 'tool', tool_call_id: 'tooluse_1', content: 'sunny' },
      ],
      tools: [weather],
      tool_choice: { type: 'function', function: { name: 'get_weather' } },
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
    expect(id).toMatch(/^tooluse_/);
    expect(finish).toBe('tool_calls');

    const [req] = await s.requests();
    const body = req!.body as Record<string, unknown>;
    expect(body.toolConfig).toEqual({
      tools: [
        {
          toolSpec: {
            name: 'get_weather',
            description: 'Weather of a city',
            inputSchema: { json: weather.function.parameters },
          },
        },
      ],
      toolChoice: { tool: { name: 'get_weather' } },
    });
    expect(body.messages).toEqual([
      { role: 'user', content: [{ text: 'Weather in Paris?' }] },
      {
        role: 'assistant',
        content: [
          { toolUse: { toolUseId: 'tooluse_1', name: 'get_weather', input: { city: 'Rome' } } },
        ],
      },
      {
        role: 'user',
        content: [{ toolResult: { toolUseId: 'tooluse_1', content: [{ text: 'sunny' }] } }],
      },
    ]);
  });

  it('maps a non-streamed tool call', async () => {
    const s = await fakeScenario('bedrock', {
      toolCall: { name: 'get_weather', input: { city: 'Oslo' } },
    });
    const { client } = setup({ b: bedrockAt(s) });
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
    expect(call.id).toMatch(/^tooluse_/);
    expect(res.choices[0]!.message.content).toBeNull();
    expect(res.choices[0]!.finish_reason).toBe('tool_calls');
    const body = (await s.requests())[0]!.body as { toolConfig: { toolChoice: unknown } };
    expect(body.toolConfig.toolChoice).toEqual({ any: {} });
  });

  it.each([
    ['max_tokens', 'length'],
    ['stop_sequence', 'stop'],
    ['end_turn', 'stop'],
    ['content_filtered', 'content_filter'],
    ['guardrail_intervened', 'content_filter'],
  ])('maps stop reason %s to %s, streamed and not', async (stopReason, finish) => {
    const s = await fakeScenario('bedrock', { stopReason });
    const { client } = setup({ b: bedrockAt(s) });
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

  it('counts cache reads and writes (usage arrives after messageStop) and bills each at its price', async () => {
    const s = await fakeScenario('bedrock', { cacheReadTokens: 1000, cacheWriteTokens: 200 });
    const { gw, client } = setup({ b: bedrockAt(s) });
    const raw = await client.chat.completions
      .create({ model: 'm', messages: [{ role: 'user', content: 'Say hello' }] })
      .withResponse();
    const usage = raw.data.usage!;
    // input 6 + cache write 200 + cache read 1000
    expect(usage.prompt_tokens).toBe(1206);
    expect(usage.prompt_tokens_details?.cached_tokens).toBe(1000);
    expect(usage.completion_tokens).toBe(11);
    // (6 * 3 + 200 * 3.75 + 1000 * 0.3 + 11 * 15) / 1e6 USD
    expect(raw.response.headers.get('x-gateway-cost-usd')).toBe('0.001233');

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
    await waitFor(() => gw.logs.length === 2);
    expect(gw.logs[1]!.usage).toMatchObject({
      prompt_tokens: 1206,
      cached_tokens: 1000,
      cache_write_tokens: 200,
      source: 'upstream',
    });
    expect(gw.logs[1]!.cost_usd).toBeCloseTo(0.001233, 9);
  });

  it('a stream cut mid-way still delivers what was produced, and estimates usage', async () => {
    const s = await fakeScenario('bedrock', { closeAfterChunks: 3 });
    const { gw } = setup({ b: bedrockAt(s) });
    const res = await gw.chat({
      model: 'm',
      messages: [{ role: 'user', content: 'hi' }],
      stream: true,
    });
    expect(res.status).toBe(200);
    const data = await sseData(res);
    const chunks = data.map((d) => JSON.parse(d) as Chunk);
    const text = chunks.map((c) => c.choices?.[0]?.delta?.content ?? '').join('');
    expect(text).toBe('Hello! This '); // messageStart, 2 deltas
    expect(chunks.at(-1)!.error.code).toBe('upstream_stream_error');
    await waitFor(() => gw.logs.length === 1);
    expect(gw.logs[0]).toMatchObject({
      stream_end: 'upstream_error',
      usage: { source: 'estimated', completion_tokens: 3 },
    });
  });

  it('turns a mid-stream exception message into an OpenAI error event', async () => {
    const s = await fakeScenario('bedrock', {
      streamExceptionAfter: 3,
      streamExceptionType: 'throttlingException',
    });
    const { gw } = setup({ b: bedrockAt(s) });
    const res = await gw.chat({
      model: 'm',
      messages: [{ role: 'user', content: 'hi' }],
      stream: true,
    });
    const data = await sseData(res);
    const errs = data.filter((d) => d.includes('"error"')).map((d) => JSON.parse(d).error);
    expect(errs[0]).toMatchObject({
      type: 'rate_limit_error',
      code: 'rate_limit_exceeded',
      message: 'Scripted throttlingException.',
    });
  });
});

describe('bedrock error mapping', () => {
  const prompt = { model: 'm', messages: [{ role: 'user', content: 'x' }] };
  it.each([
    // [upstream status, x-amzn-errortype, client status, client code, upstream attempts]
    [400, 'ValidationException', 400, null, 1],
    [403, 'AccessDeniedException', 502, 'upstream_error', 1],
    [403, 'UnrecognizedClientException', 502, 'upstream_error', 1],
    [404, 'ResourceNotFoundException', 502, 'upstream_error', 1],
    [429, 'ThrottlingException', 503, 'upstream_unavailable', 2],
    [429, 'ModelNotReadyException', 503, 'upstream_unavailable', 2],
    [503, 'ServiceUnavailableException', 503, 'upstream_unavailable', 2],
    [500, 'InternalServerException', 502, 'upstream_error', 2],
    [424, 'ModelErrorException', 502, 'upstream_error', 2],
  ])(
    'upstream %i %s -> %i %s after %i attempts',
    async (status, errorType, clientStatus, code, attempts) => {
      const s = await fakeScenario('bedrock', { status, errorType });
      const { gw } = setup({ b: bedrockAt(s) });
      const res = await gw.chat(prompt);
      expect(res.status).toBe(clientStatus);
      const body = (await res.json()) as { error: { code: string | null; message: string } };
      expect(body.error.code).toBe(code);
      expect(res.headers.get('x-gateway-attempts')).toBe(String(attempts));
      expect(JSON.stringify(body)).not.toContain(SECRET);
    },
  );

  it('a too-long input is context_length_exceeded and not retried; a throttle falls back', async () => {
    const tooLong = await fakeScenario('bedrock', {
      status: 400,
      errorType: 'ValidationException',
      errorBody: { message: 'Input is too long for requested model.' },
    });
    const spare = await scenario({});
    const { gw } = setup({ b: bedrockAt(tooLong), o: openaiAt(spare) });
    const res = await gw.chat(prompt);
    expect(res.status).toBe(400);
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe(
      'context_length_exceeded',
    );
    expect(await tooLong.requests()).toHaveLength(1);
    expect(await spare.requests()).toHaveLength(0);

    const throttled = await fakeScenario('bedrock', { status: 429 });
    const spare2 = await scenario({});
    const two = setup({ b: bedrockAt(throttled), o: openaiAt(spare2) });
    const ok = await two.gw.chat(prompt);
    expect(ok.status).toBe(200);
    expect(ok.headers.get('x-gateway-provider')).toBe('o');
    expect(await throttled.requests()).toHaveLength(2);
  });
});

describe('bedrock cron probe', () => {
  const probeGateway = (providers: Record<string, unknown>) =>
    createGateway({
      config: loadConfig({ auth: { enabled: false }, providers, models: {} }, {}),
      log: () => undefined,
    });

  it('lists foundation models on the control plane with a valid SigV4 signature', async () => {
    const s = await fakeScenario('bedrock', {});
    const gw = probeGateway({ b: bedrockAt(s, { controlEndpoint: s.baseUrl }) });
    expect(await gw.probe()).toMatchObject([{ target: 'b', ok: true, status: 200 }]);
    const [probe] = await s.requests();
    expect(probe).toMatchObject({
      method: 'GET',
      path: `/s/${s.id}/foundation-models`,
      query: { byOutputModality: 'TEXT' },
    });
    expect(probe!.headers.authorization).toMatch(
      /^AWS4-HMAC-SHA256 Credential=AKIAFAKEBEDROCK00001\/\d{8}\/us-east-1\/bedrock\/aws4_request/,
    );
    expect(await verify(probe!)).toEqual({ ok: true });
  });

  it('marks the target down when the credentials are refused or the endpoint is away', async () => {
    const s = await fakeScenario('bedrock', {});
    const gw = probeGateway({
      wrong: bedrockAt(s, { controlEndpoint: s.baseUrl, accessKeyId: 'AKIAWRONGKEY00000000' }),
      away: bedrockAt(s, { controlEndpoint: 'http://127.0.0.1:1' }),
    });
    const results = await gw.probe();
    expect(results).toContainEqual(
      expect.objectContaining({ target: 'wrong', ok: false, status: 403 }),
    );
    expect(results.find((r) => r.target === 'away')).toMatchObject({ ok: false });
    expect(JSON.stringify(results)).not.toContain(SECRET);
  });

  it('defaults to the regional control plane', async () => {
    const config = loadConfig(
      {
        auth: { enabled: false },
        providers: { b: bedrockAt({ baseUrl: 'http://x.test' }, { awsRegion: 'eu-central-1' }) },
        models: {},
      },
      {},
    ).providers.b as Parameters<typeof bedrockControlEndpoint>[0];
    expect(bedrockControlEndpoint(config)).toBe('https://bedrock.eu-central-1.amazonaws.com');
  });
});

async function waitFor(check: () => boolean, timeoutMs = 3_000) {
  const until = Date.now() + timeoutMs;
  while (!check() && Date.now() < until) await new Promise((r) => setTimeout(r, 10));
}
