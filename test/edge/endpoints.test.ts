import { describe, expect, it } from 'vitest';
import { createKey, gateway, openaiAt, scenario, sseData, UPSTREAM_KEY } from './helpers.ts';

function post(body: Record<string, unknown>): RequestInit {
  return {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  };
}

describe('other endpoints', () => {
  it('POST /v1/completions, plain and streamed with usage stripped', async () => {
    const s = await scenario({ content: 'four five six' });
    const gw = gateway({
      providers: { p: openaiAt(s) },
      models: { instruct: { targets: [{ provider: 'p', model: 'up-instruct' }] } },
    });
    const plain = await gw.request(
      '/v1/completions',
      post({ model: 'instruct', prompt: 'Say 4 5 6' }),
    );
    expect(plain.status).toBe(200);
    const body = (await plain.json()) as { object: string; choices: { text: string }[] };
    expect(body.object).toBe('text_completion');
    expect(body.choices[0]!.text).toBe('four five six');

    const streamed = await gw.request(
      '/v1/completions',
      post({ model: 'instruct', prompt: 'x', stream: true }),
    );
    const events = await sseData(streamed);
    const chunks = events.filter((e) => e !== '[DONE]').map((e) => JSON.parse(e));
    expect(chunks.map((c) => c.choices[0]?.text ?? '').join('')).toBe('four five six');
    expect(chunks.every((c) => !c.usage)).toBe(true);
    const seen = await s.requests();
    expect(seen[0]!.path).toBe(`/s/${s.id}/v1/completions`);
    expect(seen[1]!.body!.stream_options).toEqual({ include_usage: true });
    expect(gw.logs[1]!.usage).toMatchObject({ completion_tokens: 3, source: 'upstream' });
  });

  it('POST /v1/embeddings', async () => {
    const s = await scenario({});
    const gw = gateway({
      providers: { p: openaiAt(s) },
      models: {
        emb: { type: 'embedding', targets: [{ provider: 'p', model: 'text-embedding-3-small' }] },
      },
    });
    const res = await gw.request(
      '/v1/embeddings',
      post({ model: 'emb', input: ['a', 'b'], dimensions: 8 }),
    );
    expect(res.status).toBe(200);
    const body = (await res.json()) as { data: { index: number; embedding: number[] }[] };
    expect(body.data.map((d) => d.index)).toEqual([0, 1]);
    expect(body.data[0]!.embedding.length).toBeGreaterThan(0);
    const [seen] = await s.requests();
    expect(seen!.path).toBe(`/s/${s.id}/v1/embeddings`);
    expect(seen!.body).toMatchObject({ model: 'text-embedding-3-small', dimensions: 8 });
    expect(gw.logs[0]!.usage!.prompt_tokens).toBeGreaterThan(0);
  });

  it('GET /v1/models lists the public model names', async () => {
    const s = await scenario({});
    const gw = gateway({
      providers: { p: openaiAt(s) },
      models: {
        'gpt-4o-mini': { targets: [{ provider: 'p', model: 'a' }], ownedBy: 'openai' },
        'text-embedding-3-small': { type: 'embedding', targets: [{ provider: 'p', model: 'b' }] },
      },
    });
    const res = await gw.request('/v1/models');
    expect(await res.json()).toEqual({
      object: 'list',
      data: [
        { id: 'gpt-4o-mini', object: 'model', created: 0, owned_by: 'openai' },
        { id: 'text-embedding-3-small', object: 'model', created: 0, owned_by: 'gateway' },
      ],
    });
    expect((await gw.request('/v1/models/gpt-4o-mini')).status).toBe(200);
    expect((await gw.request('/v1/models/nope')).status).toBe(404);
  });

  it('health endpoints', async () => {
    const s = await scenario({});
    const gw = gateway({
      providers: { p: openaiAt(s) },
      models: { m: { targets: [{ provider: 'p', model: 'a' }] } },
    });
    expect(await (await gw.request('/health')).json()).toEqual({
      status: 'ok',
      models: 1,
      providers: 1,
    });
    expect((await gw.request('/health/live')).status).toBe(200);
    const ready = await gw.request('/health/ready');
    expect(ready.status).toBe(200);
    expect(ready.headers.get('x-request-id')).toBeTruthy();
  });
});

