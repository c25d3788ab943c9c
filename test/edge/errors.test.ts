import { describe, expect, it } from 'vitest';
import { gateway, hello, openaiAt, scenario, UPSTREAM_KEY } from './helpers.ts';

type ErrorJson = {
  error: { message: string; type: string; code: string | null; param: string | null };
};

async function setup() {
  const s = await scenario({});
  const gw = gateway({
    providers: { p: openaiAt(s) },
    models: {
      m: { targets: [{ provider: 'p', model: 'up' }] },
      emb: { type: 'embedding', targets: [{ provider: 'p', model: 'up-emb' }] },
    },
    defaults: { maxBodyBytes: 2_000 },
  });
  return { s, gw };
}

function post(body: string): RequestInit {
  return { method: 'POST', headers: { 'content-type': 'application/json' }, body };
}

async function expectError(
  res: Response,
  status: number,
  code: string | null,
  param?: string | null,
) {
  expect(res.status).toBe(status);
  expect(res.headers.get('content-type')).toContain('application/json');
  expect(res.headers.get('x-request-id')).toBeTruthy();
  const text = await res.text();
  expect(text).not.toMatch(/\bat .*\.(ts|js):\d+/); // no stack trace
  expect(text).not.toContain(UPSTREAM_KEY);
  const body = JSON.parse(text) as ErrorJson;
  expect(Object.keys(body.error).sort()).toEqual(['code', 'message', 'param', 'type']);
  expect(body.error.code).toBe(code);
  if (param !== undefined) expect(body.error.param).toBe(param);
  return body.error;
}

describe('client errors', () => {
  it('400 invalid_json on malformed JSON, and on a JSON body that is not an object', async () => {
    const { gw, s } = await setup();
    await expectError(
      await gw.request('/v1/chat/completions', post('{"model":')),
      400,
      'invalid_json',
    );
    await expectError(await gw.request('/v1/chat/completions', post('[1,2]')), 400, 'invalid_json');
    expect(await s.requests()).toHaveLength(0);
  });

  it('400 naming the field on a schema violation', async () => {
    const { gw } = await setup();
    const missing = await expectError(
      await gw.chat({ model: 'm' }),
      400,
      'invalid_request',
      'messages',
    );
    expect(missing.type).toBe('invalid_request_error');
    await expectError(
      await gw.chat({ model: 'm', messages: [{ role: 'wizard', content: 'hi' }] }),
      400,
      'invalid_request',
      'messages[0].role',
    );
    await expectError(
      await gw.chat({ ...hello, temperature: 7 }),
      400,
      'invalid_request',
      'temperature',
    );
    await expectError(await gw.chat({ ...hello, stream: 'yes' }), 400, 'invalid_request', 'stream');
  });

  it('404 model_not_found for an unknown model', async () => {
    const { gw } = await setup();
    const err = await expectError(
      await gw.chat({ ...hello, model: 'gpt-9' }),
      404,
      'model_not_found',
      'model',
    );
    expect(err.message).toContain('gpt-9');
    await expectError(await gw.chat({ ...hello, model: 'toString' }), 404, 'model_not_found');
  });

  it('400 when a model is used on the wrong endpoint', async () => {
    const { gw } = await setup();
    await expectError(
      await gw.chat({ ...hello, model: 'emb' }),
      400,
      'model_not_supported',
      'model',
    );
    await expectError(
      await gw.request('/v1/embeddings', post(JSON.stringify({ model: 'm', input: 'x' }))),
      400,
      'model_not_supported',
    );
  });

  it('413 when the body is over the configured limit', async () => {
    const { gw, s } = await setup();
    const big = { ...hello, messages: [{ role: 'user', content: 'x'.repeat(5_000) }] };
    await expectError(await gw.chat(big), 413, 'request_too_large');
    expect(await s.requests()).toHaveLength(0);
  });

  it('writes one log line for a rejected request too', async () => {
    const { gw } = await setup();
    await gw.chat({ ...hello, model: 'gpt-9' }, { 'x-request-id': 'rejected-1' });
    expect(gw.logs).toHaveLength(1);
    expect(gw.logs[0]).toMatchObject({
      request_id: 'rejected-1',
      status: 404,
      error_code: 'model_not_found',
      path: '/v1/chat/completions',
    });
  });

  it('404 OpenAI-shaped for an unknown route', async () => {
    const { gw } = await setup();
    await expectError(await gw.request('/v1/nothing-here'), 404, 'not_found');
  });
});
