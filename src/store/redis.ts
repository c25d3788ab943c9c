import { Redis } from '@upstash/redis/cloudflare';
import type { GatewayConfig } from '../config/index.ts';

/**
 * The Upstash Redis client shared by keys, limits, spend and the admin API. Each command gets
 * its own deadline (`redis.timeoutMs`) and one quick retry: past that the caller decides
 * (fail open or closed), rather than the client's default of five retries with backoff.
 */
export function createRedis(config: GatewayConfig): Redis | undefined {
  if (!config.redis) return undefined;
  const { url, token, timeoutMs } = config.redis;
  return new Redis({
    url,
    token,
    retry: { retries: 1, backoff: () => 20 },
    signal: () => AbortSignal.timeout(timeoutMs),
    enableTelemetry: false,
  });
}

export type { Redis };
