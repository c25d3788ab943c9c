/**
 * The fake OpenAI upstream (tools/fakes/openai.ts), driven by the official `openai` SDK where
 * possible so the wire shapes are proven against a real client, and by raw fetch where the SDK
 * would hide what we check (exact keys, headers, base64).
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import OpenAI, { AzureOpenAI } from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type FakeOpenAI,
  type RecordedRequest,
  type Step,
  startFakeOpenAI,
} from '../../tools/fakes/openai.ts';

let fake: FakeOpenAI;
beforeAll(async () => {
  fake = await startFakeOpenAI();
});
afterAll(() => fake.close());

type Json = Record<string, unknown>;

async function scenario(...steps: Step[]) {
  const res = await fetch(`${fake.url}/__scenarios`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ steps }),
  });
  expect(res.status).toBe(201);
  const { id, baseUrl } = (await res.json()) as { id: string; baseUrl: string };
  const requests = async (suffix = '') => {
    const body = (await (await fetch(`${fake.url}/__scenarios/${id}${suffix}`)).json()) as {
      requests: RecordedRequest[];
    };
    return body.requests;
  };
  const client = (opts: { maxRetries?: number } = {}) =>
    new OpenAI({ apiKey: 'sk-test-key', baseURL: `${baseUrl}/v1`, maxRetries: 0, ...opts });
  return { id, baseUrl, requests, client };
}

function post(url: string, body: unknown, headers: Record<string, string> = {}) {
  return fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: 'Bearer raw', ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
}

/** The `data:` payloads of an SSE body. */
async function sse(res: Response): Promise<string[]> {
  const text = await res.text();
  return text
    .split('\n\n')
    .filter((block) => block !== '')
    .map((block) => {
      expect(block.startsWith('data: ')).toBe(true);
      return block.slice('data: '.length);
    });
}

async function eventually(check: () => Promise<void>, timeoutMs = 1_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await check();
    } catch (err) {
      if (Date.now() > until) throw err;
      await new Promise((r) => setTimeout(r, 10));
    }
  }
}

// 'Be brief.' = 9 chars -> 3 + 3; 'Hello there' (a text part) = 11 chars -> 3 + 3: 12 prompt tokens.
const messages: OpenAI.Chat.ChatCompletionMessageParam[] = [
  { role: 'system', content: 'Be brief.' },
  { role: 'user', content: [{ type: 'text', text: 'Hello there' }] },
];

