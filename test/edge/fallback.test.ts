import { describe, expect, it } from 'vitest';
import { eventually, hello, openaiAt, scenario, singleModel, UPSTREAM_KEY } from './helpers.ts';

type ErrorJson = {
  error: { message: string; type: string; code: string | null; param: string | null };
};

describe('retries and fallback', () => {
  it('retries a 500 on the same target, then succeeds', async () => {
    const s = await scenario({ status: 500 }, {});
    const gw = singleModel({ primary: openaiAt(s) });
    const res = await gw.chat(hello);
    expect(res.status).toBe(200);
    expect(res.headers.get('x-gateway-attempts')).toBe('2');
    expect(await s.requests()).toHaveLength(2);
  });

  it('honours retry-after-ms on a 429', async () => {
    const s = await scenario({ status: 429, headers: { 'retry-after-ms': '300' } }, {});
    const gw = singleModel({ primary: openaiAt(s) });
    const res = await gw.chat(hello);
    expect(res.status).toBe(200);
    const [first, second] = await s.requests();
    expect(second!.receivedAt - first!.receivedAt).toBeGreaterThanOrEqual(290);
  });

  it('falls back at once when retry-after asks for longer than the cap', async () => {
    const a = await scenario({ status: 429, headers: { 'retry-after': '60' } });
    const b = await scenario({ content: 'from b' });
    const gw = singleModel({ a: openaiAt(a), b: openaiAt(b) });
    const res = await gw.chat(hello);
    expect(res.status).toBe(200);
    expect(res.headers.get('x-gateway-provider')).toBe('b');
    expect(res.headers.get('x-gateway-attempts')).toBe('2');
    expect(await a.requests()).toHaveLength(1);
  });

  it('falls back to the next target after retries run out', async () => {
    const a = await scenario({ status: 503 });
    const b = await scenario({});
    const gw = singleModel({ a: openaiAt(a), b: openaiAt(b) });
    const res = await gw.chat(hello);
    expect(res.status).toBe(200);
    expect(res.headers.get('x-gateway-provider')).toBe('b');
    expect(res.headers.get('x-gateway-attempts')).toBe('3');
    expect(await a.requests()).toHaveLength(2);
    expect(gw.logs[0]!.failures).toHaveLength(2);
  });

  it('times out a hanging upstream (first byte) and falls back', async () => {
    const a = await scenario({ hang: true });
    const b = await scenario({});
    const gw = singleModel(
      { a: openaiAt(a, { retry: { maxAttempts: 1 } }), b: openaiAt(b) },
      { timeouts: { firstByteMs: 200, idleMs: 200 } },
    );
    const res = await gw.chat(hello);
    expect(res.status).toBe(200);
    expect(res.headers.get('x-gateway-provider')).toBe('b');
    const [hung] = await a.waitFor(1);
    expect(hung!.clientAborted).toBe(true);
  });

  it('falls back on a connection error', async () => {
    const b = await scenario({});
    const closed = {
      kind: 'openai',
      baseUrl: 'http://127.0.0.1:9/v1',
      apiKey: UPSTREAM_KEY,
      retry: { maxAttempts: 1 },
    };
    const gw = singleModel({ dead: closed, b: openaiAt(b) });
    const res = await gw.chat(hello);
    expect(res.status).toBe(200);
    expect(res.headers.get('x-gateway-provider')).toBe('b');
    expect(gw.logs[0]!.failures![0]).toContain('upstream connection failed');
  });

  it('falls back without retrying when the upstream rejects our key (401)', async () => {
    const a = await scenario({
      status: 401,
      errorBody: {
        error: {
          message: `Incorrect API key provided: ${UPSTREAM_KEY}`,
          type: 'invalid_request_error',
          param: null,
          code: 'invalid_api_key',
        },
      },
    });
    const b = await scenario({});
    const gw = singleModel({ a: openaiAt(a), b: openaiAt(b) });
    const res = await gw.chat(hello);
    expect(res.status).toBe(200);
    expect(await a.requests()).toHaveLength(1);
    expect(JSON.stringify(gw.logs)).not.toContain(UPSTREAM_KEY);
  });

  it('returns the upstream 400 to the client without retry or fallback', async () => {
    const a = await scenario({
      status: 400,
      errorBody: {
        error: {
          message: "This model's maximum context length is 128000 tokens.",
          type: 'invalid_request_error',
          param: 'messages',
          code: 'context_length_exceeded',
        },
      },
    });
    const b = await scenario({});
    const gw = singleModel({ a: openaiAt(a), b: openaiAt(b) });
    const res = await gw.chat(hello);
    expect(res.status).toBe(400);
    expect(await res.json()).toEqual({
      error: {
        message: "This model's maximum context length is 128000 tokens.",
        type: 'invalid_request_error',
        param: 'messages',
        code: 'context_length_exceeded',
      },
    });
    expect(await a.requests()).toHaveLength(1);
    expect(await b.requests()).toHaveLength(0);
  });

  it('answers 502 when every target fails, without leaking upstream keys', async () => {
    const a = await scenario({ status: 500 });
    const b = await scenario({
      status: 401,
      errorBody: {
        error: {
          message: `bad key ${UPSTREAM_KEY}`,
          type: 'invalid_request_error',
          param: null,
          code: 'invalid_api_key',
        },
      },
    });
    const gw = singleModel({ a: openaiAt(a), b: openaiAt(b) });
    const res = await gw.chat(hello);
    expect(res.status).toBe(502);
    const text = await res.text();
    expect(text).not.toContain(UPSTREAM_KEY);
    expect((JSON.parse(text) as ErrorJson).error).toMatchObject({
      type: 'server_error',
      code: 'upstream_error',
    });
    expect(res.headers.get('x-gateway-attempts')).toBe('3');
    expect(res.headers.get('x-request-id')).toBeTruthy();
    expect(gw.logs[0]).toMatchObject({ status: 502, error_code: 'upstream_error', attempts: 3 });
  });

  it('answers 503 with retry-after when every target is overloaded', async () => {
    const a = await scenario({ status: 429, headers: { 'retry-after': '20' } });
    const b = await scenario({ status: 503, headers: { 'retry-after': '7' } });
    const gw = singleModel({ a: openaiAt(a), b: openaiAt(b) });
    const res = await gw.chat(hello);
    expect(res.status).toBe(503);
    expect(res.headers.get('retry-after')).toBe('7');
    expect(((await res.json()) as ErrorJson).error.code).toBe('upstream_unavailable');
  });

  it('answers 504 when the last target timed out', async () => {
    const a = await scenario({ hang: true });
    const gw = singleModel(
      { a: openaiAt(a, { retry: { maxAttempts: 1 } }) },
      { timeouts: { firstByteMs: 150, idleMs: 150 } },
    );
    const res = await gw.chat(hello);
    expect(res.status).toBe(504);
    expect(((await res.json()) as ErrorJson).error).toMatchObject({
      type: 'timeout_error',
      code: 'upstream_timeout',
    });
  });

  it('retries an attempt whose first byte is too slow', async () => {
    const a = await scenario({ firstByteDelayMs: 400 }, {});
    const gw = singleModel({ a: openaiAt(a) }, { timeouts: { firstByteMs: 150, idleMs: 150 } });
    const res = await gw.chat(hello);
    expect(res.status).toBe(200);
    expect(res.headers.get('x-gateway-attempts')).toBe('2');
  });

  it('aborts the upstream, without retrying, when the client leaves before the answer', async () => {
    const a = await scenario({ hang: true });
    const gw = singleModel({ a: openaiAt(a) });
    const controller = new AbortController();
    const pending = gw.request('/v1/chat/completions', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(hello),
      signal: controller.signal,
    });
    await a.waitFor(1);
    controller.abort();
    await pending.catch(() => undefined);
    await eventually(async () => expect((await a.requests())[0]!.clientAborted).toBe(true));
    expect(await a.requests()).toHaveLength(1);
  });
});
