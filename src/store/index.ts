/** Shared state: every Redis key name (./keys.ts), the Upstash Redis clients (./redis.ts),
 * objects kept per client, Lua scripts (./script.ts) and settlement writes batched per
 * isolate (./write-behind.ts). */
export { redisKeys } from './keys.ts';
export { perClient } from './per-client.ts';
export { createRedis, type Redis, type RedisClients } from './redis.ts';
export { type Script, scriptFor } from './script.ts';
export { WRITE_BEHIND_MS, writeBehind } from './write-behind.ts';