describe('chat completions', () => {
  it('answers a chat.completion with the documented usage and headers', async () => {
    const s = await scenario({ content: 'Bonjour le monde' });
    const { data, response } = await s
      .client()
      .chat.completions.create({ model: 'gpt-4o-mini', messages })
      .withResponse();
    expect(data.id).toMatch(/^chatcmpl-/);
    expect(data.object).toBe('chat.completion');
    expect(data.model).toBe('gpt-4o-mini');
    expect(data.system_fingerprint).toMatch(/^fp_/);
    expect(data.service_tier).toBe('default');
    expect(data.choices).toEqual([
      {
        index: 0,
        message: { role: 'assistant', content: 'Bonjour le monde', refusal: null, annotations: [] },
        logprobs: null,
        finish_reason: 'stop',
      },
    ]);
    expect(data.usage).toEqual({
      prompt_tokens: 12,
      completion_tokens: 3,
      total_tokens: 15,
      prompt_tokens_details: { cached_tokens: 0, audio_tokens: 0 },
      completion_tokens_details: {
        reasoning_tokens: 0,
        audio_tokens: 0,
        accepted_prediction_tokens: 0,
        rejected_prediction_tokens: 0,
      },
    });
    expect(response.headers.get('x-request-id')).toMatch(/^req_/);
    expect(response.headers.get('openai-processing-ms')).toMatch(/^\d+$/);
    for (const h of ['requests', 'tokens']) {
      expect(response.headers.get(`x-ratelimit-limit-${h}`)).toMatch(/^\d+$/);
      expect(response.headers.get(`x-ratelimit-remaining-${h}`)).toMatch(/^\d+$/);
      expect(response.headers.get(`x-ratelimit-reset-${h}`)).toMatch(/^\d+m?s$/);
    }
    const [seen] = await s.requests();
    expect(seen).toMatchObject({
      method: 'POST',
      path: `/s/${s.id}/v1/chat/completions`,
      body: { model: 'gpt-4o-mini', messages },
      clientAborted: false,
      completed: true,
    });
    expect(seen!.headers.authorization).toBe('Bearer sk-test-key');
  });

  it('uses the default reply and cuts at max_tokens with finish_reason "length"', async () => {
    const s = await scenario({}, { content: 'one two three four' });
    const plain = await s.client().chat.completions.create({ model: 'm', messages });
    expect(plain.choices[0]!.message.content).toBe('Hello! This is the fake upstream.');
    expect(plain.usage!.completion_tokens).toBe(6);
    const cut = await s.client().chat.completions.create({ model: 'm', messages, max_tokens: 2 });
    expect(cut.choices[0]!.message.content).toBe('one two ');
    expect(cut.choices[0]!.finish_reason).toBe('length');
    expect(cut.usage!.completion_tokens).toBe(2);
  });

  it('streams chunks the SDK reassembles, with usage in a final choices-less chunk', async () => {
    const s = await scenario({ content: 'alpha beta gamma delta' });
    const stream = await s.client().chat.completions.create({
      model: 'gpt-4o-mini',
      messages,
      stream: true,
      stream_options: { include_usage: true },
    });
    const chunks: OpenAI.Chat.ChatCompletionChunk[] = [];
    for await (const chunk of stream) chunks.push(chunk);
    expect(chunks.every((c) => c.object === 'chat.completion.chunk')).toBe(true);
    expect(new Set(chunks.map((c) => c.id)).size).toBe(1);
    expect(chunks[0]!.choices[0]!.delta).toEqual({ role: 'assistant', content: '', refusal: null });
    const text = chunks.map((c) => c.choices[0]?.delta.content ?? '').join('');
    expect(text).toBe('alpha beta gamma delta');
    expect(chunks).toHaveLength(1 + 4 + 1 + 1); // role, 4 pieces, finish, usage
    expect(chunks.at(-2)!.choices[0]!.finish_reason).toBe('stop');
    expect(chunks.slice(0, -1).every((c) => c.usage === null)).toBe(true);
    const last = chunks.at(-1)!;
    expect(last.choices).toEqual([]);
    expect(last.usage).toMatchObject({ prompt_tokens: 12, completion_tokens: 4, total_tokens: 16 });
  });

  it('streams the reply in pieces of pieceChars characters when a step says so', async () => {
    const s = await scenario({ content: 'alpha beta gamma delta', pieceChars: 5 });
    const stream = await s.client().chat.completions.create({ model: 'm', messages, stream: true });
    const deltas: string[] = [];
    for await (const chunk of stream) deltas.push(chunk.choices[0]?.delta.content ?? '');
    expect(deltas.filter((d) => d !== '')).toEqual(['alpha', ' beta', ' gamm', 'a del', 'ta']);
  });

  it('has no usage key at all without include_usage, and ends with [DONE]', async () => {
    const s = await scenario({ content: 'one two three' });
    const res = await post(`${s.baseUrl}/v1/chat/completions`, {
      model: 'm',
      messages,
      stream: true,
    });
    expect(res.headers.get('content-type')).toContain('text/event-stream');
    expect(res.headers.get('x-request-id')).toBeTruthy();
    const events = await sse(res);
    expect(events.at(-1)).toBe('[DONE]');
    const chunks = events.slice(0, -1).map((e) => JSON.parse(e) as Json);
    expect(chunks).toHaveLength(5);
    expect(chunks.some((c) => 'usage' in c)).toBe(false);
    expect(chunks.map((c) => (c.choices as Json[])[0]!.finish_reason)).toEqual([
      null,
      null,
      null,
      null,
      'stop',
    ]);
  });

  it('replies with a tool call, plain and streamed', async () => {
    const args = '{"city":"Paris","unit":"celsius"}';
    const s = await scenario({ toolCall: { name: 'get_weather', arguments: args } });
    const plain = await s.client().chat.completions.create({ model: 'm', messages });
    const choice = plain.choices[0]!;
    expect(choice.finish_reason).toBe('tool_calls');
    expect(choice.message.content).toBeNull();
    expect(choice.message.tool_calls).toEqual([
      {
        id: expect.stringMatching(/^call_/),
        type: 'function',
        function: { name: 'get_weather', arguments: args },
      },
    ]);

    const stream = await s.client().chat.completions.create({ model: 'm', messages, stream: true });
    const deltas: OpenAI.Chat.ChatCompletionChunk.Choice[] = [];
    for await (const chunk of stream) deltas.push(chunk.choices[0]!);
    const calls = deltas.flatMap((d) => d.delta.tool_calls ?? []);
    expect(calls[0]).toMatchObject({
      index: 0,
      id: expect.stringMatching(/^call_/),
      type: 'function',
    });
    expect(calls[0]!.function).toEqual({ name: 'get_weather', arguments: '' });
    expect(calls.length).toBeGreaterThanOrEqual(3);
    expect(calls.map((c) => c.function?.arguments ?? '').join('')).toBe(args);
    expect(deltas.at(-1)!.finish_reason).toBe('tool_calls');
  });
});

