/**
 * The bounded fail-open allowance (pure, per isolate): while Redis cannot be asked, a key may
 * pass unchecked at most `requests` requests and `usd` of worst-case spend per `windowMs`
 * (config `limits.failOpen`). Without a bound, a slow Redis would switch budgets off for as
 * long as it stays slow. No library keeps an in-memory allowance like this.
 */
export interface FailOpenLimits {
  requests: number;
  usd: number;
  windowMs: number;
}

interface Window {
  endsAt: number;
  requests: number;
  nanos: number;
}

/** Bounds the map, so many keys failing open cannot grow the isolate's memory. */
const MAX_TRACKED_KEYS = 10_000;

export class FailOpenAllowance {
  readonly #limits: FailOpenLimits;
  readonly #windows = new Map<string, Window>();

  constructor(limits: FailOpenLimits) {
    this.#limits = limits;
  }

  /** Takes one unchecked request of at most `nanos` for `keyId`; false when none is left. */
  take(keyId: string, nanos: number, now: number = Date.now()): boolean {
    let window = this.#windows.get(keyId);
    if (!window || window.endsAt <= now) {
      if (this.#windows.size >= MAX_TRACKED_KEYS) this.#sweep(now);
      window = { endsAt: now + this.#limits.windowMs, requests: 0, nanos: 0 };
      this.#windows.set(keyId, window);
    }
    const budgetNanos = Math.round(this.#limits.usd * 1e9);
    if (window.requests + 1 > this.#limits.requests || window.nanos + nanos > budgetNanos) {
      return false;
    }
    window.requests += 1;
    window.nanos += nanos;
    return true;
  }

  #sweep(now: number): void {
    for (const [key, window] of this.#windows) {
      if (window.endsAt <= now) this.#windows.delete(key);
    }
    // Still full of live windows: forget the oldest (insertion order) rather than grow.
    for (const key of this.#windows.keys()) {
      if (this.#windows.size < MAX_TRACKED_KEYS) break;
      this.#windows.delete(key);
    }
  }
}
