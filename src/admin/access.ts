import type { Context } from 'hono';
import { presentedKey } from '../auth/middleware.ts';
import type { GatewayConfig } from '../config/index.ts';
import type { AppEnv } from '../context.ts';
import { errors, GatewayError } from '../errors.ts';
import { retryAfterSeconds } from '../limits/headers.ts';
import { adminFailureLimiter } from '../limits/ratelimit.ts';
import { readSession } from './session-cookie.ts';
import { matchAdminToken } from './token.ts';

/** Who calls the admin API: a configured token's name, the tenant it is limited to (null: a
 * full admin), and whether it came as a bearer token or as a console session cookie. */
export interface AdminCaller {
  actor: string;
  tenant: string | null;
  via: 'token' | 'session';
}

/** The admin credential `token` is: a full admin token (`admin.tokens`) first, else a
 * tenant-scoped one (`admin.tenantTokens`). */
export async function callerForToken(
  token: string,
  config: GatewayConfig,
): Promise<AdminCaller | undefined> {
  const actor = await matchAdminToken(token, config.admin.tokens);
  if (actor) return { actor, tenant: null, via: 'token' };
  const scoped = config.admin.tenantTokens;
  const name = await matchAdminToken(
    token,
    Object.fromEntries(Object.entries(scoped).map(([n, t]) => [n, t.token])),
  );
  return name ? { actor: name, tenant: scoped[name]!.tenant, via: 'token' } : undefined;
}

/**
 * The failed-authentication limit per client address (`admin.failedAuthPerMinute`, counted
 * in Redis across isolates): 429 at once when the address is locked out (so a right guess
 * from it is refused like a wrong one); `countFailure` after a wrong token.
 */
export async function failedAuthGuard<E extends AppEnv>(
  c: Context<E>,
): Promise<{
  countFailure(): Promise<void>;
}> {
  const { config, redis } = c.var.deps;
  const limiter = redis && adminFailureLimiter(redis, config.admin.failedAuthPerMinute);
  const address = c.req.header('cf-connecting-ip') ?? 'unknown';
  if (limiter) {
    const { remaining, reset } = await limiter.getRemaining(address).catch(() => {
      throw adminUnavailable();
    });
    if (remaining <= 0) throw errors.adminLockedOut(retryAfterSeconds(reset));
  }
  return {
    countFailure: async () => {
      if (limiter) await limiter.limit(address).catch(() => undefined);
    },
  };
}

/**
 * Authenticates an admin request: the bearer token when one is presented (a wrong one is
 * a 401 counted toward the lockout, whatever cookie comes with it), else the console session
 * cookie (expired or tampered: 401). A session's state-changing requests must come from the
 * gateway's own origin (CSRF). `tenants: 'refuse'`: tenant-scoped callers get 403.
 */
export async function authenticateAdmin<E extends AppEnv>(
  c: Context<E>,
  tenants: 'allow' | 'refuse',
): Promise<AdminCaller> {
  const guard = await failedAuthGuard(c);
  const presented = presentedKey(c.req.raw.headers);
  let caller: AdminCaller | undefined;
  if (presented) {
    caller = await callerForToken(presented, c.var.deps.config);
    if (!caller) await guard.countFailure();
  } else {
    const session = await readSession(c);
    if (session) {
      requireSameOrigin(c);
      caller = { actor: session.actor, tenant: session.tenant, via: 'session' };
    }
  }
  if (!caller) throw errors.adminUnauthorized();
  if (caller.tenant !== null && tenants === 'refuse') {
    throw new GatewayError(
      403,
      'This admin credential is limited to one tenant: it reads only /admin/requests and /admin/usage.',
      { code: 'admin_forbidden' },
    );
  }
  return caller;
}

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

/**
 * CSRF rule for cookie-authenticated requests: anything but GET/HEAD/OPTIONS must carry an
 * `Origin` equal to the request URL's origin, or `Sec-Fetch-Site: same-origin`. Hand-written
 * rather than `hono/csrf`, which checks only form and text/plain bodies (a JSON body passes
 * unchecked) and answers a plain-text 403 instead of our error shape.
 */
export function requireSameOrigin<E extends AppEnv>(c: Context<E>): void {
  if (SAFE_METHODS.has(c.req.method)) return;
  if (c.req.header('sec-fetch-site') === 'same-origin') return;
  if (c.req.header('origin') === new URL(c.req.url).origin) return;
  throw new GatewayError(
    403,
    "A console session's changes must come from the gateway's own origin (the Origin header did not match).",
    { code: 'origin_mismatch' },
  );
}

export function adminUnavailable(): GatewayError {
  return new GatewayError(
    503,
    'The admin API needs Redis (config `redis`), which cannot be reached.',
    {
      code: 'admin_unavailable',
      headers: { 'retry-after': '1' },
    },
  );
}