describe('completions, embeddings, models', () => {
  it('serves legacy text completions, plain and streamed with usage', async () => {
    const s = await scenario({ content: 'four five six' });
    const plain = await s
      .client()
      .completions.create({ model: 'gpt-3.5-turbo-instruct', prompt: 'Say 4 5 6' });
    expect(plain.object).toBe('text_completion');
    expect(plain.choices).toEqual([
      { text: 'four five six', index: 0, logprobs: null, finish_reason: 'stop' },
    ]);
    expect(plain.usage).toEqual({ prompt_tokens: 3, completion_tokens: 3, total_tokens: 6 });

    const stream = await s.client().completions.create({
      model: 'gpt-3.5-turbo-instruct',
      prompt: ['ab', 'cdefg'],
      stream: true,
      stream_options: { include_usage: true },
    });
    const chunks: OpenAI.Completions.Completion[] = [];
    for await (const chunk of stream) chunks.push(chunk);
    expect(chunks.every((c) => c.object === 'text_completion')).toBe(true);
    expect(chunks.map((c) => c.choices[0]?.text ?? '').join('')).toBe('four five six');
    expect(chunks.at(-1)!.choices).toEqual([]);
    expect(chunks.at(-1)!.usage).toEqual({
      prompt_tokens: 3,
      completion_tokens: 3,
      total_tokens: 6,
    });
  });

  it('returns deterministic unit vectors, as floats and as base64 float32', async () => {
    const s = await scenario();
    const client = s.client();
    const float = await client.embeddings.create({
      model: 'text-embedding-3-small',
      input: ['hello', 'world'],
      encoding_format: 'float',
    });
    expect(float.object).toBe('list');
    expect(float.model).toBe('text-embedding-3-small');
    expect(float.data.map((d) => [d.object, d.index, d.embedding.length])).toEqual([
      ['embedding', 0, 8],
      ['embedding', 1, 8],
    ]);
    expect(float.usage).toEqual({ prompt_tokens: 4, total_tokens: 4 });
    const [hello, world] = float.data.map((d) => d.embedding);
    expect(hello).not.toEqual(world);
    expect(Math.hypot(...hello!)).toBeCloseTo(1, 5);

    // The SDK asks for base64 by default and decodes it: it must equal the float answer.
    const decoded = await client.embeddings.create({ model: 'e', input: 'hello', dimensions: 8 });
    expect(Array.from(decoded.data[0]!.embedding)).toEqual(hello);

    const raw = await post(`${s.baseUrl}/v1/embeddings`, {
      model: 'e',
      input: [[1, 2, 3]],
      dimensions: 3,
      encoding_format: 'base64',
    });
    const body = (await raw.json()) as { data: { embedding: string }[]; usage: Json };
    const bytes = Buffer.from(body.data[0]!.embedding, 'base64');
    expect(bytes.length).toBe(12);
    const floats = [0, 1, 2].map((i) => bytes.readFloatLE(i * 4));
    expect(Math.hypot(...floats)).toBeCloseTo(1, 5);
    expect(body.usage).toEqual({ prompt_tokens: 3, total_tokens: 3 });
  });

  it('lists models', async () => {
    const s = await scenario();
    const page = await s.client().models.list();
    expect(page.data.map((m) => m.id)).toContain('gpt-4o-mini');
    expect(page.data.every((m) => m.object === 'model' && typeof m.created === 'number')).toBe(
      true,
    );
  });
});

