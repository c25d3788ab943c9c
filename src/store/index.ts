/** Shared state: the Upstash Redis client (./redis.ts). */
export { createRedis, type Redis, type RedisClients } from './redis.ts';
