import { Redis } from '@upstash/redis/cloudflare';
import { describe, expect, it } from 'vitest';
import { cacheKey } from '../../src/cache/key.ts';
import {
  createKey,
  eventually,
  gateway,
  hello,
  openaiAt,
  REDIS,
  scenario,
  scenarioGateway,
  sseData,
} from './helpers.ts';

const redis = new Redis({ url: REDIS.url, token: REDIS.token });
const deterministic = { ...hello, temperature: 0 };
const tenant = () => `t-${crypto.randomUUID()}`;

/** The key the gateway uses for `body` from tenant `t` on model `m` (generations read live:
 * other tests purge model `m`). */
async function storedKey(t: string, body: Record<string, unknown>) {
  const gens = await redis.mget<(number | null)[]>(
    `gw:cache:gen:scope:tenant:${t}`,
    'gw:cache:gen:model:m',
  );
  return cacheKey({
    scope: `tenant:${t}`,
    endpoint: 'chat/completions',
    body,
    generations: gens.map((g) => Number(g ?? 0)),
  });
}

/** Waits until the answer to `body` is in the Redis tier (the write after a MISS landed). */
async function stored(t: string, body: Record<string, unknown>) {
  const key = await storedKey(t, body);
  await eventually(async () => expect(await redis.exists(`gw:cache:${key}`)).toBe(1));
}

/** A gateway with auth; each test gets its own tenant, so entries never leak between tests. */
async function setup(
  steps: Parameters<typeof scenario> = [{}],
  extra: Record<string, unknown> = {},
) {
  const { s, gw, config } = await scenarioGateway(steps, {
    prices: { up: { inputPerMTok: 1_000_000, outputPerMTok: 1_000_000 } },
    ...extra,
  });
  const t = tenant();
  const key = await createKey(gw, { tenant: t });
  return {
    s,
    gw,
    config,
    key,
    tenant: t,
    chat: (body: Record<string, unknown>, headers: Record<string, string> = {}) =>
      gw.chat(body, { ...key.headers, ...headers }),
  };
}

const content = async (res: Response) =>
  ((await res.json()) as { choices: { message: { content: string } }[] }).choices[0]!.message
    .content;

describe('when the cache is used', () => {
  it('MISS then HIT for a deterministic request, with age; the upstream is called once', async () => {
    const { s, chat, gw } = await setup([{ content: 'cached words' }]);
    const first = await chat(deterministic);
    expect(first.headers.get('x-gateway-cache')).toBe('MISS');
    expect(await content(first)).toBe('cached words');
    await eventually(async () =>
      expect((await chat(deterministic)).headers.get('x-gateway-cache')).toBe('HIT'),
    );
    const hit = await chat(deterministic);
    expect(hit.headers.get('x-gateway-cache')).toBe('HIT');
    expect(hit.headers.get('age')).toMatch(/^\d+$/);
    expect(await content(hit)).toBe('cached words');
    expect(await s.requests()).toHaveLength(1);
    expect(gw.logs.at(-1)).toMatchObject({ cache: 'HIT', status: 200 });
  });

  it('BYPASS for sampled requests, and when the client says skip', async () => {
    const { s, chat } = await setup();
    expect((await chat({ ...hello, temperature: 0.7 })).headers.get('x-gateway-cache')).toBe(
      'BYPASS',
    );
    expect((await chat({ ...hello, temperature: 0.7 })).headers.get('x-gateway-cache')).toBe(
      'BYPASS',
    );
    expect(
      (await chat(deterministic, { 'x-gateway-cache': 'skip' })).headers.get('x-gateway-cache'),
    ).toBe('BYPASS');
    expect(await s.requests()).toHaveLength(3);
  });

  it('caches a sampled request when forced, by header or by a TTL header; an explicit seed counts as deterministic', async () => {
    const { s, chat, tenant: t } = await setup();
    const sampled = { ...hello, temperature: 1 };
    expect(
      (await chat(sampled, { 'x-gateway-cache': 'force' })).headers.get('x-gateway-cache'),
    ).toBe('MISS');
    await stored(t, sampled);
    expect(
      (await chat(sampled, { 'x-gateway-cache': 'force' })).headers.get('x-gateway-cache'),
    ).toBe('HIT');
    const other = { ...hello, temperature: 0.9 };
    expect(
      (await chat(other, { 'x-gateway-cache-ttl': '60' })).headers.get('x-gateway-cache'),
    ).toBe('MISS');
    await stored(t, other);
    expect(
      (await chat(other, { 'x-gateway-cache-ttl': '60' })).headers.get('x-gateway-cache'),
    ).toBe('HIT');
    expect((await chat({ ...hello, seed: 42 })).headers.get('x-gateway-cache')).toBe('MISS');
    expect(await s.requests()).toHaveLength(3);
  });
});