describe('scripted failures', () => {
  it('surfaces a 429 with retry-after as OpenAI.RateLimitError', async () => {
    const s = await scenario({ status: 429, headers: { 'retry-after': '20' } });
    const err = await s
      .client()
      .chat.completions.create({ model: 'm', messages })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OpenAI.RateLimitError);
    const rate = err as InstanceType<typeof OpenAI.RateLimitError>;
    expect(rate.status).toBe(429);
    expect(rate.headers.get('retry-after')).toBe('20');
    expect(rate.headers.get('x-request-id')).toBeTruthy();
    expect(rate.error).toMatchObject({
      type: 'requests',
      code: 'rate_limit_exceeded',
      param: null,
    });
  });

  it('fails with a 500 once, then succeeds (the SDK retries after retry-after-ms)', async () => {
    const s = await scenario(
      { status: 500, headers: { 'retry-after-ms': '10' } },
      { content: 'ok now' },
    );
    const res = await s.client({ maxRetries: 1 }).chat.completions.create({ model: 'm', messages });
    expect(res.choices[0]!.message.content).toBe('ok now');
    const seen = await s.requests();
    expect(seen).toHaveLength(2);
    const again = await s.client().chat.completions.create({ model: 'm', messages });
    expect(again.choices[0]!.message.content).toBe('ok now'); // the last step repeats

    const failing = await scenario({ status: 500 });
    const err = await failing
      .client()
      .chat.completions.create({ model: 'm', messages })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OpenAI.InternalServerError);
    expect((err as InstanceType<typeof OpenAI.APIError>).error).toMatchObject({
      type: 'server_error',
    });
  });

  it('returns a scripted errorBody verbatim', async () => {
    const errorBody = {
      error: {
        message: 'too long',
        type: 'invalid_request_error',
        param: 'messages',
        code: 'context_length_exceeded',
      },
    };
    const s = await scenario({ status: 400, errorBody });
    const res = await post(`${s.baseUrl}/v1/chat/completions`, { model: 'm', messages });
    expect(res.status).toBe(400);
    expect(await res.json()).toEqual(errorBody);
  });

  it('rejects a missing key (401), bad JSON (400) and unknown paths (404) OpenAI-style', async () => {
    const s = await scenario();
    const noKey = await fetch(`${s.baseUrl}/v1/chat/completions`, {
      method: 'POST',
      body: JSON.stringify({ model: 'm', messages }),
    });
    expect(noKey.status).toBe(401);
    const body = (await noKey.json()) as { error: Json };
    expect(body.error).toMatchObject({
      type: 'invalid_request_error',
      param: null,
      code: 'invalid_api_key',
    });
    expect(String(body.error.message)).toMatch(/^You didn't provide an API key/);

    const badJson = await post(`${s.baseUrl}/v1/chat/completions`, '{"model":');
    expect(badJson.status).toBe(400);
    expect(((await badJson.json()) as { error: Json }).error.type).toBe('invalid_request_error');

    const unknown = await post(`${s.baseUrl}/v1/nope`, {});
    expect(unknown.status).toBe(404);
    expect(Object.keys(((await unknown.json()) as { error: Json }).error).sort()).toEqual([
      'code',
      'message',
      'param',
      'type',
    ]);
    expect(unknown.headers.get('x-request-id')).toBeTruthy();
    const seen = await s.requests();
    expect(seen.map((r) => r.body)).toEqual([{ model: 'm', messages }, null, {}]);
  });

  it('accepts keyless requests when a step sets requireAuth: false', async () => {
    const s = await scenario({ requireAuth: false });
    const res = await fetch(`${s.baseUrl}/v1/chat/completions`, {
      method: 'POST',
      body: JSON.stringify({ model: 'm', messages }),
    });
    expect(res.status).toBe(200);
  });

  it('makes the SDK stream throw when the connection is cut after N chunks', async () => {
    const s = await scenario({ content: 'one two three four five six', closeAfterChunks: 3 });
    const stream = await s.client().chat.completions.create({ model: 'm', messages, stream: true });
    const seen: string[] = [];
    const consume = async () => {
      for await (const chunk of stream) seen.push(chunk.choices[0]?.delta.content ?? '');
    };
    await expect(consume()).rejects.toThrow();
    expect(seen).toEqual(['', 'one ', 'two ']);
    const [req] = await s.requests();
    expect(req).toMatchObject({ clientAborted: false, completed: false });
  });

  it('records a client abort of a hanging request promptly', async () => {
    const s = await scenario({ hang: true });
    const ac = new AbortController();
    const pending = s
      .client()
      .chat.completions.create({ model: 'm', messages }, { signal: ac.signal });
    const [first] = await s.requests('/wait?requests=1&timeoutMs=2000');
    expect(first).toMatchObject({ clientAborted: false, completed: false });
    ac.abort();
    await expect(pending).rejects.toBeInstanceOf(OpenAI.APIUserAbortError);
    // The abort reaches the fake as an event: wait for it, with no bound on how fast.
    await eventually(async () => expect((await s.requests())[0]!.clientAborted).toBe(true));
    expect((await s.requests())[0]!.completed).toBe(false);
  });

  it('records a client that cancels a slow stream, and hangAfterChunks keeps the socket open', async () => {
    const slow = await scenario({ content: 'a b c d e f g h', chunkDelayMs: 200 });
    const res = await post(`${slow.baseUrl}/v1/chat/completions`, {
      model: 'm',
      messages,
      stream: true,
    });
    const reader = res.body!.getReader();
    expect((await reader.read()).done).toBe(false);
    await reader.cancel();
    await eventually(async () => expect((await slow.requests())[0]!.clientAborted).toBe(true));

    const silent = await scenario({ hangAfterChunks: 2 });
    const hung = await post(`${silent.baseUrl}/v1/chat/completions`, {
      model: 'm',
      messages,
      stream: true,
    });
    const text = new TextDecoder();
    const silentReader = hung.body!.getReader();
    let got = '';
    while ((got.match(/\n\n/g) ?? []).length < 2)
      got += text.decode((await silentReader.read()).value);
    const next = silentReader.read();
    const raced = await Promise.race([
      next,
      new Promise((r) => setTimeout(() => r('silent'), 150)),
    ]);
    expect(raced).toBe('silent');
    await silentReader.cancel();
    await eventually(async () => expect((await silent.requests())[0]!.clientAborted).toBe(true));
  });

  it('delays the first byte by firstByteDelayMs', async () => {
    const s = await scenario({ firstByteDelayMs: 150 });
    const started = Date.now();
    const res = await post(`${s.baseUrl}/v1/chat/completions`, { model: 'm', messages });
    expect(res.status).toBe(200);
    expect(Date.now() - started).toBeGreaterThanOrEqual(140);
  });
});

