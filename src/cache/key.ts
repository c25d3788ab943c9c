/**
 * The exact-match cache key: SHA-256 over the normalized request. Normalized = parsed JSON
 * with keys sorted at every depth (so field order and whitespace do not matter), without the
 * fields that do not change the answer (`stream`, `stream_options`, `user`), plus the scope
 * (tenant, key or global), the endpoint and the public model name, and the purge generations.
 * Pure (Web Crypto only).
 */
const IGNORED = new Set(['stream', 'stream_options', 'user']);

export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value ?? null);
}

export interface CacheKeyInput {
  scope: string;
  endpoint: string;
  body: Record<string, unknown>;
  /** Purge generations (scope, model): bumping one changes every key under it. */
  generations: readonly number[];
}

export async function cacheKey(input: CacheKeyInput): Promise<string> {
  const request = Object.fromEntries(Object.entries(input.body).filter(([k]) => !IGNORED.has(k)));
  const text = canonicalJson({
    v: 1,
    scope: input.scope,
    endpoint: input.endpoint,
    generations: input.generations,
    request,
  });
  const hash = await crypto.subtle.digest('SHA-256', new TextEncoder().encode(text));
  return [...new Uint8Array(hash)].map((b) => b.toString(16).padStart(2, '0')).join('');
}
