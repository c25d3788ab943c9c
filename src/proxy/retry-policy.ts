import type { RetryPolicy } from '../config/index.ts';

/**
 * What to do after an upstream attempt failed. Pure functions, no I/O.
 *
 * - `retry`: the same target may succeed if asked again (connect errors, timeouts, 408, 409,
 *   429, 5xx): back off and retry, then fall back to the next target.
 * - `fallback`: this target cannot serve the request but another may (401/403: our key for
 *   that provider is wrong; 404: that provider lacks the model): skip to the next target.
 * - `reject`: the request itself is wrong (400, 413, 422...): every target would refuse it,
 *   so the upstream's error goes back to the client now.
 */
export type FailureAction = 'retry' | 'fallback' | 'reject';

export function actionForStatus(status: number): FailureAction {
  if (status === 408 || status === 409 || status === 429 || status >= 500) return 'retry';
  if (status === 401 || status === 403 || status === 404) return 'fallback';
  return 'reject';
}

/**
 * Delay before retry number `attempt` (1-based) on the same target: the upstream's
 * `retry-after` when it gave one, else exponential backoff with full jitter
 * (random in [0, min(max, base * 2^(attempt-1))]). Returns undefined when the upstream asks
 * for a longer wait than `maxDelayMs`: better to fall back to the next target than to stall.
 */
export function retryDelayMs(
  attempt: number,
  policy: RetryPolicy,
  retryAfterMs: number | undefined,
  random: () => number = Math.random,
): number | undefined {
  if (retryAfterMs !== undefined) {
    return retryAfterMs <= policy.maxDelayMs ? retryAfterMs : undefined;
  }
  const ceiling = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** (attempt - 1));
  return Math.floor(random() * ceiling);
}

/**
 * The wait an upstream asked for: `retry-after-ms` (OpenAI, Azure) wins over `retry-after`
 * (seconds or an HTTP date). Undefined when absent or unparseable.
 */
export function parseRetryAfter(headers: Headers, now: number = Date.now()): number | undefined {
  const ms = headers.get('retry-after-ms');
  if (ms !== null && ms.trim() !== '') {
    const value = Number(ms);
    if (Number.isFinite(value) && value >= 0) return Math.ceil(value);
  }
  const after = headers.get('retry-after');
  if (after === null || after.trim() === '') return undefined;
  const seconds = Number(after);
  if (Number.isFinite(seconds)) return seconds >= 0 ? Math.ceil(seconds * 1000) : undefined;
  const date = Date.parse(after);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}
