/** Shared state: the Upstash Redis clients (./redis.ts), objects kept per client, and
 * settlement writes batched per isolate (./write-behind.ts). */
export { perClient } from './per-client.ts';
export { createRedis, type Redis, type RedisClients } from './redis.ts';
export { WRITE_BEHIND_MS, writeBehind } from './write-behind.ts';
