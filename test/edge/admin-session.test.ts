/**
 * The operator console's session (src/admin/session.ts, session-cookie.ts, access.ts): an
 * admin token exchanged for a signed HttpOnly cookie that every /admin route accepts in place
 * of the bearer token, with the same-origin rule for the cookie's state-changing requests.
 */
import { generateSignedCookie } from 'hono/cookie';
import { describe, expect, it } from 'vitest';
import { createApp } from '../../src/app.ts';
import { loadConfig } from '../../src/config/index.ts';
import { REDIS } from './helpers.ts';

type ErrorJson = { error: { message: string; type: string; code: string | null } };

const OPS = 'ops-admin-token-0123456789abcdef';
const SCRIPT = 'script-admin-token-0123456789abcdef';
const ACME = 'acme-admin-token-0123456789abcdef';
const SECRET = 'console-session-secret-0123456789';
const HOST = 'http://gateway.test';
// Nothing listens on port 1: the request log's store cannot answer (503), so a 503 says the
// credential was accepted and the request reached the store.
const NO_DB = { connectionString: 'postgres://u:p@127.0.0.1:1/usage' };

function consoleGateway(
  admin: Record<string, unknown> = {},
  options: { sessionSecret?: string; tokens?: Record<string, string> } = {},
) {
  const config = loadConfig(
    {
      auth: { enabled: true },
      redis: REDIS,
      providers: {},
      models: {},
      admin: {
        tokens: options.tokens ?? { ops: OPS, script: SCRIPT },
        tenantTokens: { 'acme-ops': { token: ACME, tenant: 'acme' } },
        ...admin,
      },
    },
    {},
  );
  const app = createApp({
    config,
    log: () => undefined,
    usageDb: NO_DB,
    ...(options.sessionSecret ? { sessionSecret: options.sessionSecret } : {}),
  });
  const address = `198.51.100.20-${crypto.randomUUID()}`;
  const request = (path: string, init: RequestInit = {}, base = HOST) => {
    const headers = new Headers(init.headers);
    headers.set('cf-connecting-ip', address);
    return app.request(`${base}${path}`, { ...init, headers });
  };
  const signIn = (token: string, base = HOST) =>
    request(
      '/admin/session',
      {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ token }),
      },
      base,
    );
  return { request, signIn };
}

/** The `name=value` part of a Set-Cookie header, as a browser sends it back. */
function cookieOf(res: Response): string {
  const header = res.headers.get('set-cookie');
  if (!header) throw new Error('no set-cookie');
  return header.split(';')[0]!;
}

const createKey = (cookie: string, headers: Record<string, string> = {}) => ({
  method: 'POST',
  headers: { 'content-type': 'application/json', cookie, ...headers },
  body: JSON.stringify({ name: 'from the console' }),
});

describe('POST /admin/session', () => {
  it('exchanges an admin token for a signed HttpOnly, SameSite=Strict cookie on /admin', async () => {
    const gw = consoleGateway();
    const before = Date.now();
    const res = await gw.signIn(OPS);
    expect(res.status).toBe(200);
    const body = (await res.json()) as { actor: string; tenant: string | null; expiresAt: string };
    expect(body).toMatchObject({ actor: 'ops', tenant: null });
    const expires = Date.parse(body.expiresAt);
    expect(expires).toBeGreaterThanOrEqual(before + 28_800_000);
    expect(expires).toBeLessThanOrEqual(Date.now() + 28_800_000);

    const attributes = res.headers.get('set-cookie')!.split('; ');
    expect(attributes[0]).toMatch(/^gw_console=.+/);
    expect(attributes[0]).not.toContain(OPS);
    expect(attributes.slice(1).sort()).toEqual(
      ['HttpOnly', 'Max-Age=28800', 'Path=/admin', 'SameSite=Strict', 'Secure'].sort(),
    );
  });

  it('leaves Secure off only on a loopback host, and takes the TTL from the config', async () => {
    const gw = consoleGateway({ sessionTtlSeconds: 600 });
    for (const base of ['http://localhost:8787', 'http://127.0.0.1:8787', 'http://[::1]:8787']) {
      const cookie = (await gw.signIn(OPS, base)).headers.get('set-cookie')!;
      expect(cookie).toContain('HttpOnly');
      expect(cookie).toContain('Max-Age=600');
      expect(cookie).not.toContain('Secure');
    }
    expect((await gw.signIn(OPS, 'https://gw.example.com')).headers.get('set-cookie')).toContain(
      '; Secure',
    );
  });

  it('400 for a body that is not JSON or has no token', async () => {
    const gw = consoleGateway();
    for (const body of ['not json', '{}', '{"token": 42}', '{"token": ""}']) {
      const res = await gw.request('/admin/session', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body,
      });
      expect(res.status).toBe(400);
      expect(res.headers.get('set-cookie')).toBeNull();
      expect(((await res.json()) as ErrorJson).error.type).toBe('invalid_request_error');
    }
  });

  it('401 in the OpenAI error shape for a wrong token, counted toward the lockout', async () => {
    const gw = consoleGateway({ failedAuthPerMinute: 2 });
    for (const token of ['wrong-token-0-0123456789', 'wrong-token-1-0123456789']) {
      const res = await gw.signIn(token);
      expect(res.status).toBe(401);
      expect(res.headers.get('set-cookie')).toBeNull();
      expect(await res.json()).toEqual({
        error: {
          message: expect.any(String),
          type: 'authentication_error',
          param: null,
          code: 'invalid_admin_token',
        },
      });
    }
    // Two failures from this address: now even the right token is refused, as with bearers.
    const locked = await gw.signIn(OPS);
    expect(locked.status).toBe(429);
    expect(((await locked.json()) as ErrorJson).error.code).toBe('admin_auth_rate_limited');
    expect(
      (await gw.request('/admin/keys', { headers: { authorization: `Bearer ${OPS}` } })).status,
    ).toBe(429);
  });
});

