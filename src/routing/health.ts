import type { RoutingConfig } from '../config/index.ts';
import type { AttemptFailure } from '../proxy/attempt.ts';
import { type Redis, redisKeys } from '../store/index.ts';

/** One cron probe verdict. */
export interface ProbeVerdict {
  /** ISO time the probe was sent. */
  at: string;
  ok: boolean;
  status: number | null;
  latencyMs: number;
  /** Why it failed without an answer (the error's name, e.g. TimeoutError); else null. */
  error: string | null;
}

export interface CircuitReport {
  /** `unknown`: Redis could not be read. */
  state: 'open' | 'closed' | 'unknown';
  since: string | null;
  until: string | null;
}

export interface HealthReport {
  circuit: CircuitReport;
  probes: ProbeVerdict[];
}

/** How many probe verdicts each endpoint's log keeps. */
export const PROBE_LOG_LENGTH = 10;
const CLOSED: CircuitReport = { state: 'closed', since: null, until: null };

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

  /** What the admin health document shows of each of `ids`: the circuit (open since when,
   * until when) and the probe's last verdicts, newest first. Read fresh (no isolate cache);
   * Redis errors propagate (the caller decides what an unreadable book means). */
  async report(ids: readonly string[]): Promise<Map<string, HealthReport>> {
    const reports = new Map<string, HealthReport>();
    if (!this.#read) {
      for (const id of ids) reports.set(id, { circuit: CLOSED, probes: [] });
      return reports;
    }
    const read = this.#read;
    const now = this.#now();
    await Promise.all(
      ids.map(async (id) => {
        const [opened, ttl, log] = await Promise.all([
          read.get<string | number>(redisKeys.health.circuit(id)),
          read.pttl(redisKeys.health.circuit(id)),
          read.lrange<ProbeVerdict | string>(
            redisKeys.health.probeLog(id),
            0,
            PROBE_LOG_LENGTH - 1,
          ),
        ]);
        const since = Number(opened);
        const circuit: CircuitReport =
          opened === null
            ? CLOSED
            : {
                state: 'open',
                // Circuits opened before this field existed hold 1, not a time.
                since: since > 1 ? new Date(since).toISOString() : null,
                until: ttl > 0 ? new Date(now + ttl).toISOString() : null,
              };
        const probes = log.map((v) =>
          typeof v === 'string' ? (JSON.parse(v) as ProbeVerdict) : v,
        );
        reports.set(id, { circuit, probes });
      }),
    );
    return reports;
  }

  /** Counts a failure; opens the circuit everywhere when the threshold is reached (then
   * resolves true). */
  async recordFailure(id: string): Promise<boolean> {
    if (!this.#write) return false;
    const { failureThreshold, windowMs, cooldownMs } = this.#config.circuit;
    const key = redisKeys.health.failures(id);
    const tx = this.#write.multi();
    tx.incr(key);
    tx.pexpire(key, windowMs, 'NX');
    const [count] = (await tx.exec()) as [number, number];
    if (count >= failureThreshold) {
      // The value is when it opened (the admin health document shows it).
      await this.#write.set(redisKeys.health.circuit(id), this.#now(), { px: cooldownMs });
      await this.#write.del(key);
      this.#cache.set(id, { down: true, until: this.#now() + this.#config.healthCacheMs });
      return true;
    }
    return false;
  }

  /** The cron probe's verdict on one endpoint; a failure keeps it down for `ttlMs`. Each
   * verdict also goes to the endpoint's short log (`gw:probe:log:<id>`, the last
   * PROBE_LOG_LENGTH, kept a day) for the admin health document. `markDown: false` logs
   * only (a region's own verdict, which marks its origin providers instead). */
  async recordProbe(
    id: string,
    verdict: ProbeVerdict,
    ttlMs: number,
    markDown = true,
  ): Promise<void> {
    if (!this.#write) return;
    const log = redisKeys.health.probeLog(id);
    const tx = this.#write.multi();
    if (markDown && verdict.ok) tx.del(redisKeys.health.probe(id));
    else if (markDown) tx.set(redisKeys.health.probe(id), 'down', { px: ttlMs });
    tx.lpush(log, JSON.stringify(verdict));
    tx.ltrim(log, 0, PROBE_LOG_LENGTH - 1);
    tx.pexpire(log, 86_400_000);
    await tx.exec();
  }
}

/**
 * Whether a failed attempt says the target itself is unwell: connect errors, timeouts and
 * 5xx always; a 429 only from our own origin (load shedding), since a cloud provider's 429
 * is usually one key's quota. A failure that refuses the request itself (action `reject`: a
 * 4xx, an answer too large) says nothing of the target. Pure.
 */
export function tripsCircuit(failure: AttemptFailure, providerKind: string): boolean {
  if (failure.action === 'reject') return false;
  if (
    failure.reason === 'timeout' ||
    failure.reason === 'network' ||
    failure.reason === 'bad_response'
  )
    return true;
  if (failure.reason !== 'status' || failure.status === undefined) return false;
  return failure.status >= 500 || (failure.status === 429 && providerKind === 'origin');
}
