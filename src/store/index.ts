/** Shared state: the Upstash Redis clients (./redis.ts) and objects kept per client. */
export { perClient } from './per-client.ts';
export { createRedis, type Redis, type RedisClients } from './redis.ts';
