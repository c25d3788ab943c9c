import { Redis } from '@upstash/redis/cloudflare';
import type { GatewayConfig } from '../config/index.ts';

/**
 * The Upstash Redis clients shared by keys, limits, spend and the admin API.
 * - `foreground`: on the request path. Each command gets its own deadline (`redis.timeoutMs`)
 *   and one quick retry; past that the caller decides (fail open or closed), rather than the
 *   client's default of five retries with backoff.
 * - `background`: settlement writes after the response (spend, refunds, counters), where
 *   losing a write loses money: 10x the deadline and three retries.
 * Both auto-pipeline (the client's default, set here because the request path relies on it):
 * commands issued in the same tick share one HTTP request, e.g. the rpm, tpm and budget
 * checks of `admit`, and the counters, budget settle and token refund of a settlement.
 */
export interface RedisClients {
  foreground: Redis;
  background: Redis;
}

export function createRedis(config: GatewayConfig): RedisClients | undefined {
  if (!config.redis) return undefined;
  const { url, token, timeoutMs } = config.redis;
  const client = (deadline: number, retries: number) =>
    new Redis({
      url,
      token,
      retry: { retries, backoff: (n) => 20 * 2 ** n },
      signal: () => AbortSignal.timeout(deadline),
      enableTelemetry: false,
      enableAutoPipelining: true,
    });
  return { foreground: client(timeoutMs, 1), background: client(timeoutMs * 10, 3) };
}

export type { Redis };
