/** Hostile but legitimate clients: inputs built to break the gateway get clear 4xx answers. */
import { describe, expect, it } from 'vitest';
import {
  ADMIN_TOKEN,
  createKey,
  eventually,
  gateway,
  hello,
  openaiAt,
  scenario,
  scenarioGateway,
  singleModel,
  UPSTREAM_KEY,
} from './helpers.ts';

type ErrorJson = {
  error: { message: string; type: string; code: string | null; param: string | null };
};

async function setup(
  steps: Parameters<typeof scenario> = [{}],
  extra: Record<string, unknown> = {},
) {
  const embedding = { type: 'embedding', targets: [{ provider: 'p', model: 'up-emb' }] };
  const made = await scenarioGateway(steps, {
    models: {
      m: { targets: [{ provider: 'p', model: 'up' }] },
      emb: { ...embedding, maxDimensions: 3_072 },
    },
    ...extra,
  });
  return { ...made, key: await createKey(made.gw) };
}

const post = (body: string, headers: Record<string, string>) => ({
  method: 'POST',
  headers: { 'content-type': 'application/json', ...headers },
  body,
});

describe('deeply nested JSON', () => {
  const nested = (depth: number) => `${'['.repeat(depth)}${']'.repeat(depth)}`;

  for (const [where, body] of [
    [
      'inside content[].text',
      `{"model":"m","messages":[{"role":"user","content":[{"type":"text","text":${nested(100_000)}}]}]}`,
    ],
    [
      'anywhere, with temperature 0',
      `{"model":"m","temperature":0,"messages":[{"role":"user","content":"hi"}],"extra":${nested(100_000)}}`,
    ],
  ] as const) {
    it(`is a 400, not a 500 (${where})`, async () => {
      const { gw, s, key } = await setup();
      const res = await gw.request('/v1/chat/completions', post(body, key.headers));
      expect(res.status).toBe(400);
      const { error } = (await res.json()) as ErrorJson;
      expect(error.code).toBe('invalid_json');
      expect(error.message).toContain('nests deeper than 64 levels');
      expect(await s.requests()).toHaveLength(0);
    });
  }

  it('brackets inside strings do not count, and 64 levels pass', async () => {
    const { gw, key } = await setup();
    const text = JSON.stringify('['.repeat(10_000));
    const ok = await gw.request(
      '/v1/chat/completions',
      post(
        `{"model":"m","messages":[{"role":"user","content":${text}}],"x":${nested(60)}}`,
        key.headers,
      ),
    );
    expect(ok.status).toBe(200);
  });
});

describe('size parameters', () => {
  it("embeddings dimensions above the model's limit is a 400, never forwarded", async () => {
    const { gw, s, key } = await setup();
    const res = await gw.request(
      '/v1/embeddings',
      post(JSON.stringify({ model: 'emb', input: 'hi', dimensions: 100_000_000 }), key.headers),
    );
    expect(res.status).toBe(400);
    expect(((await res.json()) as ErrorJson).error).toMatchObject({
      param: 'dimensions',
      message: "Invalid value for 'dimensions': at most 3072 for the model 'emb'",
    });
    expect(await s.requests()).toHaveLength(0);
    const fine = await gw.request(
      '/v1/embeddings',
      post(JSON.stringify({ model: 'emb', input: 'hi', dimensions: 256 }), key.headers),
    );
    expect(fine.status).toBe(200);
    expect((await s.requests())[0]!.body).toMatchObject({ dimensions: 256 });
  });

  it('more than 2 048 embedding inputs, or top_logprobs above 20, are a 400', async () => {
    const { gw, s, key } = await setup();
    const many = await gw.request(
      '/v1/embeddings',
      post(JSON.stringify({ model: 'emb', input: Array(2_049).fill('x') }), key.headers),
    );
    expect(many.status).toBe(400);
    expect(((await many.json()) as ErrorJson).error.param).toBe('input');
    const logprobs = await gw.chat({ ...hello, top_logprobs: 1_000 }, key.headers);
    expect(logprobs.status).toBe(400);
    expect(((await logprobs.json()) as ErrorJson).error.param).toBe('top_logprobs');
    expect(await s.requests()).toHaveLength(0);
  });
});

