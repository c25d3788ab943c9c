/**
 * One usage event per /v1 request, whatever its ending, handed to the queue producer binding
 * (here one that records what it is given). The path through the real queue into Postgres is
 * test/e2e/usage-events.test.ts.
 */
import { describe, expect, it } from 'vitest';
import { createApp } from '../../src/app.ts';
import { loadConfig } from '../../src/config/index.ts';
import type { EventQueue, UsageEvent } from '../../src/events/index.ts';
import { eventually, openaiAt, scenario } from './helpers.ts';

async function setup() {
  const ok = await scenario({ content: 'one two three four five six' });
  const cut = await scenario({ content: 'one two three four five six', closeAfterChunks: 2 });
  const slow = await scenario({ content: 'a b c d e f g h i j k l m n o p', chunkDelayMs: 100 });
  const down = await scenario({ status: 500 });
  const config = loadConfig(
    {
      auth: { enabled: false },
      defaults: { retry: { maxAttempts: 1 } },
      providers: {
        ok: openaiAt(ok),
        cut: openaiAt(cut),
        slow: openaiAt(slow),
        down: openaiAt(down),
      },
      models: Object.fromEntries(
        ['ok', 'cut', 'slow', 'down'].map((p) => [p, { targets: [{ provider: p, model: 'up' }] }]),
      ),
      prices: { up: { inputPerMTok: 1, outputPerMTok: 2 } },
      events: { flushMs: 5 },
    },
    {},
  );
  const sent: UsageEvent[][] = [];
  const queue: EventQueue = {
    sendBatch: async (messages) => {
      sent.push([...messages].map((m) => m.body));
    },
  };
  const app = createApp({ config, events: queue, log: () => undefined });
  const call = (path: string, body?: unknown, id = crypto.randomUUID()) =>
    app.request(`http://gateway.test${path}`, {
      method: body === undefined ? 'GET' : 'POST',
      headers: { 'content-type': 'application/json', 'x-request-id': id },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
  const events = () => sent.flat();
  return { call, events, sent };
}

const chat = (model: string, extra: Record<string, unknown> = {}) => ({
  model,
  messages: [{ role: 'user', content: 'do not store this prompt' }],
  ...extra,
});

describe('usage events', () => {
  it('exactly one per request, for every kind of ending, none outside /v1', async () => {
    const { call, events } = await setup();
    const cases: [string, unknown, Partial<UsageEvent>][] = [
      ['/v1/chat/completions', chat('ok'), { status: 200, stream: false, provider: 'ok' }],
      ['/v1/chat/completions', chat('ok', { stream: true }), { status: 200, stream_end: 'done' }],
      [
        '/v1/chat/completions',
        chat('cut', { stream: true }),
        { status: 200, stream_end: 'upstream_error' },
      ],
      ['/v1/chat/completions', chat('down'), { status: 502, provider: 'down', input_tokens: 0 }],
      ['/v1/chat/completions', chat('nope'), { status: 404, error_code: 'model_not_found' }],
      ['/v1/chat/completions', { model: 'ok' }, { status: 400 }],
      [
        '/v1/messages',
        { model: 'ok', max_tokens: 16, messages: [{ role: 'user', content: 'hi' }] },
        { status: 200, endpoint: '/v1/messages' },
      ],
      ['/v1/models', undefined, { status: 200, method: 'GET' }],
    ];
    const ids: string[] = [];
    for (const [path, body, expected] of cases) {
      const id = crypto.randomUUID();
      ids.push(id);
      const res = await call(path, body, id);
      await res.text();
      await eventually(() => expect(events().filter((e) => e.request_id === id)).toHaveLength(1));
      expect(
        events().find((e) => e.request_id === id),
        path,
      ).toMatchObject(expected);
    }
    await (await call('/health')).text();
    await (await call('/admin/keys')).text();
    // One more /v1 request: once its event is in, nothing else has arrived in between.
    const last = crypto.randomUUID();
    await (await call('/v1/models', undefined, last)).text();
    await eventually(() => expect(events().some((e) => e.request_id === last)).toBe(true));
    expect(events().map((e) => e.request_id)).toEqual([...ids, last]);
    expect(new Set(events().map((e) => e.id)).size).toBe(events().length);
    expect(JSON.stringify(events())).not.toContain('do not store this prompt');
    const json = events()[0]!;
    expect(json.input_tokens).toBeGreaterThan(0);
    expect(json.cost_nanos).toBeGreaterThan(0);
  });

  it('a stream the client leaves gives one event, when it is over', async () => {
    const { call, events } = await setup();
    const id = crypto.randomUUID();
    const res = await call('/v1/chat/completions', chat('slow', { stream: true }), id);
    const reader = res.body!.getReader();
    await reader.read();
    await reader.cancel();
    await eventually(() => expect(events().filter((e) => e.request_id === id)).toHaveLength(1));
    expect(events().find((e) => e.request_id === id)).toMatchObject({
      status: 200,
      stream_end: 'client_abort',
    });
  });

  it('a cache hit is an event of its own', async () => {
    const { call, events } = await setup();
    const body = chat('ok', {
      temperature: 0,
      messages: [{ role: 'user', content: `cache ${crypto.randomUUID()}` }],
    });
    const first = crypto.randomUUID();
    await (await call('/v1/chat/completions', body, first)).text();
    await eventually(() => expect(events().some((e) => e.request_id === first)).toBe(true));
    let hit: UsageEvent | undefined;
    await eventually(async () => {
      const id = crypto.randomUUID();
      await (await call('/v1/chat/completions', body, id)).text();
      await eventually(() => expect(events().some((e) => e.request_id === id)).toBe(true));
      hit = events().find((e) => e.request_id === id);
      expect(hit?.cache).toBe('HIT');
    });
    expect(hit).toMatchObject({ status: 200, cache: 'HIT', attempts: 0 });
  });

  it('batches per isolate: concurrent requests share sendBatch calls', async () => {
    const { call, events, sent } = await setup();
    const ids = Array.from({ length: 20 }, () => crypto.randomUUID());
    await Promise.all(ids.map(async (id) => (await call('/v1/models', undefined, id)).text()));
    await eventually(() => expect(events()).toHaveLength(20));
    expect(sent.length).toBeLessThan(20);
  });
});

describe('the request log routes without a usage database', () => {
  it('503 for admin tokens; tenant-scoped tokens reach nothing else of the admin API', async () => {
    const config = loadConfig(
      {
        auth: { enabled: false },
        providers: {},
        models: {},
        admin: {
          tokens: { ops: 'ops-token-0123456789abcdef' },
          tenantTokens: { acme: { token: 'acme-token-0123456789abcdef', tenant: 'acme' } },
        },
      },
      {},
    );
    const app = createApp({ config, log: () => undefined });
    const get = (path: string, token: string) =>
      app.request(`http://gateway.test${path}`, { headers: { authorization: `Bearer ${token}` } });
    const down = await get('/admin/requests', 'ops-token-0123456789abcdef');
    expect(down.status).toBe(503);
    expect(((await down.json()) as { error: { code: string } }).error.code).toBe(
      'request_log_unavailable',
    );
    expect((await get('/admin/usage', 'acme-token-0123456789abcdef')).status).toBe(503);
    expect((await get('/admin/requests', 'wrong-token-0123456789abcdef')).status).toBe(401);
    expect((await get('/admin/keys', 'acme-token-0123456789abcdef')).status).toBe(403);
  });
});
