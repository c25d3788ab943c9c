/**
 * Rate-limit response headers in OpenAI's format (pure):
 * `x-ratelimit-{limit,remaining,reset}-{requests,tokens}`, resets as durations like `1s`,
 * `6m0s`, `17ms`, which is what OpenAI sends and clients already parse.
 */
export interface LimitState {
  limit: number;
  remaining: number;
  /** Epoch ms when the window or bucket resets. */
  reset: number;
}

export function formatDuration(ms: number): string {
  const clamped = Math.max(0, Math.ceil(ms));
  if (clamped < 1_000) return `${clamped}ms`;
  const totalSeconds = Math.ceil(clamped / 1_000);
  const minutes = Math.floor(totalSeconds / 60);
  const seconds = totalSeconds % 60;
  return minutes > 0 ? `${minutes}m${seconds}s` : `${seconds}s`;
}

export function rateLimitHeaders(
  kind: 'requests' | 'tokens',
  state: LimitState,
  now: number = Date.now(),
): Record<string, string> {
  return {
    [`x-ratelimit-limit-${kind}`]: String(state.limit),
    [`x-ratelimit-remaining-${kind}`]: String(Math.max(0, state.remaining)),
    [`x-ratelimit-reset-${kind}`]: formatDuration(state.reset - now),
  };
}

/** Whole seconds until `reset`, at least 1: the `retry-after` of a 429. */
export function retryAfterSeconds(reset: number, now: number = Date.now()): number {
  return Math.max(1, Math.ceil((reset - now) / 1_000));
}