describe('the session cookie on the admin API', () => {
  it('is accepted by GET /admin/session, /admin/keys and /admin/requests', async () => {
    const gw = consoleGateway();
    const cookie = cookieOf(await gw.signIn(OPS));
    const session = await gw.request('/admin/session', { headers: { cookie } });
    expect(session.status).toBe(200);
    expect(await session.json()).toMatchObject({ actor: 'ops', tenant: null });

    const keys = await gw.request('/admin/keys', { headers: { cookie } });
    expect(keys.status).toBe(200);
    expect(await keys.json()).toMatchObject({ object: 'list' });
    expect((await gw.request('/admin/keys')).status).toBe(401);

    const log = await gw.request('/admin/requests', { headers: { cookie } });
    expect(((await log.json()) as ErrorJson).error.code).toBe('request_log_unavailable');
    expect(log.status).toBe(503);
    expect((await gw.request('/admin/requests')).status).toBe(401);
  });

  it('401 for a tampered cookie, an expired one, or one signed with another key', async () => {
    const gw = consoleGateway({}, { sessionSecret: SECRET });
    const cookie = cookieOf(await gw.signIn(OPS));
    const value = decodeURIComponent(cookie.slice('gw_console='.length));
    const tampered = `gw_console=${encodeURIComponent(value.replace('"ops"', '"opz"'))}`;
    const forged = async (payload: unknown, secret = SECRET) =>
      (await generateSignedCookie('gw_console', JSON.stringify(payload), secret)).split(';')[0]!;
    const far = Date.now() + 3_600_000;

    expect((await gw.request('/admin/session', { headers: { cookie } })).status).toBe(200);
    // Signed with the configured secret, so a cookie the test signs with it is accepted...
    const good = await forged({ a: 'ops', t: null, e: far });
    expect((await gw.request('/admin/keys', { headers: { cookie: good } })).status).toBe(200);
    for (const bad of [
      tampered,
      await forged({ a: 'ops', t: null, e: Date.now() - 1 }),
      await forged({ a: 'ops', t: null, e: far }, 'another-secret-0123456789abcdef'),
      // ...but not for an actor the config does not have, or with a scope it lacks.
      await forged({ a: 'intruder', t: null, e: far }),
      await forged({ a: 'acme-ops', t: null, e: far }),
      'gw_console=garbage',
    ]) {
      for (const path of ['/admin/session', '/admin/keys', '/admin/requests']) {
        const res = await gw.request(path, { headers: { cookie: bad } });
        expect(res.status).toBe(401);
        expect(((await res.json()) as ErrorJson).error.code).toBe('invalid_admin_token');
      }
    }
  });

  it('without ADMIN_SESSION_SECRET is signed with a key from the tokens: rotating them ends it', async () => {
    const before = consoleGateway();
    const cookie = cookieOf(await before.signIn(OPS));
    // Another app (another isolate) over the same tokens accepts it.
    const sameTokens = consoleGateway();
    expect((await sameTokens.request('/admin/keys', { headers: { cookie } })).status).toBe(200);
    // The same actor name with a new token: the old session is gone.
    const rotated = consoleGateway(
      {},
      { tokens: { ops: 'ops-admin-token-rotated-0123456789', script: SCRIPT } },
    );
    expect((await rotated.request('/admin/keys', { headers: { cookie } })).status).toBe(401);
  });

  it("mutations need the gateway's own Origin (or Sec-Fetch-Site: same-origin); bearers do not", async () => {
    const gw = consoleGateway();
    const cookie = cookieOf(await gw.signIn(OPS));
    const refused: Record<string, string>[] = [
      {},
      { origin: 'https://evil.example' },
      { origin: 'http://gateway.test:8080' },
      { 'sec-fetch-site': 'same-site' },
    ];
    for (const headers of refused) {
      const res = await gw.request('/admin/keys', createKey(cookie, headers));
      expect(res.status).toBe(403);
      expect(((await res.json()) as ErrorJson).error.code).toBe('origin_mismatch');
    }
    const sameOrigin = await gw.request('/admin/keys', createKey(cookie, { origin: HOST }));
    expect(sameOrigin.status).toBe(201);
    const fetchSite = await gw.request(
      '/admin/keys',
      createKey(cookie, { 'sec-fetch-site': 'same-origin' }),
    );
    expect(fetchSite.status).toBe(201);
    // A script with the bearer token sends no Origin and is unaffected.
    const bearer = await gw.request('/admin/keys', {
      ...createKey(''),
      headers: { 'content-type': 'application/json', authorization: `Bearer ${SCRIPT}` },
    });
    expect(bearer.status).toBe(201);

    // The audit log names the session's actor.
    const audit = await gw.request('/admin/audit?limit=1000', { headers: { cookie } });
    const { data } = (await audit.json()) as { data: { actor: string; keyId?: string }[] };
    for (const res of [sameOrigin, fetchSite, bearer]) {
      const { id } = (await res.json()) as { id: string };
      expect(data.find((e) => e.keyId === id)?.actor).toBe(res === bearer ? 'script' : 'ops');
    }
  });

  it('a tenant-scoped session reads only its tenant and none of the rest of the admin API', async () => {
    const gw = consoleGateway();
    const signedIn = await gw.signIn(ACME);
    expect(signedIn.status).toBe(200);
    expect(await signedIn.json()).toMatchObject({ actor: 'acme-ops', tenant: 'acme' });
    const cookie = cookieOf(signedIn);

    const keys = await gw.request('/admin/keys', { headers: { cookie } });
    expect(keys.status).toBe(403);
    expect(((await keys.json()) as ErrorJson).error.code).toBe('admin_forbidden');
    expect((await gw.request('/admin/audit', { headers: { cookie } })).status).toBe(403);

    const other = await gw.request('/admin/requests?tenant=globex', { headers: { cookie } });
    expect(other.status).toBe(403);
    expect(((await other.json()) as ErrorJson).error.code).toBe('tenant_forbidden');
    // Its own tenant passes the scope and reaches the store.
    const own = await gw.request('/admin/usage?tenant=acme', { headers: { cookie } });
    expect(((await own.json()) as ErrorJson).error.code).toBe('request_log_unavailable');
  });

  it('DELETE /admin/session clears the cookie', async () => {
    const gw = consoleGateway();
    const cookie = cookieOf(await gw.signIn(OPS));
    const foreign = await gw.request('/admin/session', {
      method: 'DELETE',
      headers: { cookie, origin: 'https://evil.example' },
    });
    expect(foreign.status).toBe(403);
    const out = await gw.request('/admin/session', {
      method: 'DELETE',
      headers: { cookie, origin: HOST },
    });
    expect(out.status).toBe(204);
    const cleared = out.headers.get('set-cookie')!;
    expect(cleared).toMatch(/^gw_console=;/);
    expect(cleared).toContain('Max-Age=0');
    expect(cleared).toContain('Path=/admin');
    // Without a cookie there is nothing to protect: still 204.
    expect((await gw.request('/admin/session', { method: 'DELETE' })).status).toBe(204);
    expect((await gw.request('/admin/session', { method: 'PUT' })).status).toBe(405);
  });
});