describe('Azure OpenAI paths', () => {
  it('serves the AzureOpenAI client on /openai/deployments/{deployment}', async () => {
    const s = await scenario({ content: 'azure says hi' });
    const azure = new AzureOpenAI({
      endpoint: s.baseUrl,
      apiKey: 'azure-key',
      apiVersion: '2024-10-21',
      deployment: 'prod-4o-mini',
      maxRetries: 0,
    });
    const res = await azure.chat.completions.create({ model: 'gpt-4o-mini', messages });
    expect(res.choices[0]!.message.content).toBe('azure says hi');
    const [seen] = await s.requests();
    expect(seen!.path).toBe(`/s/${s.id}/openai/deployments/prod-4o-mini/chat/completions`);
    expect(seen!.query['api-version']).toBe('2024-10-21');
    expect(seen!.headers['api-key']).toBe('azure-key');
    expect(seen!.headers.authorization).toBeUndefined();
  });

  it('names the deployment as model when the body has none, and requires api-version', async () => {
    const s = await scenario();
    const url = `${s.baseUrl}/openai/deployments/my-embedder/embeddings`;
    const ok = await post(
      `${url}?api-version=2024-10-21`,
      { input: 'x' },
      { authorization: '', 'api-key': 'k' },
    );
    expect(ok.status).toBe(200);
    expect(((await ok.json()) as Json).model).toBe('my-embedder');
    const missing = await post(url, { input: 'x' }, { 'api-key': 'k' });
    expect(missing.status).toBe(400);
    expect(((await missing.json()) as { error: Json }).error.message).toMatch(/api-version/);
  });
});

