/**
 * Browser access. Contract: `browserAccess()` (mounted before auth on the client API) answers
 * a preflight (`OPTIONS` with `Origin` and `Access-Control-Request-Method`) at once, with the
 * allowed methods and headers when some list could allow the origin (the config's global
 * and tenant lists, or an origin some key names: `gw:cors:origins`, read through a short
 * isolate cache), else with no CORS headers, so the browser stops there. Every other answer
 * gets `access-control-allow-origin` (the origin itself, never `*`) and the exposed headers
 * only when the origin is allowed for the caller: global list, its tenant's, its key's.
 * Policy: ./policy.ts.
 */
import type { MiddlewareHandler } from 'hono';
import type { AppEnv } from '../context.ts';
import { type Redis, redisKeys } from '../store/index.ts';
import { corsHeaders, originAllowed, preflightHeaders } from './policy.ts';

export { ORIGIN, originAllowed } from './policy.ts';

const KEY_ORIGINS_CACHE_MS = 10_000;

export function browserAccess(): MiddlewareHandler<AppEnv> {
  const known = new Map<string, { allowed: boolean; until: number }>();

  async function namedByAKey(redis: Redis | undefined, origin: string): Promise<boolean> {
    const hit = known.get(origin);
    if (hit && hit.until > Date.now()) return hit.allowed;
    let allowed = false;
    try {
      allowed = redis
        ? (await redis.sismember(redisKeys.corsOrigins, origin.toLowerCase())) === 1
        : false;
    } catch {
      return false; // unknown: no CORS headers (the browser blocks); nothing else fails
    }
    if (known.size > 10_000) known.clear();
    known.set(origin, { allowed, until: Date.now() + KEY_ORIGINS_CACHE_MS });
    return allowed;
  }

  return async function browserAccess(c, next) {
    const origin = c.req.header('origin');
    const { config, redis } = c.get('deps');
    const { cors, tenants } = config;
    if (c.req.method === 'OPTIONS' && origin && c.req.header('access-control-request-method')) {
      const tenantLists = Object.values(tenants).map((t) => t.corsOrigins);
      const allowed =
        originAllowed(origin, cors.origins, ...tenantLists) || (await namedByAKey(redis, origin));
      return c.body(null, 204, {
        ...(allowed ? preflightHeaders(origin, cors.maxAgeSeconds) : {}),
        vary: 'origin',
      });
    }
    await next();
    if (!origin) return;
    c.res.headers.append('vary', 'origin');
    const key = c.get('apiKey');
    const tenant = key && Object.hasOwn(tenants, key.tenant) ? tenants[key.tenant] : undefined;
    if (originAllowed(origin, cors.origins, tenant?.corsOrigins, key?.allowedOrigins)) {
      for (const [name, value] of Object.entries(corsHeaders(origin)))
        c.res.headers.set(name, value);
    }
  };
}
