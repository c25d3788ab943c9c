import { Ratelimit } from '@upstash/ratelimit';
import { perClient, type Redis, redisKeys } from '../store/index.ts';

/**
 * Per-key limiters from @upstash/ratelimit: requests per minute as a sliding window, tokens
 * per minute as a token bucket refilled every second (so capacity returns smoothly, not in
 * one lump at the minute). Limiters live at module scope, one per (Redis client, limit)
 * (`perClient`), so their `ephemeralCache` survives between requests in an isolate and
 * blocks a key that is over its limit without a Redis round trip. `timeout: 0`: no timer of
 * the library's own per call (by default it answers `success: true` after 5 s, failing open
 * whatever `limits.failMode` says); the Redis client's deadline and `guard` decide instead.
 */
export function requestLimiter(redis: Redis, perMinute: number): Ratelimit {
  return perClient(
    redis,
    `rpm:${perMinute}`,
    () =>
      new Ratelimit({
        redis,
        prefix: redisKeys.rateLimitPrefix.requests,
        limiter: Ratelimit.slidingWindow(perMinute, '1 m'),
        ephemeralCache: new Map(),
        analytics: false,
        timeout: 0,
      }),
  );
}

export function tokenLimiter(redis: Redis, perMinute: number): Ratelimit {
  const refillPerSecond = Math.max(1, Math.floor(perMinute / 60));
  return perClient(
    redis,
    `tpm:${perMinute}`,
    () =>
      new Ratelimit({
        redis,
        prefix: redisKeys.rateLimitPrefix.tokens,
        limiter: Ratelimit.tokenBucket(refillPerSecond, '1 s', perMinute),
        // No ephemeral cache here: refunds must be able to reopen a bucket at once.
        ephemeralCache: false,
        analytics: false,
        timeout: 0,
      }),
  );
}

/** Failed admin authentications per client address: a sliding window, like requests/min. */
export function adminFailureLimiter(redis: Redis, perMinute: number): Ratelimit {
  return perClient(
    redis,
    `admin-fail:${perMinute}`,
    () =>
      new Ratelimit({
        redis,
        prefix: redisKeys.rateLimitPrefix.adminFailures,
        limiter: Ratelimit.slidingWindow(perMinute, '1 m'),
        ephemeralCache: false,
        analytics: false,
        timeout: 0,
      }),
  );
}