describe('cache keys', () => {
  it('ignore field order and whitespace; differ on parameters that change the answer', async () => {
    const { chat, gw, key, s, tenant: t } = await setup();
    const original = {
      temperature: 0,
      model: 'm',
      messages: [{ role: 'user', content: 'Hello there' }],
    };
    await chat(original);
    await stored(t, original);
    const reordered = await chat({
      messages: [{ content: 'Hello there', role: 'user' }],
      model: 'm',
      temperature: 0,
    });
    expect(reordered.headers.get('x-gateway-cache')).toBe('HIT');
    // The same JSON, laid out differently on the wire.
    const spaced = await gw.request('/v1/chat/completions', {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...key.headers },
      body: JSON.stringify(original, null, 4).replace(/:/g, ' :\n\t '),
    });
    expect(spaced.status).toBe(200);
    expect(spaced.headers.get('x-gateway-cache')).toBe('HIT');
    expect(await s.requests()).toHaveLength(1);
    for (const change of [
      { max_tokens: 5 },
      { top_p: 0.5 },
      { messages: [{ role: 'user', content: 'Hello' }] },
      { tools: [{ type: 'function', function: { name: 'f' } }] },
      { response_format: { type: 'json_object' } },
    ]) {
      expect((await chat({ ...deterministic, ...change })).headers.get('x-gateway-cache')).toBe(
        'MISS',
      );
    }
  });

  it('key normalization is exact: same request, same key; different request, different key', async () => {
    const a = await cacheKey({
      scope: 's',
      endpoint: 'chat/completions',
      body: { b: 1, a: { y: 2, x: 1 } },
      generations: [0, 0],
    });
    const b = await cacheKey({
      scope: 's',
      endpoint: 'chat/completions',
      body: { a: { x: 1, y: 2 }, b: 1, stream: true, user: 'u' },
      generations: [0, 0],
    });
    const c = await cacheKey({
      scope: 's2',
      endpoint: 'chat/completions',
      body: { a: { x: 1, y: 2 }, b: 1 },
      generations: [0, 0],
    });
    const d = await cacheKey({
      scope: 's',
      endpoint: 'chat/completions',
      body: { a: { x: 1, y: 2 }, b: 1 },
      generations: [1, 0],
    });
    expect(a).toMatch(/^[0-9a-f]{64}$/);
    expect(b).toBe(a);
    expect(c).not.toBe(a);
    expect(d).not.toBe(a);
  });

  it('keep tenants apart unless the config makes a model global', async () => {
    const { gw, s, chat } = await setup();
    const otherTenant = await createKey(gw, { tenant: tenant() });
    await chat(deterministic);
    await eventually(async () =>
      expect((await chat(deterministic)).headers.get('x-gateway-cache')).toBe('HIT'),
    );
    expect((await gw.chat(deterministic, otherTenant.headers)).headers.get('x-gateway-cache')).toBe(
      'MISS',
    );
    expect(await s.requests()).toHaveLength(2);

    const shared = await setup([{}], { cache: { models: { m: { scope: 'global' } } } });
    const elsewhere = await createKey(shared.gw, { tenant: tenant() });
    const body = { ...deterministic, messages: [{ role: 'user', content: crypto.randomUUID() }] };
    await shared.chat(body);
    await eventually(async () =>
      expect((await shared.gw.chat(body, elsewhere.headers)).headers.get('x-gateway-cache')).toBe(
        'HIT',
      ),
    );
  });
});

