import type { Redis } from '../store/index.ts';
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
  const keys = [`gw:usage:model:${event.model}:${day}`];
  if (event.keyId)
    keys.push(`gw:usage:key:${event.keyId}:${month}`, `gw:usage:key:${event.keyId}:${day}`);
  if (event.tenant) keys.push(`gw:usage:tenant:${event.tenant}:${day}`);
  return keys;
}

/**
 * Plain commands rather than an explicit pipeline: the client auto-pipelines (see
 * src/store/redis.ts), so these go out in one HTTP request together with the rest of the
 * settlement issued in the same tick (budget settle, token refund, and the settlements of
 * other requests batched with it by `writeBehind`) instead of one each.
 */
export async function recordUsage(redis: Redis, event: UsageEvent): Promise<void> {
  const writes: Promise<unknown>[] = [];
  for (const key of usageKeys(event)) {
    writes.push(
      redis.hincrby(key, 'requests', 1),
      redis.hincrby(key, 'prompt_tokens', event.usage.prompt_tokens),
      redis.hincrby(key, 'completion_tokens', event.usage.completion_tokens),
      redis.hincrby(key, 'cached_tokens', event.usage.cached_tokens ?? 0),
      redis.hincrby(key, 'cost_nanos', event.costNanos),
      redis.expire(key, RETENTION_SECONDS),
    );
  }
  await Promise.all(writes);
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
