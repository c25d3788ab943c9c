import type { CacheConfig } from '../config/index.ts';
import type { NativeAnswer } from '../proxy/native.ts';
import { type Redis, redisKeys } from '../store/index.ts';

/**
 * The two cache tiers. First the colo-local Cache API (a synthetic GET URL per key, free and
 * fast, but only in this data center), then Upstash Redis (shared worldwide); a Redis hit
 * fills the local tier. Purges bump a generation number that is part of every cache key, so
 * a purge reaches every colo's local tier too (within `generationCacheMs`), without listing
 * entries anywhere.
 */
export interface CacheEntry {
  v: 1;
  /** Epoch ms, for the `age` header. */
  createdAt: number;
  /** The non-streamed response (or one assembled from the stream). */
  body: Record<string, unknown>;
  /** The stream's `data` strings, when the entry was stored from a stream. */
  chunks?: string[];
  /** The answer in the client's own format, when a target took that format as is
   * (`/v1/messages` to Anthropic): replayed as stored. */
  native?: NativeAnswer;
  /** Who answered, to price a hit when `cache.chargeHits` is on. */
  served?: { provider: string; upstreamModel: string };
}

export interface Tiers {
  local: boolean;
  redis: boolean;
}

const LOCAL_ORIGIN = 'https://gateway-cache.internal';

export class ResponseCache {
  readonly #read: Redis | undefined;
  readonly #write: Redis | undefined;
  readonly #config: CacheConfig;
  readonly #generations = new Map<string, { value: number; until: number }>();

  constructor(read: Redis | undefined, write: Redis | undefined, config: CacheConfig) {
    this.#read = read;
    this.#write = write;
    this.#config = config;
  }

  /** Purge generations of a scope and a model (0 when never purged or Redis is away). */
  async generations(scope: string, model: string): Promise<number[]> {
    const names = [redisKeys.cache.scopeGeneration(scope), redisKeys.cache.modelGeneration(model)];
    const now = Date.now();
    const stale = names.filter((n) => !((this.#generations.get(n)?.until ?? 0) > now));
    if (stale.length > 0 && this.#read) {
      try {
        const values = await this.#read.mget<(number | string | null)[]>(...stale);
        stale.forEach((name, i) => {
          this.#generations.set(name, {
            value: Number(values[i] ?? 0),
            until: now + this.#config.generationCacheMs,
          });
        });
      } catch {
        // Unknown generation: fall through with the last known (or 0): at worst a miss.
      }
    }
    return names.map((n) => this.#generations.get(n)?.value ?? 0);
  }

  async get(
    key: string,
    tiers: Tiers,
  ): Promise<{ entry: CacheEntry; tier: 'local' | 'redis' } | undefined> {
    if (tiers.local) {
      const hit = await caches.default.match(new Request(`${LOCAL_ORIGIN}/${key}`));
      if (hit) return { entry: (await hit.json()) as CacheEntry, tier: 'local' };
    }
    if (tiers.redis && this.#read) {
      try {
        const raw = await this.#read.get<CacheEntry | string>(redisKeys.cache.entry(key));
        if (raw)
          return {
            entry: typeof raw === 'string' ? (JSON.parse(raw) as CacheEntry) : raw,
            tier: 'redis',
          };
      } catch {
        // A cache that cannot be read is a miss.
      }
    }
    return undefined;
  }

  /** Writes the local tier (and Redis, when allowed). `ttlSeconds` counts from `createdAt`. */
  async put(key: string, entry: CacheEntry, ttlSeconds: number, tiers: Tiers): Promise<void> {
    const json = JSON.stringify(entry);
    const remaining = Math.max(1, ttlSeconds - Math.floor((Date.now() - entry.createdAt) / 1000));
    const work: Promise<unknown>[] = [];
    if (tiers.local) {
      const response = new Response(json, {
        headers: { 'content-type': 'application/json', 'cache-control': `max-age=${remaining}` },
      });
      work.push(caches.default.put(new Request(`${LOCAL_ORIGIN}/${key}`), response));
    }
    if (tiers.redis && this.#write)
      work.push(this.#write.set(redisKeys.cache.entry(key), json, { ex: remaining }));
    await Promise.all(work);
  }

  /** Makes every entry of a scope and/or a model unreachable, everywhere. */
  async purge(target: { scope?: string; model?: string }): Promise<void> {
    if (!this.#write) return;
    const names = [
      ...(target.scope ? [redisKeys.cache.scopeGeneration(target.scope)] : []),
      ...(target.model ? [redisKeys.cache.modelGeneration(target.model)] : []),
    ];
    for (const name of names) {
      await this.#write.incr(name);
      this.#generations.delete(name);
    }
  }
}
