/**
 * Browser access (CORS) policy. Pure. An origin is allowed when the config's global list, the
 * caller's tenant's list or the caller's key names it (exactly: scheme, host and port), or
 * when a list holds `*` (then the origin is echoed, never `*` itself, and credentials are
 * never allowed: the gateway authenticates with a key, not a cookie).
 */

/** Response headers a browser script may read. */
export const EXPOSED_HEADERS = [
  'x-request-id',
  'retry-after',
  'x-ratelimit-limit-requests',
  'x-ratelimit-remaining-requests',
  'x-ratelimit-reset-requests',
  'x-ratelimit-limit-tokens',
  'x-ratelimit-remaining-tokens',
  'x-ratelimit-reset-tokens',
  'x-gateway-cache',
  'x-gateway-provider',
  'x-gateway-region',
  'x-gateway-attempts',
  'x-gateway-cost-usd',
  'x-gateway-estimated',
].join(', ');

export const ALLOWED_METHODS = 'GET, POST, DELETE, OPTIONS';

/** Request headers the SDKs send from a browser (OpenAI's and Anthropic's included). */
export const ALLOWED_HEADERS = [
  'authorization',
  'content-type',
  'x-api-key',
  'x-request-id',
  'traceparent',
  'tracestate',
  'anthropic-version',
  'anthropic-beta',
  'anthropic-dangerous-direct-browser-access',
  'openai-organization',
  'openai-project',
  'x-stainless-arch',
  'x-stainless-lang',
  'x-stainless-os',
  'x-stainless-package-version',
  'x-stainless-retry-count',
  'x-stainless-runtime',
  'x-stainless-runtime-version',
  'x-stainless-timeout',
  'x-gateway-cache',
  'x-gateway-cache-ttl',
  'x-gateway-region',
  'x-gateway-priority',
].join(', ');

/** `https://app.example.com`: an origin as browsers send it (no path, no trailing slash). */
export const ORIGIN = /^https?:\/\/[a-z0-9.-]+(:\d{1,5})?$|^\*$/;

export function originAllowed(
  origin: string | undefined,
  ...lists: (readonly string[] | null | undefined)[]
): boolean {
  if (!origin || !ORIGIN.test(origin) || origin === '*') return false;
  const lower = origin.toLowerCase();
  return lists.some((list) => list?.some((o) => o === '*' || o.toLowerCase() === lower));
}

/** Headers of an answer to an allowed origin. */
export function corsHeaders(origin: string): Record<string, string> {
  return {
    'access-control-allow-origin': origin,
    'access-control-expose-headers': EXPOSED_HEADERS,
  };
}

/** Headers of a preflight answer to an allowed origin. */
export function preflightHeaders(origin: string, maxAgeSeconds: number): Record<string, string> {
  return {
    'access-control-allow-origin': origin,
    'access-control-allow-methods': ALLOWED_METHODS,
    'access-control-allow-headers': ALLOWED_HEADERS,
    'access-control-max-age': String(maxAgeSeconds),
  };
}
