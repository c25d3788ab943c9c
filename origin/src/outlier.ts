/**
 * Endpoint health, as two small pure state machines:
 * - active checks (GET /health): `unhealthyThreshold` failures in a row mark an endpoint
 *   unhealthy, `healthyThreshold` passes in a row bring it back;
 * - passive outlier ejection (Envoy's consecutive-5xx detector): `consecutiveFailures` failed
 *   requests in a row eject it for `baseEjectionMs` × (times ejected), capped at
 *   `maxEjectionMs`; it comes back by itself when that time is over, and one success resets
 *   the count. At most `maxEjectedPercent` of a pool is ejected at once (at least one).
 */

export interface HealthConfig {
  unhealthyThreshold: number;
  healthyThreshold: number;
}

export interface HealthState {
  healthy: boolean;
  passes: number;
  fails: number;
}

export const initialHealth = (): HealthState => ({ healthy: true, passes: 0, fails: 0 });

export function nextHealth(s: HealthState, ok: boolean, cfg: HealthConfig): HealthState {
  if (ok) {
    const passes = s.passes + 1;
    return { healthy: s.healthy || passes >= cfg.healthyThreshold, passes, fails: 0 };
  }
  const fails = s.fails + 1;
  return { healthy: s.healthy && fails < cfg.unhealthyThreshold, passes: 0, fails };
}

export interface OutlierConfig {
  consecutiveFailures: number;
  baseEjectionMs: number;
  maxEjectionMs: number;
  maxEjectedPercent: number;
}

export class Outlier {
  consecutive = 0;
  ejections = 0;
  ejectedUntil = 0;

  isEjected(now: number): boolean {
    return now < this.ejectedUntil;
  }

  onSuccess(): void {
    this.consecutive = 0;
  }

  /**
   * Counts a failure; returns true when this failure ejects the endpoint. `mayEject` says
   * whether the pool's ejection budget allows one more.
   */
  onFailure(now: number, cfg: OutlierConfig, mayEject: boolean): boolean {
    if (this.isEjected(now)) return false;
    this.consecutive++;
    if (this.consecutive < cfg.consecutiveFailures || !mayEject) return false;
    this.ejections++;
    this.ejectedUntil = now + Math.min(cfg.maxEjectionMs, cfg.baseEjectionMs * this.ejections);
    this.consecutive = 0;
    return true;
  }
}

/** How many endpoints of a pool of `size` may be ejected at once. */
export function ejectionBudget(size: number, maxEjectedPercent: number): number {
  return Math.max(1, Math.floor((size * maxEjectedPercent) / 100));
}
