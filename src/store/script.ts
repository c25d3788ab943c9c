import { perClient } from './per-client.ts';
import type { Redis } from './redis.ts';

export interface Script<T> {
  exec(keys: string[], args: string[]): Promise<T>;
}

/**
 * A Lua script run with EVALSHA, falling back to EVAL on NOSCRIPT (@upstash/redis's
 * `createScript`). One Script per client and source, made once: a new Script hashes its
 * source (SHA-1, async) before its first EVALSHA, which also made the call miss the client's
 * auto-pipeline batch (one HTTP request for the commands issued together).
 */
export function scriptFor<T>(redis: Redis, source: string): Script<T> {
  return perClient(redis, `script:${source}`, () => redis.createScript<T>(source));
}
