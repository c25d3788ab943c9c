import { env, exports } from 'cloudflare:workers';
import OpenAI from 'openai';
import { beforeAll, describe, expect, it } from 'vitest';

/**
 * The deployed shape: workers/gateway.ts with the bundled config, its OPENAI_BASE_URL pointed
 * at the fake upstream by vitest.config.ts, driven with the official `openai` client.
 */
const worker = (exports as unknown as { default: { fetch(request: Request): Promise<Response> } })
  .default;

const fetchWorker = (input: string | URL | Request, init?: RequestInit) =>
  worker.fetch(new Request(input, init));
let client: OpenAI;

beforeAll(async () => {
  // A gateway key, created through the Worker's own admin API.
  const adminToken = (env as unknown as { ADMIN_TOKEN: string }).ADMIN_TOKEN;
  const res = await fetchWorker('http://gateway.local/admin/keys', {
    method: 'POST',
    headers: { authorization: `Bearer ${adminToken}`, 'content-type': 'application/json' },
    body: JSON.stringify({ name: 'worker test' }),
  });
  expect(res.status).toBe(201);
  const { key } = (await res.json()) as { key: string };
  client = new OpenAI({
    apiKey: key,
    baseURL: 'http://gateway.local/v1',
    maxRetries: 0,
    fetch: fetchWorker,
  });
});

describe('the Worker (workers/gateway.ts) with the official openai client', () => {
  it('answers a chat completion', async () => {
    const completion = await client.chat.completions.create({
      model: 'gpt-4o-mini',
      messages: [{ role: 'user', content: 'Say hello' }],
    });
    expect(completion.choices[0]!.message.content).toBe('Hello! This is the fake upstream.');
    expect(completion.usage!.total_tokens).toBe(
      completion.usage!.prompt_tokens + completion.usage!.completion_tokens,
    );
  });

  it('rejects a client without a gateway key', async () => {
    const anonymous = new OpenAI({
      apiKey: 'sk-gw-nope',
      baseURL: 'http://gateway.local/v1',
      maxRetries: 0,
      fetch: fetchWorker,
    });
    await expect(anonymous.models.list()).rejects.toBeInstanceOf(OpenAI.AuthenticationError);
  });

  it('streams a chat completion, with usage when asked', async () => {
    const stream = await client.chat.completions.create({
      model: 'gpt-4o-mini',
      messages: [{ role: 'user', content: 'Say hello' }],
      stream: true,
      stream_options: { include_usage: true },
    });
    let text = '';
    let usage: OpenAI.CompletionUsage | null | undefined;
    for await (const chunk of stream) {
      text += chunk.choices[0]?.delta?.content ?? '';
      if (chunk.usage) usage = chunk.usage;
    }
    expect(text).toBe('Hello! This is the fake upstream.');
    expect(usage!.completion_tokens).toBe(6);
  });

  it('maps gateway errors to the SDK error classes', async () => {
    await expect(
      client.chat.completions.create({
        model: 'no-such-model',
        messages: [{ role: 'user', content: 'x' }],
      }),
    ).rejects.toBeInstanceOf(OpenAI.NotFoundError);
    const err = await client.chat.completions
      .create({ model: 'gpt-4o-mini', messages: [] })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OpenAI.BadRequestError);
    expect((err as InstanceType<typeof OpenAI.BadRequestError>).param).toBe('messages');
  });

  it('serves embeddings and the model list', async () => {
    const emb = await client.embeddings.create({ model: 'text-embedding-3-small', input: 'hello' });
    expect(emb.data[0]!.embedding.length).toBeGreaterThan(0);
    const ids = [];
    for await (const model of client.models.list()) ids.push(model.id);
    expect(ids).toContain('gpt-4o-mini');
    expect(ids).toContain('text-embedding-3-small');
  });

  it('answers /health', async () => {
    const res = await fetchWorker('http://gateway.local/health');
    expect(res.status).toBe(200);
    expect(res.headers.get('x-request-id')).toBeTruthy();
  });

  it('reads cf from the request: the continent picks the home region in the log line', async () => {
    const lines: string[] = [];
    const original = console.log;
    console.log = (line: string) => lines.push(line);
    try {
      for (const cf of [
        { country: 'DE', continent: 'EU' },
        { country: 'BR', continent: 'SA' },
      ]) {
        const res = await worker.fetch(
          new Request('http://gateway.local/v1/chat/completions', {
            method: 'POST',
            headers: {
              authorization: `Bearer ${client.apiKey}`,
              'content-type': 'application/json',
            },
            body: JSON.stringify({
              model: 'gpt-4o-mini',
              messages: [{ role: 'user', content: 'Hi' }],
            }),
            cf,
          } as RequestInit),
        );
        expect(res.status).toBe(200);
      }
    } finally {
      console.log = original;
    }
    const routes = lines
      .map((l) => JSON.parse(l) as { msg?: string; route?: { country: string; home: string } })
      .filter((l) => l.msg === 'request' && l.route)
      .map((l) => [l.route!.country, l.route!.home]);
    expect(routes).toEqual([
      ['DE', 'eu-west'],
      ['BR', 'us-east'],
    ]);
  });
});
