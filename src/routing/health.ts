import type { RoutingConfig } from '../config/index.ts';
import type { AttemptFailure } from '../proxy/attempt.ts';
import { type Redis, redisKeys } from '../store/index.ts';

/**
 * Shared health of upstream targets, so every isolate agrees:
 * - passive: `failureThreshold` failures of a provider within `windowMs` open its circuit
 *   for `cooldownMs` (`gw:fail:<id>` counter, `gw:circuit:<id>` flag with a TTL);
 * - active: the cron probe writes `gw:probe:<id>` while an endpoint answers badly.
 * Reads are cached in the isolate for `healthCacheMs`; a Redis error reads as "healthy":
 * health only reorders targets, it must never fail a request.
 */
export class HealthBook {
  readonly #read: Redis | undefined;
  readonly #write: Redis | undefined;
  readonly #config: RoutingConfig;
  readonly #now: () => number;
  readonly #cache = new Map<string, { down: boolean; until: number }>();

  constructor(
    read: Redis | undefined,
    write: Redis | undefined,
    config: RoutingConfig,
    now = Date.now,
  ) {
    this.#read = read;
    this.#write = write;
    this.#config = config;
    this.#now = now;
  }

  /** The providers among `ids` whose circuit is open or whose last probe failed. */
  async unhealthy(ids: readonly string[]): Promise<Set<string>> {
    const now = this.#now();
    const unknown = ids.filter((id) => !((this.#cache.get(id)?.until ?? 0) > now));
    if (unknown.length > 0 && this.#read) {
      try {
        const keys = unknown.flatMap((id) => [
          redisKeys.health.circuit(id),
          redisKeys.health.probe(id),
        ]);
        const values = await this.#read.mget<(string | number | null)[]>(...keys);
        unknown.forEach((id, i) => {
          const down = values[2 * i] !== null || values[2 * i + 1] !== null;
          this.#cache.set(id, { down, until: now + this.#config.healthCacheMs });
        });
      } catch {
        // Unknown health is treated as healthy (see above).
      }
    }
    return new Set(ids.filter((id) => this.#cache.get(id)?.down));
  }

  /** Counts a failure; opens the circuit everywhere when the threshold is reached. */
  async recordFailure(id: string): Promise<void> {
    if (!this.#write) return;
    const { failureThreshold, windowMs, cooldownMs } = this.#config.circuit;
    const key = redisKeys.health.failures(id);
    const tx = this.#write.multi();
    tx.incr(key);
    tx.pexpire(key, windowMs, 'NX');
    const [count] = (await tx.exec()) as [number, number];
    if (count >= failureThreshold) {
      await this.#write.set(redisKeys.health.circuit(id), 1, { px: cooldownMs });
      await this.#write.del(key);
      this.#cache.set(id, { down: true, until: this.#now() + this.#config.healthCacheMs });
    }
  }

  /** The cron probe's verdict on one endpoint; a failure keeps it down for `ttlMs`. */
  async recordProbe(id: string, ok: boolean, ttlMs: number): Promise<void> {
    if (!this.#write) return;
    if (ok) await this.#write.del(redisKeys.health.probe(id));
    else await this.#write.set(redisKeys.health.probe(id), 'down', { px: ttlMs });
  }
}

/**
 * Whether a failed attempt says the target itself is unwell: connect errors, timeouts and
 * 5xx always; a 429 only from our own origin (load shedding), since a cloud provider's 429
 * is usually one key's quota. Pure.
 */
export function tripsCircuit(failure: AttemptFailure, providerKind: string): boolean {
  if (
    failure.reason === 'timeout' ||
    failure.reason === 'network' ||
    failure.reason === 'bad_response'
  )
    return true;
  if (failure.reason !== 'status' || failure.status === undefined) return false;
  return failure.status >= 500 || (failure.status === 429 && providerKind === 'origin');
}
