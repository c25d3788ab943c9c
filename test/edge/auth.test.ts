import { Redis } from '@upstash/redis/cloudflare';
import { describe, expect, it } from 'vitest';
import {
  createKey,
  eventually,
  gateway,
  hello,
  openaiAt,
  REDIS,
  scenario,
  UPSTREAM_KEY,
} from './helpers.ts';

const redis = new Redis({ url: REDIS.url, token: REDIS.token });

type ErrorJson = {
  error: { message: string; type: string; code: string | null; param: string | null };
};

async function authed(keyCacheTtlMs = 10_000) {
  const s = await scenario({});
  const config = {
    auth: { enabled: true, keyCacheTtlMs },
    providers: { p: openaiAt(s) },
    models: {
      m: { targets: [{ provider: 'p', model: 'up' }] },
      other: { targets: [{ provider: 'p', model: 'up2' }] },
    },
  };
  return { s, config, gw: gateway(config) };
}

describe('gateway API keys', () => {
  it('accepts a key as a bearer token or as x-api-key', async () => {
    const { gw, s } = await authed();
    const { key } = await createKey(gw);
    expect(key).toMatch(/^sk-gw-[0-9A-Za-z]{32}$/);
    expect((await gw.chat(hello, { authorization: `Bearer ${key}` })).status).toBe(200);
    expect((await gw.chat(hello, { 'x-api-key': key })).status).toBe(200);
    // The gateway key never travels upstream; the provider key does.
    const seen = await s.requests();
    expect(seen.map((r) => r.headers.authorization)).toEqual([
      `Bearer ${UPSTREAM_KEY}`,
      `Bearer ${UPSTREAM_KEY}`,
    ]);
    expect(JSON.stringify(seen)).not.toContain(key);
  });

  it('401 missing_api_key without a key', async () => {
    const { gw, s } = await authed();
    const res = await gw.chat(hello);
    expect(res.status).toBe(401);
    expect(((await res.json()) as ErrorJson).error.code).toBe('missing_api_key');
    expect(await s.requests()).toHaveLength(0);
  });

  it('answers unknown, revoked, disabled and expired keys identically (no oracle)', async () => {
    const { gw } = await authed(0);
    const revoked = await createKey(gw);
    await gw.admin('DELETE', `/keys/${revoked.id}`);
    const disabled = await createKey(gw, { disabled: true });
    // A key whose expiry has passed since it was made (the admin API refuses a past one).
    const expired = await createKey(gw, { expiresAt: '2100-01-01T00:00:00Z' });
    const digest = await redis.get<string>(`gw:keyid:${expired.id}`);
    const record = await redis.get<Record<string, unknown>>(`gw:key:${digest}`);
    await redis.set(`gw:key:${digest}`, { ...record, expiresAt: '2020-01-01T00:00:00Z' });
    const bodies = [];
    for (const key of [
      'sk-gw-doesnotexist0000000000000000000',
      revoked.key,
      disabled.key,
      expired.key,
    ]) {
      const res = await gw.chat(hello, { authorization: `Bearer ${key}` });
      expect(res.status).toBe(401);
      bodies.push(await res.json());
    }
    expect(new Set(bodies.map((b) => JSON.stringify(b))).size).toBe(1);
    expect((bodies[0] as ErrorJson).error.code).toBe('invalid_api_key');
  });

  it('403 model_not_allowed for a model outside the key, and hides it from /v1/models', async () => {
    const { gw, s } = await authed();
    const { headers } = await createKey(gw, { models: ['m'] });
    expect((await gw.chat(hello, headers)).status).toBe(200);
    const res = await gw.chat({ ...hello, model: 'other' }, headers);
    expect(res.status).toBe(403);
    expect(((await res.json()) as ErrorJson).error).toMatchObject({
      code: 'model_not_allowed',
      param: 'model',
    });
    expect(await s.requests()).toHaveLength(1);
    const models = (await (await gw.request('/v1/models', { headers })).json()) as {
      data: { id: string }[];
    };
    expect(models.data.map((m) => m.id)).toEqual(['m']);
  });

  it('stores only a digest: the plaintext key is not in Redis', async () => {
    const { gw } = await authed();
    const { key, id } = await createKey(gw);
    const listed = await (await gw.admin('GET', '/keys')).text();
    expect(listed).toContain(id);
    expect(listed).not.toContain(key);
    const { Redis } = await import('@upstash/redis/cloudflare');
    const { REDIS } = await import('./helpers.ts');
    const redis = new Redis({ url: REDIS.url, token: REDIS.token });
    const digest = await redis.get<string>(`gw:keyid:${id}`);
    expect(digest).toMatch(/^[0-9a-f]{64}$/);
    const stored = JSON.stringify(await redis.get(`gw:key:${digest}`));
    expect(stored).toContain(id);
    expect(stored).not.toContain(key);
  });

  it('revocation reaches every isolate within the key cache TTL', async () => {
    const ttl = 300;
    const { config, gw: isolateA } = await authed(ttl);
    const isolateB = gateway(config);
    const { key, id } = await createKey(isolateA);
    const headers = { authorization: `Bearer ${key}` };
    expect((await isolateA.chat(hello, headers)).status).toBe(200);
    expect((await isolateB.chat(hello, headers)).status).toBe(200); // now cached in B

    expect((await isolateA.admin('DELETE', `/keys/${id}`)).status).toBe(200);
    // The isolate that revoked forgets at once.
    expect((await isolateA.chat(hello, headers)).status).toBe(401);
    // Another isolate may still trust its cache until its TTL ends (the bound itself is
    // checked on a fake clock in src/auth/lookup.test.ts), then it asks Redis again.
    await eventually(
      async () => expect((await isolateB.chat(hello, headers)).status).toBe(401),
      ttl * 4,
    );
  });

  it('503 auth_unavailable (never fail open) when Redis is unreachable and the key is not cached', async () => {
    const s = await scenario({});
    const gw = gateway({
      auth: { enabled: true },
      redis: { url: 'http://127.0.0.1:9', token: 't', timeoutMs: 200 },
      providers: { p: openaiAt(s) },
      models: { m: { targets: [{ provider: 'p', model: 'up' }] } },
    });
    const res = await gw.chat(hello, {
      authorization: 'Bearer sk-gw-whatever000000000000000000000000',
    });
    expect(res.status).toBe(503);
    expect(((await res.json()) as ErrorJson).error.code).toBe('auth_unavailable');
    expect(await s.requests()).toHaveLength(0);
  });

  it('config: auth on without redis fails at startup, naming the field', async () => {
    const { loadConfig } = await import('../../src/config/index.ts');
    expect(() => loadConfig({ providers: {}, models: {}, auth: { enabled: true } }, {})).toThrow(
      /redis: required when auth.enabled is true/,
    );
  });
});
