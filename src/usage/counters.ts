import { type Redis, redisKeys, scriptFor } from '../store/index.ts';
import type { Usage } from './index.ts';

/**
 * Usage counters for dashboards and the admin usage route, one Redis hash per scope and
 * period: requests, prompt_tokens, completion_tokens, cached_tokens, cost_nanos.
 *
 *   gw:usage:key:<keyId>:<YYYY-MM>     gw:usage:key:<keyId>:<YYYY-MM-DD>
 *   gw:usage:tenant:<tenant>:<YYYY-MM-DD>
 *   gw:usage:model:<model>:<YYYY-MM-DD>
 */
const RETENTION_SECONDS = 400 * 24 * 3600;

export interface UsageEvent {
  keyId: string | undefined;
  tenant: string | undefined;
  model: string;
  usage: Usage;
  costNanos: number;
  at: Date;
}

export function periods(at: Date): { day: string; month: string } {
  const day = at.toISOString().slice(0, 10);
  return { day, month: day.slice(0, 7) };
}

export function usageKeys(event: UsageEvent): string[] {
  const { day, month } = periods(event.at);
  const { usage } = redisKeys;
  const keys = [usage.model(event.model, day)];
  if (event.keyId) keys.push(usage.key(event.keyId, month), usage.key(event.keyId, day));
  if (event.tenant) keys.push(usage.tenant(event.tenant, day));
  return keys;
}

/** Adds one request's usage to every hash of `KEYS` and renews their TTL. */
const RECORD = `
for _, key in ipairs(KEYS) do
  redis.call('HINCRBY', key, 'requests', 1)
  redis.call('HINCRBY', key, 'prompt_tokens', ARGV[1])
  redis.call('HINCRBY', key, 'completion_tokens', ARGV[2])
  redis.call('HINCRBY', key, 'cached_tokens', ARGV[3])
  redis.call('HINCRBY', key, 'cost_nanos', ARGV[4])
  redis.call('EXPIRE', key, ARGV[5])
end
return #KEYS
`;

/**
 * One Lua script (EVALSHA) for all of a request's counters: one command in the client's
 * auto-pipeline batch rather than six per hash (24 for a keyed request), each of which the
 * client builds, serializes and decodes the answer of (see bench/README.md, callgrind). It
 * goes out in one HTTP request together with the rest of the settlement issued in the same
 * tick (budget settle, token refund, and the settlements of other requests batched with it
 * by `writeBehind`).
 */
export async function recordUsage(redis: Redis, event: UsageEvent): Promise<void> {
  const { usage, costNanos } = event;
  await scriptFor<number>(redis, RECORD).exec(usageKeys(event), [
    String(usage.prompt_tokens),
    String(usage.completion_tokens),
    String(usage.cached_tokens ?? 0),
    String(costNanos),
    String(RETENTION_SECONDS),
  ]);
}

export interface UsageTotals {
  requests: number;
  prompt_tokens: number;
  completion_tokens: number;
  cached_tokens: number;
  cost_nanos: number;
}

export async function readUsage(redis: Redis, key: string): Promise<UsageTotals> {
  const raw = (await redis.hgetall<Record<string, number | string>>(key)) ?? {};
  const n = (name: string) => Number(raw[name] ?? 0);
  return {
    requests: n('requests'),
    prompt_tokens: n('prompt_tokens'),
    completion_tokens: n('completion_tokens'),
    cached_tokens: n('cached_tokens'),
    cost_nanos: n('cost_nanos'),
  };
}