describe('client values echoed or logged', () => {
  it('a 100 KB model name is clipped in the 404 and in the log line', async () => {
    const { gw, key } = await setup();
    const name = 'x'.repeat(100_000);
    const res = await gw.chat({ ...hello, model: name }, key.headers);
    expect(res.status).toBe(404);
    const { error } = (await res.json()) as ErrorJson;
    expect(error.message.length).toBeLessThan(400);
    expect(error.message).toContain('(100000 chars)');
    expect(JSON.stringify(gw.logs.at(-1)).length).toBeLessThan(2_000);
  });

  it('a 60 KB x-gateway-region is clipped in the log line', async () => {
    const { gw, key } = await setup();
    const res = await gw.chat(hello, { ...key.headers, 'x-gateway-region': 'r'.repeat(60_000) });
    expect(res.status).toBe(200);
    const ignored = gw.logs.at(-1)!.route!.region_header_ignored!;
    expect(ignored).toContain('unknown region "rrrr');
    expect(ignored.length).toBeLessThan(400);
  });
});

describe('admin token guessing', () => {
  it('locks an address out after admin.failedAuthPerMinute failures, right token or not', async () => {
    const { gw } = await setup([{}], {
      admin: { tokens: { tester: ADMIN_TOKEN }, failedAuthPerMinute: 3 },
    });
    const address = `203.0.113.7-${crypto.randomUUID()}`;
    const attempt = (token: string, from = address) =>
      gw.request('/admin/keys', {
        headers: { authorization: `Bearer ${token}`, 'cf-connecting-ip': from },
      });
    for (let i = 0; i < 3; i++)
      expect((await attempt(`wrong-token-${i}-0123456789`)).status).toBe(401);
    const locked = await attempt('wrong-token-4-0123456789');
    expect(locked.status).toBe(429);
    expect(((await locked.json()) as ErrorJson).error.code).toBe('admin_auth_rate_limited');
    expect(Number(locked.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    // A right guess from the locked-out address is refused like a wrong one...
    expect((await attempt(ADMIN_TOKEN)).status).toBe(429);
    // ...while another address is not affected.
    expect((await attempt(ADMIN_TOKEN, `198.51.100.9-${crypto.randomUUID()}`)).status).toBe(200);
  });
});

describe('key records are checked against the config', () => {
  const cases: [string, Record<string, unknown>, string, string][] = [
    ['an unknown zone', { residency: 'zz' }, 'residency', 'unknown zone'],
    ['an unknown model', { models: ['m', 'nope'] }, 'models.1', 'no such model'],
    ['an empty model list', { models: [] }, 'models', 'at least one model'],
    ['a past expiresAt', { expiresAt: '2020-01-01T00:00:00Z' }, 'expiresAt', 'in the future'],
  ];
  for (const [what, policy, param, reason] of cases) {
    it(`refuses ${what} on create and on update, with a 400 naming the field`, async () => {
      const { gw, key } = await setup([{}], { regions: { 'eu-west': { zone: 'eu' } } });
      for (const res of [
        await gw.admin('POST', '/keys', { name: 'k', ...policy }),
        await gw.admin('PATCH', `/keys/${key.id}`, policy),
      ]) {
        expect(res.status).toBe(400);
        const { error } = (await res.json()) as ErrorJson;
        expect(error.param).toBe(param);
        expect(error.message).toContain(reason);
      }
    });
  }

  it('accepts known zones and models and a future expiry', async () => {
    const { gw } = await setup([{}], { regions: { 'eu-west': { zone: 'eu' } } });
    const res = await gw.admin('POST', '/keys', {
      name: 'k',
      residency: 'eu',
      models: ['m'],
      expiresAt: '2100-01-01T00:00:00Z',
    });
    expect(res.status).toBe(201);
  });
});

describe('ambiguous keys and wrong methods', () => {
  it('two Authorization headers are ambiguous, not missing', async () => {
    const { gw, key, s } = await setup();
    const headers = new Headers({ 'content-type': 'application/json' });
    headers.append('authorization', key.headers.authorization!);
    headers.append('authorization', 'Bearer sk-gw-someoneelse000000000000000000000');
    const res = await gw.request('/v1/chat/completions', {
      method: 'POST',
      headers,
      body: JSON.stringify(hello),
    });
    expect(res.status).toBe(401);
    expect(((await res.json()) as ErrorJson).error.code).toBe('ambiguous_api_key');
    const both = await gw.chat(hello, { ...key.headers, 'x-api-key': 'sk-gw-other' });
    expect(((await both.json()) as ErrorJson).error.code).toBe('ambiguous_api_key');
    const same = await gw.chat(hello, { ...key.headers, 'x-api-key': key.key });
    expect(same.status).toBe(200);
    expect(await s.requests()).toHaveLength(1);
  });

  it('a wrong method on a known route is a 405 with allow; an unknown route stays 404', async () => {
    const { gw, key } = await setup();
    for (const [method, path, allow] of [
      ['GET', '/v1/chat/completions', 'POST'],
      ['PUT', '/v1/embeddings', 'POST'],
      ['DELETE', '/v1/models', 'GET'],
      ['POST', '/v1/models/m', 'GET'],
    ] as const) {
      const res = await gw.request(path, { method, headers: key.headers });
      expect(res.status, `${method} ${path}`).toBe(405);
      expect(res.headers.get('allow')).toBe(allow);
      expect(((await res.json()) as ErrorJson).error.code).toBe('method_not_allowed');
    }
    // Anthropic-shaped on /v1/messages.
    const messages = await gw.request('/v1/messages', { headers: key.headers });
    expect(messages.status).toBe(405);
    expect(messages.headers.get('allow')).toBe('POST');
    expect(await messages.json()).toMatchObject({
      type: 'error',
      error: { type: 'invalid_request_error' },
    });
    const admin = await gw.request('/admin/keys', {
      method: 'PUT',
      headers: { authorization: `Bearer ${ADMIN_TOKEN}` },
    });
    expect(admin.status).toBe(405);
    expect(admin.headers.get('allow')).toBe('GET, POST');
    expect((await gw.request('/v1/nowhere', { headers: key.headers })).status).toBe(404);
  });
});

describe('upstream 400 messages', () => {
  it('keep the message but scrub configured hosts and URLs', async () => {
    // A second provider's scenario: its host is configured too, and named in the message.
    const s = await scenario({});
    const host = new URL(s.baseUrl).host;
    const s2 = await scenario({
      status: 400,
      errorBody: {
        error: {
          message: `Bad request for ${s.baseUrl}/v1/chat/completions at ${host} (see http://10.0.3.7:8000/docs); key ${UPSTREAM_KEY}`,
          type: 'invalid_request_error',
          param: 'messages',
          code: null,
        },
      },
    });
    const gw = gateway({
      providers: { p: openaiAt(s2), q: openaiAt(s) },
      models: { m: { targets: [{ provider: 'p', model: 'up' }] } },
    });
    const res = await gw.chat(hello);
    expect(res.status).toBe(400);
    const { error } = (await res.json()) as ErrorJson;
    expect(error.message).toBe('Bad request for [url] at [host] (see [url]); key [redacted]');
    expect(error.param).toBe('messages');
    expect(JSON.stringify(gw.logs)).not.toContain(host);
  });
});

describe('upstream error bodies', () => {
  it('are read only up to 64 KiB: the rest is never pulled from the upstream', async () => {
    // 8 MB: far more than socket buffers hold, so the fake can only finish writing it if
    // the gateway reads it all.
    const huge = { error: { message: 'x'.repeat(8_000_000), type: 'invalid_request_error' } };
    const s = await scenario({ status: 400, errorBody: huge });
    const gw = singleModel({ p: openaiAt(s) });
    const res = await gw.chat(hello);
    expect(res.status).toBe(400);
    await eventually(async () => expect((await s.requests())[0]!.clientAborted).toBe(true));
    expect((await s.requests())[0]!.completed).toBe(false);
  });
});

describe('a client that leaves during a retry backoff', () => {
  it('is a client-closed outcome (499), not a logged 500', async () => {
    const s = await scenario({ status: 503, headers: { 'retry-after-ms': '400' } }, {});
    const gw = gateway({
      providers: { p: openaiAt(s) },
      models: { m: { targets: [{ provider: 'p', model: 'up' }] } },
    });
    const abort = new AbortController();
    const errorsLogged: string[] = [];
    const original = console.error;
    console.error = (line: string) => errorsLogged.push(line);
    try {
      const pending = gw.request('/v1/chat/completions', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(hello),
        signal: abort.signal,
      });
      await s.waitFor(1);
      abort.abort();
      const res = await pending;
      expect(res.status).toBe(499);
      expect(((await res.json()) as ErrorJson).error.code).toBe('client_closed_request');
    } finally {
      console.error = original;
    }
    expect(errorsLogged.filter((l) => l.includes('unhandled error'))).toEqual([]);
    expect(gw.logs.at(-1)).toMatchObject({ status: 499, error_code: 'client_closed_request' });
    expect(await s.requests()).toHaveLength(1);
  });
});
