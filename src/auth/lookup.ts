import { digestKey, type KeyRecord } from './keys.ts';
import type { KeyStore } from './store.ts';

/**
 * Key lookups with a short in-isolate cache, hits and misses alike (misses too, so guessing
 * keys cannot hammer Redis). `ttlMs` (config `auth.keyCacheTtlMs`, default 10 s) is also the
 * longest a revocation takes to reach every isolate; the isolate that revokes a key forgets
 * it at once.
 */
export class KeyLookup {
  readonly #store: KeyStore;
  readonly #ttlMs: number;
  readonly #now: () => number;
  readonly #cache = new Map<string, { record: KeyRecord | null; until: number }>();
  /** Concurrent misses for one key share a single Redis read. */
  readonly #inflight = new Map<string, Promise<KeyRecord | null>>();

  constructor(store: KeyStore, ttlMs: number, now: () => number = Date.now) {
    this.#store = store;
    this.#ttlMs = ttlMs;
    this.#now = now;
  }

  async find(key: string): Promise<KeyRecord | null> {
    const digest = await digestKey(key);
    const hit = this.#cache.get(digest);
    const now = this.#now();
    if (hit && hit.until > now) return hit.record;
    let pending = this.#inflight.get(digest);
    if (!pending) {
      pending = this.#store.findByDigest(digest).finally(() => this.#inflight.delete(digest));
      this.#inflight.set(digest, pending);
    }
    const record = await pending;
    if (this.#ttlMs > 0) {
      if (this.#cache.size > 10_000) this.#cache.clear();
      this.#cache.set(digest, { record, until: now + this.#ttlMs });
    }
    return record;
  }

  /** Drops a key from this isolate's cache (after an admin change). */
  forget(id: string): void {
    for (const [digest, entry] of this.#cache) {
      if (entry.record?.id === id) this.#cache.delete(digest);
    }
  }
}