describe('streams and the cache', () => {
  it('stores a stream as it passes and replays it chunk for chunk', async () => {
    const { chat, s } = await setup([{ content: 'streamed and stored' }]);
    const body = { ...deterministic, stream: true, stream_options: { include_usage: true } };
    const live = await chat(body);
    expect(live.headers.get('x-gateway-cache')).toBe('MISS');
    const liveEvents = await sseData(live);
    let replayed: string[] = [];
    await eventually(async () => {
      const res = await chat(body);
      expect(res.headers.get('x-gateway-cache')).toBe('HIT');
      expect(res.headers.get('content-type')).toContain('text/event-stream');
      replayed = await sseData(res);
    });
    expect(replayed).toEqual(liveEvents);
    expect(JSON.parse(replayed.at(-2)!).usage.completion_tokens).toBe(3);
    expect(await s.requests()).toHaveLength(1);

    // Without include_usage the replay drops the usage chunk, as a live stream does.
    const noUsage = await sseData(await chat({ ...deterministic, stream: true }));
    expect(noUsage).toEqual(
      liveEvents.filter((e) => e === '[DONE]' || JSON.parse(e).choices.length > 0),
    );
  });

  it('answers a non-streaming request from a cached stream, and a stream from a cached response', async () => {
    const a = await setup([{ content: 'from a stream', toolCall: undefined }]);
    await sseData(await a.chat({ ...deterministic, stream: true }));
    await eventually(async () =>
      expect((await a.chat(deterministic)).headers.get('x-gateway-cache')).toBe('HIT'),
    );
    const assembled = (await (await a.chat(deterministic)).json()) as {
      object: string;
      choices: { message: { content: string }; finish_reason: string }[];
      usage: { completion_tokens: number };
    };
    expect(assembled.object).toBe('chat.completion');
    expect(assembled.choices[0]).toMatchObject({
      message: { content: 'from a stream' },
      finish_reason: 'stop',
    });
    expect(assembled.usage.completion_tokens).toBe(3);

    const b = await setup([{ toolCall: { name: 'lookup', arguments: '{"q":"cached"}' } }]);
    await b.chat(deterministic);
    let events: string[] = [];
    await eventually(async () => {
      const res = await b.chat({
        ...deterministic,
        stream: true,
        stream_options: { include_usage: true },
      });
      expect(res.headers.get('x-gateway-cache')).toBe('HIT');
      events = await sseData(res);
    });
    const chunks = events.filter((e) => e !== '[DONE]').map((e) => JSON.parse(e));
    const args = chunks
      .flatMap((c) => c.choices[0]?.delta?.tool_calls ?? [])
      .map((t) => t.function.arguments)
      .join('');
    expect(args).toBe('{"q":"cached"}');
    expect(chunks.some((c) => c.choices[0]?.finish_reason === 'tool_calls')).toBe(true);
    expect(chunks.at(-1).usage.total_tokens).toBeGreaterThan(0);
    expect(events.at(-1)).toBe('[DONE]');
  });

  it('never caches errors or cut streams', async () => {
    const { chat, s, gw } = await setup([
      { status: 400 },
      { content: 'a b c d e f', closeAfterChunks: 2 },
      { content: 'fine' },
    ]);
    expect((await chat(deterministic)).status).toBe(400);
    await sseData(await chat({ ...deterministic, stream: true }));
    // The cut stream's log line is written once it ended, after the store decision.
    const chats = () => gw.logs.filter((l) => l.path === '/v1/chat/completions');
    await eventually(() => expect(chats()).toHaveLength(2));
    expect(chats().map((l) => [l.status, l.cache, l.cache_write])).toEqual([
      [400, 'MISS', undefined],
      [200, 'MISS', undefined],
    ]);
    expect(chats()[1]!.stream_end).not.toBe('done');
    const third = await chat(deterministic);
    expect(third.headers.get('x-gateway-cache')).toBe('MISS');
    expect(await content(third)).toBe('fine');
    expect(gw.logs.at(-1)!.cache_write).toBe('stored');
    expect(await s.requests()).toHaveLength(3);
  });
});

