/** Shared state: the Upstash Redis client (./redis.ts). */
export { createRedis, type Redis } from './redis.ts';