describe('scenario control and lifecycle', () => {
  it('long-polls for requests and forgets deleted scenarios', async () => {
    const s = await scenario();
    const waiting = s.requests('/wait?requests=2&timeoutMs=3000');
    await post(`${s.baseUrl}/v1/chat/completions`, { model: 'm', messages });
    await post(`${s.baseUrl}/v1/chat/completions`, { model: 'm', messages });
    expect(await waiting).toHaveLength(2);
    const timedOut = await s.requests('/wait?requests=5&timeoutMs=50');
    expect(timedOut).toHaveLength(2);
    expect((await fetch(`${fake.url}/__scenarios/${s.id}`, { method: 'DELETE' })).status).toBe(200);
    expect((await fetch(`${fake.url}/__scenarios/${s.id}`)).status).toBe(404);
    expect((await post(`${s.baseUrl}/v1/chat/completions`, { model: 'm', messages })).status).toBe(
      404,
    );
  });

  it('serves un-prefixed requests with the default success', async () => {
    const res = await post(`${fake.url}/v1/chat/completions`, { model: 'm', messages });
    expect(
      ((await res.json()) as { choices: { message: Json }[] }).choices[0]!.message.content,
    ).toBe('Hello! This is the fake upstream.');
  });

  it('close() ends hanging requests', async () => {
    const own = await startFakeOpenAI();
    const res = await fetch(`${own.url}/__scenarios`, {
      method: 'POST',
      body: '{"steps":[{"hang":true}]}',
    });
    const { baseUrl } = (await res.json()) as { baseUrl: string };
    const hanging = post(`${baseUrl}/v1/chat/completions`, { model: 'm', messages });
    await fetch(
      `${own.url}${new URL(baseUrl).pathname.replace('/s/', '/__scenarios/')}/wait?requests=1`,
    );
    await own.close();
    await expect(hanging).rejects.toThrow();
  });

  it('runs as a CLI and prints its URL', async () => {
    const cli = fileURLToPath(new URL('../../tools/fakes/openai.ts', import.meta.url).href);
    const child = spawn(process.execPath, [cli, '--port', '0'], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    try {
      const [line] = (await once(child.stdout, 'data')) as [Buffer];
      const match = /^fake-openai listening on (http:\/\/127\.0\.0\.1:\d+)\n$/.exec(
        line.toString(),
      );
      expect(match).not.toBeNull();
      const models = await fetch(`${match![1]}/v1/models`, {
        headers: { authorization: 'Bearer x' },
      });
      expect(((await models.json()) as Json).object).toBe('list');
    } finally {
      child.kill('SIGTERM');
      await once(child, 'exit');
    }
  });
});

describe('the default route (/__default)', () => {
  it("scripts and counts requests outside scenarios; serves Azure's models list", async () => {
    const fake = await startFakeOpenAI();
    try {
      const chat = () =>
        fetch(`${fake.url}/v1/chat/completions`, {
          method: 'POST',
          headers: { authorization: 'Bearer k', 'content-type': 'application/json' },
          body: JSON.stringify({ model: 'm', messages: [{ role: 'user', content: 'hi' }] }),
        });
      await fetch(`${fake.url}/__default`, {
        method: 'PUT',
        body: JSON.stringify({ step: { status: 503 } }),
      });
      expect((await chat()).status).toBe(503);
      await fetch(`${fake.url}/__default`, { method: 'DELETE' });
      expect((await chat()).status).toBe(200);
      const azure = await fetch(`${fake.url}/openai/models?api-version=2024-10-21`, {
        headers: { 'api-key': 'k' },
      });
      expect(azure.status).toBe(200);
      expect(((await azure.json()) as { object: string }).object).toBe('list');
      const counted = (await (await fetch(`${fake.url}/__default`)).json()) as {
        byRoute: Record<string, number>;
      };
      expect(counted.byRoute).toEqual({
        'POST /v1/chat/completions': 2,
        'GET /openai/models': 1,
      });
    } finally {
      await fake.close();
    }
  });
});
