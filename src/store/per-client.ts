import type { Redis } from './redis.ts';

const made = new WeakMap<Redis, Map<string, unknown>>();

/**
 * One object per (Redis client, id), made on first use and kept for the isolate's life: rate
 * limiters (their ephemeral cache must survive between requests) and Lua scripts (a new one
 * hashes its source before its first EVALSHA).
 */
export function perClient<T>(redis: Redis, id: string, make: () => T): T {
  let byId = made.get(redis);
  if (!byId) {
    byId = new Map();
    made.set(redis, byId);
  }
  if (!byId.has(id)) byId.set(id, make());
  return byId.get(id) as T;
}
