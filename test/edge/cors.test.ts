import { describe, expect, it } from 'vitest';
import { createKey, gateway, hello, openaiAt, scenario } from './helpers.ts';

async function setup() {
  const s = await scenario({});
  const suffix = crypto.randomUUID().slice(0, 8);
  const gw = gateway({
    auth: { enabled: true },
    cors: { origins: ['https://app.example.com'] },
    tenants: { [`t-${suffix}`]: { corsOrigins: ['https://tenant.example.com'] } },
    providers: { p: openaiAt(s) },
    models: { m: { targets: [{ provider: 'p', model: 'up' }] } },
  });
  return { gw, s, suffix };
}

const preflight = (gw: Awaited<ReturnType<typeof setup>>['gw'], origin: string) =>
  gw.request('/v1/chat/completions', {
    method: 'OPTIONS',
    headers: {
      origin,
      'access-control-request-method': 'POST',
      'access-control-request-headers': 'authorization, content-type',
    },
  });

describe('browser access (CORS)', () => {
  it('answers a preflight before auth, for origins the config or a key names', async () => {
    const { gw, suffix } = await setup();
    const ok = await preflight(gw, 'https://app.example.com');
    expect(ok.status).toBe(204);
    expect(ok.headers.get('access-control-allow-origin')).toBe('https://app.example.com');
    expect(ok.headers.get('access-control-allow-methods')).toContain('POST');
    expect(ok.headers.get('access-control-allow-headers')).toContain('authorization');
    expect(ok.headers.get('access-control-allow-credentials')).toBeNull();

    expect(
      (await preflight(gw, 'https://tenant.example.com')).headers.get(
        'access-control-allow-origin',
      ),
    ).toBe('https://tenant.example.com');

    const refused = await preflight(gw, 'https://evil.example.com');
    expect(refused.status).toBe(204);
    expect(refused.headers.get('access-control-allow-origin')).toBeNull();

    const keyOrigin = `https://key-${suffix}.example.com`;
    expect((await preflight(gw, keyOrigin)).headers.get('access-control-allow-origin')).toBeNull();
    await createKey(gw, { allowedOrigins: [keyOrigin] });
    // Another isolate (no cached "no" for this origin) sees the key's origin at once.
    const fresh = (await setup()).gw;
    expect((await preflight(fresh, keyOrigin)).headers.get('access-control-allow-origin')).toBe(
      keyOrigin,
    );
  });

  it("adds CORS headers to answers only for the caller's allowed origins, never *", async () => {
    const { gw, suffix } = await setup();
    const tenantKey = await createKey(gw, { tenant: `t-${suffix}` });
    const otherKey = await createKey(gw, { allowedOrigins: ['https://mine.example.com'] });
    const ask = (origin: string, headers: Record<string, string>) =>
      gw.chat(hello, { origin, ...headers });

    const global = await ask('https://app.example.com', otherKey.headers);
    expect(global.status).toBe(200);
    expect(global.headers.get('access-control-allow-origin')).toBe('https://app.example.com');
    expect(global.headers.get('access-control-expose-headers')).toContain(
      'x-ratelimit-remaining-requests',
    );
    expect(global.headers.get('access-control-expose-headers')).toContain('x-request-id');
    expect(global.headers.get('vary')).toContain('origin');

    const own = await ask('https://mine.example.com', otherKey.headers);
    expect(own.headers.get('access-control-allow-origin')).toBe('https://mine.example.com');
    // The tenant's origin is not another tenant's, nor another key's.
    expect(
      (await ask('https://tenant.example.com', otherKey.headers)).headers.get(
        'access-control-allow-origin',
      ),
    ).toBeNull();
    expect(
      (await ask('https://mine.example.com', tenantKey.headers)).headers.get(
        'access-control-allow-origin',
      ),
    ).toBeNull();
    expect(
      (await ask('https://tenant.example.com', tenantKey.headers)).headers.get(
        'access-control-allow-origin',
      ),
    ).toBe('https://tenant.example.com');

    // A 401 to an allowed origin is readable (the page can say why); to others it is not.
    const unauthorized = await ask('https://app.example.com', {});
    expect(unauthorized.status).toBe(401);
    expect(unauthorized.headers.get('access-control-allow-origin')).toBe('https://app.example.com');
    expect(
      (await ask('https://evil.example.com', {})).headers.get('access-control-allow-origin'),
    ).toBeNull();
  });

  it('refuses malformed origins in the config and on keys', async () => {
    const { gw } = await setup();
    const res = await gw.admin('POST', '/keys', {
      name: 'bad origin',
      allowedOrigins: ['https://app.example.com/path'],
    });
    expect(res.status).toBe(400);
    expect(() =>
      gateway({ cors: { origins: ['app.example.com'] }, providers: {}, models: {} }),
    ).toThrow(/cors\.origins\[0\]/);
  });
});
