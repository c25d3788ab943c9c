import type { MiddlewareHandler } from 'hono';
import type { AppEnv } from '../context.ts';
import { errors } from '../errors.ts';
import { annotateRequestLog } from '../observability/index.ts';
import { isUsable } from './keys.ts';

/**
 * The key a client presented: `Authorization: Bearer <key>` or `x-api-key`, else (WebSocket
 * upgrades from browsers, which cannot set headers) the subprotocol
 * `openai-insecure-api-key.<key>`. Two keys (two Authorization headers, which fetch joins
 * with ", ", or two headers that differ) are a 401 `ambiguous_api_key`: guessing which one
 * was meant could authenticate the wrong caller.
 */
export function presentedKey(headers: Headers): string | undefined {
  const authorization = headers.get('authorization');
  const apiKey = headers.get('x-api-key')?.trim() || undefined;
  if (authorization?.includes(',') || apiKey?.includes(',')) throw errors.ambiguousApiKey();
  const bearer = authorization?.match(/^Bearer\s+(\S+)\s*$/i)?.[1];
  if (bearer && apiKey && bearer !== apiKey) throw errors.ambiguousApiKey();
  return bearer ?? apiKey ?? subprotocolKey(headers);
}

export const KEY_SUBPROTOCOL = 'openai-insecure-api-key.';

function subprotocolKey(headers: Headers): string | undefined {
  if (headers.get('upgrade')?.toLowerCase() !== 'websocket') return undefined;
  const offered = headers.get('sec-websocket-protocol')?.split(',') ?? [];
  const entry = offered.map((p) => p.trim()).find((p) => p.startsWith(KEY_SUBPROTOCOL));
  return entry ? entry.slice(KEY_SUBPROTOCOL.length) || undefined : undefined;
}

/**
 * Authenticates gateway API keys on /v1 (when `auth.enabled`). Missing key: 401
 * `missing_api_key`; unknown, revoked, disabled or expired: the same 401 `invalid_api_key`.
 * If Redis cannot be reached and the key is not cached, 503: auth never fails open.
 */
export function apiKeyAuth(): MiddlewareHandler<AppEnv> {
  return async function apiKeyAuth(c, next) {
    const { config, keys } = c.get('deps');
    if (!config.auth.enabled || !keys) return next();
    const key = presentedKey(c.req.raw.headers);
    if (!key) throw errors.missingApiKey();
    let record: Awaited<ReturnType<typeof keys.find>>;
    try {
      record = await keys.find(key);
    } catch {
      throw errors.authUnavailable();
    }
    if (!record || !isUsable(record)) throw errors.invalidApiKey();
    c.set('apiKey', record);
    annotateRequestLog(c, { key_id: record.id, tenant: record.tenant });
    await next();
  };
}
