import type { Context } from 'hono';
import { deleteCookie, getCookie, getSignedCookie, setSignedCookie } from 'hono/cookie';
import type { GatewayConfig } from '../config/index.ts';
import type { AppEnv } from '../context.ts';

/**
 * The operator console's session: a cookie holding the actor, its tenant scope and the
 * expiry, signed by Hono's cookie helper (HMAC-SHA256). The key is `ADMIN_SESSION_SECRET`
 * when set, else derived from the configured admin tokens (zero config, and rotating the
 * tokens ends every session). Only the server reads it (HttpOnly), only same-site requests
 * carry it (SameSite=Strict), only to /admin.
 */
export const SESSION_COOKIE = 'gw_console';
const COOKIE_PATH = '/admin';

export interface ConsoleSession {
  actor: string;
  /** The tenant a tenant-scoped token's session is limited to; null: a full admin. */
  tenant: string | null;
  /** Epoch ms. */
  expiresAt: number;
}

const payloadShape = (v: unknown): v is { a: string; t: string | null; e: number } => {
  const p = v as { a?: unknown; t?: unknown; e?: unknown } | null;
  return (
    !!p &&
    typeof p.a === 'string' &&
    (p.t === null || typeof p.t === 'string') &&
    typeof p.e === 'number'
  );
};

/** The session of a valid, unexpired cookie whose actor is still configured (with the same
 * scope); anything else (none, tampered, expired, a removed token): undefined. */
export async function readSession<E extends AppEnv>(
  c: Context<E>,
  now = Date.now(),
): Promise<ConsoleSession | undefined> {
  const { config, sessionSecret } = c.var.deps;
  if (!getCookie(c, SESSION_COOKIE)) return undefined;
  const value = await getSignedCookie(c, await signingKey(config, sessionSecret), SESSION_COOKIE);
  if (!value) return undefined;
  let payload: unknown;
  try {
    payload = JSON.parse(value);
  } catch {
    return undefined;
  }
  if (!payloadShape(payload) || payload.e <= now) return undefined;
  const configured =
    payload.t === null
      ? Object.hasOwn(config.admin.tokens, payload.a)
      : Object.hasOwn(config.admin.tenantTokens, payload.a) &&
        config.admin.tenantTokens[payload.a]!.tenant === payload.t;
  return configured ? { actor: payload.a, tenant: payload.t, expiresAt: payload.e } : undefined;
}

export async function writeSession(c: Context<AppEnv>, session: ConsoleSession): Promise<void> {
  const { config, sessionSecret } = c.var.deps;
  const value = JSON.stringify({ a: session.actor, t: session.tenant, e: session.expiresAt });
  await setSignedCookie(c, SESSION_COOKIE, value, await signingKey(config, sessionSecret), {
    ...cookieFlags(c),
    maxAge: config.admin.sessionTtlSeconds,
  });
}

export function clearSession(c: Context<AppEnv>): void {
  deleteCookie(c, SESSION_COOKIE, cookieFlags(c));
}

export function hasSessionCookie(c: Context<AppEnv>): boolean {
  return getCookie(c, SESSION_COOKIE) !== undefined;
}

const LOCAL_HOSTS = new Set(['localhost', '127.0.0.1', '[::1]']);

/** Secure everywhere but on a loopback host (`npm run dev` over plain http). */
function cookieFlags(c: Context<AppEnv>) {
  return {
    path: COOKIE_PATH,
    httpOnly: true,
    sameSite: 'Strict' as const,
    secure: !LOCAL_HOSTS.has(new URL(c.req.url).hostname),
  };
}

const derivedKeys = new WeakMap<GatewayConfig, Promise<ArrayBuffer>>();

/** The HMAC key: the configured secret, or HKDF (Web Crypto) over every admin token. */
function signingKey(
  config: GatewayConfig,
  secret: string | undefined,
): Promise<string | ArrayBuffer> {
  if (secret) return Promise.resolve(secret);
  let key = derivedKeys.get(config);
  if (!key) {
    key = deriveFromTokens(config);
    derivedKeys.set(config, key);
  }
  return key;
}

async function deriveFromTokens(config: GatewayConfig): Promise<ArrayBuffer> {
  const sorted = (entries: [string, string][]) => entries.sort(([a], [b]) => (a < b ? -1 : 1));
  const material = JSON.stringify([
    sorted(Object.entries(config.admin.tokens)),
    sorted(
      Object.entries(config.admin.tenantTokens).map(([n, t]) => [n, `${t.tenant}\n${t.token}`]),
    ),
  ]);
  const encode = (s: string) => new TextEncoder().encode(s);
  const base = await crypto.subtle.importKey('raw', encode(material), 'HKDF', false, [
    'deriveBits',
  ]);
  return crypto.subtle.deriveBits(
    { name: 'HKDF', hash: 'SHA-256', salt: encode('gw-console-session'), info: encode('v1') },
    base,
    256,
  );
}