describe('tiers, limits and purges', () => {
  it('expires entries after their TTL', async () => {
    const { chat, s } = await setup();
    const ttl = { 'x-gateway-cache-ttl': '1' };
    await chat(deterministic, ttl);
    await eventually(async () =>
      expect((await chat(deterministic, ttl)).headers.get('x-gateway-cache')).toBe('HIT'),
    );
    await eventually(
      async () =>
        expect((await chat(deterministic, ttl)).headers.get('x-gateway-cache')).toBe('MISS'),
      5_000,
    );
    expect(await s.requests()).toHaveLength(2);
  });

  it('a Redis hit fills the colo-local tier', async () => {
    const { chat, gw, tenant: t } = await setup();
    await chat(deterministic);
    const key = await storedKey(t, deterministic);
    await eventually(async () => expect(await redis.exists(`gw:cache:${key}`)).toBe(1));
    await eventually(async () =>
      expect(await caches.default.match(`https://gateway-cache.internal/${key}`)).toBeTruthy(),
    );
    await caches.default.delete(`https://gateway-cache.internal/${key}`); // as if in another colo
    expect((await chat(deterministic)).headers.get('x-gateway-cache')).toBe('HIT');
    expect(gw.logs.at(-1)!.cache_tier).toBe('redis');
    await eventually(async () => {
      expect((await chat(deterministic)).headers.get('x-gateway-cache')).toBe('HIT');
      expect(gw.logs.at(-1)!.cache_tier).toBe('local');
    });
  });

  it('does not cache answers over the size limit', async () => {
    const { chat, s, gw } = await setup([{ content: 'x'.repeat(3_000) }], {
      cache: { maxEntryBytes: 1_000 },
    });
    await chat(deterministic);
    expect(gw.logs.at(-1)).toMatchObject({ cache: 'MISS', cache_write: 'too_large' });
    expect((await chat(deterministic)).headers.get('x-gateway-cache')).toBe('MISS');
    expect(await s.requests()).toHaveLength(2);
  });

  it('a hit costs no tokens or spend by default, and is logged as a hit', async () => {
    const { chat, gw, key } = await setup();
    const first = await chat(deterministic);
    expect(first.headers.get('x-gateway-cost-usd')).toBe('12');
    await eventually(async () =>
      expect((await chat(deterministic)).headers.get('x-gateway-cache')).toBe('HIT'),
    );
    const hit = await chat(deterministic);
    expect(hit.headers.get('x-gateway-cost-usd')).toBe('0');
    expect(((await hit.json()) as { usage: { total_tokens: number } }).usage.total_tokens).toBe(12);
    await eventually(async () => {
      const usage = (await (await gw.admin('GET', `/keys/${key.id}/usage`)).json()) as {
        spend_usd: number;
      };
      expect(usage.spend_usd).toBe(12);
    });
    expect(gw.logs.filter((l) => l.path === '/v1/chat/completions').at(-1)).toMatchObject({
      cache: 'HIT',
      cost_usd: 0,
    });
  });

  it('purges by model and by tenant scope, everywhere', async () => {
    const { chat, gw, tenant: t } = await setup();
    const hitNow = async () => (await chat(deterministic)).headers.get('x-gateway-cache');
    await chat(deterministic);
    await eventually(async () => expect(await hitNow()).toBe('HIT'));
    expect((await gw.admin('POST', '/cache/purge', { model: 'm' })).status).toBe(200);
    expect(await hitNow()).toBe('MISS');
    await eventually(async () => expect(await hitNow()).toBe('HIT'));
    expect((await gw.admin('POST', '/cache/purge', { tenant: t })).status).toBe(200);
    expect(await hitNow()).toBe('MISS');
    expect((await gw.admin('POST', '/cache/purge', {})).status).toBe(400);
    const audit = (await (await gw.admin('GET', '/audit?limit=5')).json()) as {
      data: { action: string }[];
    };
    expect(audit.data[0]!.action).toBe('cache.purge');
  });

  it('keeps a zoned key out of the shared Redis tier unless the config maps its zone', async () => {
    const s = await scenario({});
    const admin = gateway({
      auth: { enabled: true },
      regions: { 'eu-west': { zone: 'eu' } },
      providers: {},
      models: {},
    });
    const t = tenant();
    const eu = await createKey(admin, { tenant: t, residency: 'eu' });
    const euGateway = (cache: object) =>
      gateway({
        auth: { enabled: true },
        cache,
        providers: { p: openaiAt(s, { zones: ['eu'] }) },
        models: { m: { targets: [{ provider: 'p', model: 'up' }] } },
      });
    const stored = async (gw: ReturnType<typeof gateway>) => {
      const body = { ...deterministic, messages: [{ role: 'user', content: crypto.randomUUID() }] };
      const res = await gw.chat(body, eu.headers);
      expect(res.status).toBe(200);
      expect(res.headers.get('x-gateway-cache')).toBe('MISS');
      return storedKey(t, body);
    };
    const unmapped = await stored(euGateway({}));
    const mapped = await stored(euGateway({ redisZones: ['eu'] }));
    await eventually(async () => expect(await redis.exists(`gw:cache:${mapped}`)).toBe(1));
    expect(await redis.exists(`gw:cache:${unmapped}`)).toBe(0);
  });

  it('a guarded stream: the entry keeps the upstream text, each answer (MISS, HIT) is masked', async () => {
    const email = 'jane.roe@example.com';
    const {
      s,
      chat,
      tenant: t,
    } = await setup([{ content: `write to ${email} today` }], {
      guardrails: {
        policies: { pii: { checks: [{ type: 'pii', action: 'mask' }] } },
        defaultPolicies: ['pii'],
      },
    });
    const streamed = { ...deterministic, stream: true };
    const text = (events: string[]) =>
      events
        .filter((e) => e !== '[DONE]')
        .map((e) => JSON.parse(e).choices[0]?.delta?.content ?? '')
        .join('');
    const miss = await chat(streamed);
    expect(miss.headers.get('x-gateway-cache')).toBe('MISS');
    expect(text(await sseData(miss))).toBe('write to [EMAIL] today');
    await stored(t, streamed);
    const entry = await redis.get(`gw:cache:${await storedKey(t, streamed)}`);
    expect(JSON.stringify(entry)).toContain(email.slice(0, 4));
    const hit = await chat(streamed);
    expect(hit.headers.get('x-gateway-cache')).toBe('HIT');
    expect(text(await sseData(hit))).toBe('write to [EMAIL] today');
    expect(await s.requests()).toHaveLength(1);
  });
});