describe('providers', () => {
  it('Azure OpenAI: deployment URL, api-version, api-key header', async () => {
    const s = await scenario({ content: 'azure says hi' });
    const gw = gateway({
      providers: {
        az: {
          kind: 'azure-openai',
          endpoint: s.baseUrl,
          apiKey: UPSTREAM_KEY,
          apiVersion: '2024-10-21',
          deployments: { 'gpt-4o-mini': 'prod-4o-mini' },
        },
      },
      models: { m: { targets: [{ provider: 'az', model: 'gpt-4o-mini' }] } },
    });
    const res = await gw.chat({
      model: 'm',
      messages: [{ role: 'user', content: 'hi' }],
      stream: true,
    });
    const text = (await sseData(res))
      .filter((e) => e !== '[DONE]')
      .map((e) => JSON.parse(e).choices[0]?.delta?.content ?? '')
      .join('');
    expect(text).toBe('azure says hi');
    const [seen] = await s.requests();
    expect(seen!.path).toBe(`/s/${s.id}/openai/deployments/prod-4o-mini/chat/completions`);
    expect(seen!.query['api-version']).toBe('2024-10-21');
    expect(seen!.headers['api-key']).toBe(UPSTREAM_KEY);
    expect(seen!.headers.authorization).toBeUndefined();
    expect(gw.logs[0]!.usage).toMatchObject({ completion_tokens: 3, source: 'upstream' });
  });

  it('OpenAI-compatible host without a key, and streamed usage estimated when it does not report it', async () => {
    const s = await scenario({ content: 'local model answer', requireAuth: false });
    const gw = gateway({
      providers: {
        vllm: { kind: 'openai-compatible', baseUrl: `${s.baseUrl}/v1`, streamUsage: false },
      },
      models: { m: { targets: [{ provider: 'vllm', model: 'meta-llama/Llama-3.1-8B-Instruct' }] } },
    });
    const res = await gw.chat({
      model: 'm',
      messages: [{ role: 'user', content: 'hi' }],
      stream: true,
    });
    await res.text();
    const [seen] = await s.requests();
    expect(seen!.headers.authorization).toBeUndefined();
    expect(seen!.headers['api-key']).toBeUndefined();
    expect(seen!.body!.stream_options).toBeUndefined();
    expect(gw.logs[0]!.usage).toMatchObject({ source: 'estimated' });
    expect(gw.logs[0]!.usage!.completion_tokens).toBeGreaterThan(0);
  });
});

describe('endpoints and the providers that can serve them', () => {
  it('sends legacy completions only to targets that serve them, and 400s when none does', async () => {
    const openai = await scenario({ content: 'from openai' });
    const anthropic = await scenario({});
    const gw = gateway({
      providers: {
        a: { kind: 'anthropic', baseUrl: `${anthropic.baseUrl}/v1`, apiKey: 'k' },
        o: openaiAt(openai),
      },
      models: {
        claude: { targets: [{ provider: 'a', model: 'claude-haiku-4-5' }] },
        mixed: {
          targets: [
            { provider: 'a', model: 'claude-haiku-4-5' },
            { provider: 'o', model: 'gpt-3.5-turbo-instruct' },
          ],
        },
      },
    });
    const refused = await gw.request('/v1/completions', post({ model: 'claude', prompt: 'x' }));
    expect(refused.status).toBe(400);
    expect(((await refused.json()) as { error: { code: string } }).error.code).toBe(
      'model_not_supported',
    );
    const served = await gw.request('/v1/completions', post({ model: 'mixed', prompt: 'x' }));
    expect(served.status).toBe(200);
    expect(served.headers.get('x-gateway-provider')).toBe('o');
    expect(await anthropic.requests()).toHaveLength(0);
  });
});

describe('GET /v1/models/{id}', () => {
  it('is 404 for a model the key may not use, as the list hides it', async () => {
    const s = await scenario({});
    const gw = gateway({
      auth: { enabled: true },
      providers: { p: openaiAt(s) },
      models: {
        allowed: { targets: [{ provider: 'p', model: 'a' }] },
        hidden: { targets: [{ provider: 'p', model: 'b' }] },
      },
    });
    const key = await createKey(gw, { models: ['allowed'] });
    const get = (id: string) => gw.request(`/v1/models/${id}`, { headers: key.headers });
    expect((await get('allowed')).status).toBe(200);
    const hidden = await get('hidden');
    expect(hidden.status).toBe(404);
    expect(((await hidden.json()) as { error: { code: string } }).error.code).toBe(
      'model_not_found',
    );
    const list = (await (await gw.request('/v1/models', { headers: key.headers })).json()) as {
      data: { id: string }[];
    };
    expect(list.data.map((m) => m.id)).toEqual(['allowed']);
  });
});
