/**
 * A pool of model-server endpoints of one kind (vLLM, TensorRT-LLM or TEI). Contract:
 * `acquire` hands out a lease on one endpoint chosen by the pool's policy among the healthy,
 * non-ejected, non-saturated ones (waiting in a bounded priority queue when all are
 * saturated, or shedding with a `Shed` error); `release` reports how the request went, which
 * feeds outlier ejection. In the background the pool scrapes every endpoint's /metrics,
 * checks its health and (for DNS pools) re-resolves the endpoint list.
 */
import { type Priority, WaitQueue } from './admission.ts';
import {
  type OriginConfig,
  type PolicyName,
  type PoolConfig,
  type PoolLimits,
  poolLimits,
} from './config.ts';
import {
  diffEndpoints,
  endpointId,
  endpointUrls,
  type Resolve4,
  systemResolve4,
} from './discovery.ts';
import type { OriginMetrics } from './metrics.ts';
import { ejectionBudget, type HealthState, initialHealth, nextHealth, Outlier } from './outlier.ts';
import { createPolicy, type PickRequest, type Policy } from './policy/index.ts';
import { estimateLoad, type LoadEstimate, type Scraped } from './policy/load.ts';
import {
  DEFAULT_METRICS_PATH,
  loadSnapshot,
  parsePrometheus,
  type ServerKind,
  wantedNames,
} from './scrape.ts';

export interface Endpoint {
  id: string;
  /** Base URL, no trailing slash. */
  url: string;
  inflight: number;
  scraped: Scraped | undefined;
  /** Prefix-cache hit rate over the last scrape interval (0..1), when the server reports it. */
  prefixHitRate: number | undefined;
  health: HealthState;
  outlier: Outlier;
  /** Gone from DNS: not picked any more, deleted once idle. */
  removed: boolean;
  busy: { scrape: boolean; check: boolean };
  counters: { queries: number; hits: number } | undefined;
}

export interface PoolView {
  name: string;
  engine: ServerKind;
  queueDepth: number;
  inflight: number;
  endpoints: {
    id: string;
    healthy: boolean;
    ejected: boolean;
    /** ISO time the ejection ends; null when not ejected. */
    ejectedUntil: string | null;
    inflight: number;
    running: number | null;
    waiting: number | null;
    /** KV-cache use 0..1 from a fresh scrape; null when stale or not exported (TEI). */
    kvCacheUsage: number | null;
  }[];
}

export type ShedReason = 'queue_full' | 'queue_timeout' | 'no_endpoints' | 'draining';

/** Admission control said no. 429 when the queue is full, else 503; both with retry-after. */
export class Shed extends Error {
  override name = 'Shed';
  readonly reason: ShedReason;
  readonly status: 429 | 503;
  readonly retryAfterSeconds: number;
  constructor(reason: ShedReason, status: 429 | 503, retryAfterSeconds: number) {
    super(`request shed: ${reason}`);
    this.reason = reason;
    this.status = status;
    this.retryAfterSeconds = retryAfterSeconds;
  }
}

/** The client left while its request waited in the queue. */
export class ClientGone extends Error {
  override name = 'ClientGone';
}

export type Outcome = 'ok' | 'failure' | 'neutral';

export interface Lease {
  endpoint: Endpoint;
  /** Time spent in the wait queue (ms). */
  queuedMs: number;
  /** What the pick saw: the policy, how many endpoints could take it, the picked one's load
   * estimate (the score's inputs) and the prompt's prefix blocks. For the trace. */
  pick: { policy: string; candidates: number; estimate: LoadEstimate; prefixHashes: number };
  release(outcome: Outcome): void;
}

export interface AcquireRequest extends PickRequest {
  priority: Priority;
  /** Endpoints already tried for this request. */
  exclude?: ReadonlySet<string>;
  signal?: AbortSignal;
  /** false (retries): answer undefined instead of waiting when nothing is free. */
  wait?: boolean;
}

interface Waiter {
  req: AcquireRequest;
  enqueuedAt: number;
  resolve: (lease: Lease) => void;
  reject: (err: Error) => void;
  timer: NodeJS.Timeout;
  onAbort: () => void;
}

export interface PoolDeps {
  metrics: OriginMetrics;
  resolve4?: Resolve4;
  now?: () => number;
  random?: () => number;
  log?: (event: Record<string, unknown>) => void;
  fetch?: typeof fetch;
}

export class Pool {
  readonly name: string;
  readonly kind: ServerKind;
  readonly policy: Policy;
  readonly limits: PoolLimits;
  private readonly cfg: PoolConfig;
  private readonly origin: OriginConfig;
  private readonly deps: PoolDeps;
  private readonly now: () => number;
  private readonly fetch: typeof fetch;
  private readonly map = new Map<string, Endpoint>();
  private readonly queue: WaitQueue<Waiter>;
  private readonly timers: NodeJS.Timeout[] = [];
  private readonly wanted: Set<string>;
  private draining = false;
  private lastActivityAt = Number.NEGATIVE_INFINITY;

  constructor(name: string, cfg: PoolConfig, origin: OriginConfig, deps: PoolDeps) {
    this.name = name;
    this.kind = cfg.kind;
    this.cfg = cfg;
    this.origin = origin;
    this.deps = deps;
    this.now = deps.now ?? (() => performance.now());
    this.fetch = deps.fetch ?? fetch;
    this.limits = poolLimits(origin, cfg);
    this.queue = new WaitQueue(this.limits.queueSize);
    this.wanted = wantedNames(cfg.kind);
    const policy: PolicyName = cfg.policy ?? origin.policy;
    this.policy = createPolicy(policy, {
      scheduler: origin.scheduler,
      staleAfterMs: origin.scrape.staleAfterMs,
      ...(deps.random ? { random: deps.random } : {}),
    });
    deps.metrics.queueDepth.set({ pool: name }, 0);
  }

  get endpoints(): Endpoint[] {
    return [...this.map.values()];
  }

  get queued(): number {
    return this.queue.size;
  }

  get inflight(): number {
    let n = 0;
    for (const e of this.map.values()) n += e.inflight;
    return n;
  }

  /** The scheduler's view of the pool, for the edge's admin health document: each
   * endpoint's health, ejection and load (the last scrape while it is fresh, else null). */
  view(): PoolView {
    const now = this.now();
    const wallNow = Date.now();
    const stale = this.origin.scrape.staleAfterMs;
    return {
      name: this.name,
      engine: this.kind,
      queueDepth: this.queue.size,
      inflight: this.inflight,
      endpoints: this.endpoints.map((e) => {
        const ejected = e.outlier.isEjected(now);
        const fresh = e.scraped !== undefined && now - e.scraped.at <= stale;
        const load = estimateLoad(e, now, stale);
        return {
          id: e.id,
          healthy: e.health.healthy && !e.removed,
          ejected,
          ejectedUntil: ejected
            ? new Date(wallNow + (e.outlier.ejectedUntil - now)).toISOString()
            : null,
          inflight: e.inflight,
          running: fresh ? (e.scraped!.running ?? null) : null,
          waiting: fresh ? load.waiting : null,
          kvCacheUsage: load.kvUsage ?? null,
        };
      }),
    };
  }

  /** First discovery (awaited), then the background loops. */
  async start(): Promise<void> {
    const every = (ms: number, fn: () => unknown) => {
      const t = setInterval(fn, ms);
      t.unref();
      this.timers.push(t);
    };
    if (this.cfg.endpoints) this.setEndpoints(this.cfg.endpoints);
    else if (this.cfg.dns) {
      await this.resolve();
      every(this.cfg.dns.intervalMs, () => this.resolve());
    }
    every(this.origin.scrape.intervalMs, () => this.idle() || this.scrapeAll());
    every(this.origin.health.intervalMs, () => this.checkAll());
    await Promise.all([this.scrapeAll(), this.checkAll()]);
  }

  stop(): void {
    for (const t of this.timers.splice(0)) clearInterval(t);
    this.shedQueued('draining');
  }

  /** Refuse new requests and everything still queued (in-flight ones carry on). */
  startDraining(): void {
    this.draining = true;
    this.shedQueued('draining');
  }

  /** Endpoints a request may go to: healthy, not ejected, not removed. */
  live(now = this.now()): Endpoint[] {
    return this.endpoints.filter(
      (e) => e.health.healthy && !e.outlier.isEjected(now) && !e.removed,
    );
  }

  saturated(e: Endpoint, now = this.now()): boolean {
    if (e.inflight >= this.limits.maxInflightPerEndpoint) return true;
    const est = estimateLoad(e, now, this.origin.scrape.staleAfterMs);
    return (
      est.fresh &&
      (est.waiting >= this.limits.maxWaitingPerEndpoint ||
        (est.kvUsage ?? 0) >= this.limits.maxKvUsage)
    );
  }

  /** Nothing in flight or queued, and no request started or ended for `scrape.pauseWhenIdleMs`. */
  idle(now = this.now()): boolean {
    const pause = this.origin.scrape.pauseWhenIdleMs;
    return (
      pause > 0 && now - this.lastActivityAt > pause && this.inflight === 0 && this.queue.size === 0
    );
  }

  acquire(req: AcquireRequest): Promise<Lease | undefined> {
    if (this.draining) return Promise.reject(this.shed('draining', 503, 5));
    const now = this.now();
    this.lastActivityAt = now;
    if (this.live(now).length === 0) return Promise.reject(this.shed('no_endpoints', 503, 5));
    // Nobody jumps the queue: with waiters, a new request queues behind them (by priority).
    if (this.queue.size === 0 || req.wait === false) {
      const e = this.tryPick(req, now);
      if (e) return Promise.resolve(this.lease(e, req, 0));
      if (req.wait === false) return Promise.resolve(undefined);
    }
    return new Promise<Lease>((resolve, reject) => {
      const waiter: Waiter = {
        req,
        enqueuedAt: now,
        resolve,
        reject,
        timer: setTimeout(() => {
          this.dequeue(waiter);
          reject(this.shed('queue_timeout', 503, 1));
        }, this.limits.queueTimeoutMs),
        onAbort: () => {
          this.dequeue(waiter);
          reject(new ClientGone('client left while queued'));
        },
      };
      if (!this.queue.push(waiter, req.priority)) {
        clearTimeout(waiter.timer);
        reject(this.shed('queue_full', 429, 1));
        return;
      }
      req.signal?.addEventListener('abort', waiter.onAbort, { once: true });
      this.deps.metrics.queueDepth.set({ pool: this.name }, this.queue.size);
      this.pump();
    });
  }

  /** Hands free endpoints to waiters, highest priority first. */
  pump(): void {
    const now = this.now();
    for (let w = this.queue.peek(); w; w = this.queue.peek()) {
      const e = this.tryPick(w.req, now);
      if (!e) break;
      this.dequeue(w);
      w.resolve(this.lease(e, w.req, now - w.enqueuedAt));
    }
  }

  private dequeue(w: Waiter): void {
    clearTimeout(w.timer);
    w.req.signal?.removeEventListener('abort', w.onAbort);
    this.queue.remove(w);
    this.deps.metrics.queueDepth.set({ pool: this.name }, this.queue.size);
  }

  private shedQueued(reason: ShedReason): void {
    for (const w of this.queue.drain()) {
      clearTimeout(w.timer);
      w.req.signal?.removeEventListener('abort', w.onAbort);
      w.reject(this.shed(reason, 503, 5));
    }
    this.deps.metrics.queueDepth.set({ pool: this.name }, 0);
  }

  private shed(reason: ShedReason, status: 429 | 503, retryAfter: number): Shed {
    this.deps.metrics.shed.inc({ pool: this.name, reason });
    return new Shed(reason, status, retryAfter);
  }

  private tryPick(req: AcquireRequest, now: number): Endpoint | undefined {
    const candidates = this.live(now).filter(
      (e) => !req.exclude?.has(e.id) && !this.saturated(e, now),
    );
    if (candidates.length === 0) return undefined;
    const id = this.policy.pick(candidates, req, now);
    return id === undefined ? undefined : this.map.get(id);
  }

  private lease(e: Endpoint, req: AcquireRequest, queuedMs: number): Lease {
    const now = this.now();
    const pick = {
      policy: this.policy.name,
      candidates: this.live(now).filter((x) => !req.exclude?.has(x.id)).length,
      estimate: estimateLoad(e, now, this.origin.scrape.staleAfterMs),
      prefixHashes: req.hashes.length,
    };
    e.inflight++;
    this.policy.commit(e.id, req);
    this.deps.metrics.inflight.set({ pool: this.name, endpoint: e.id }, e.inflight);
    let released = false;
    return {
      endpoint: e,
      queuedMs,
      pick,
      release: (outcome) => {
        if (released) return;
        released = true;
        this.lastActivityAt = this.now();
        e.inflight--;
        this.deps.metrics.inflight.set({ pool: this.name, endpoint: e.id }, e.inflight);
        if (outcome === 'ok') e.outlier.onSuccess();
        else if (outcome === 'failure') this.onFailure(e);
        if (e.removed && e.inflight === 0) this.delete(e);
        this.pump();
      },
    };
  }

  private onFailure(e: Endpoint): void {
    const now = this.now();
    const ejected = this.endpoints.filter((x) => x.outlier.isEjected(now)).length;
    const budget = ejectionBudget(this.map.size, this.origin.outlier.maxEjectedPercent);
    if (!e.outlier.onFailure(now, this.origin.outlier, ejected < budget)) return;
    const labels = { pool: this.name, endpoint: e.id };
    this.deps.metrics.ejections.inc(labels);
    this.updateHealthGauge(e);
    const forMs = e.outlier.ejectedUntil - now;
    this.log({ event: 'endpoint_ejected', endpoint: e.id, ejections: e.outlier.ejections, forMs });
    const t = setTimeout(() => {
      this.updateHealthGauge(e);
      this.log({ event: 'endpoint_recovered', endpoint: e.id });
      this.pump();
    }, forMs + 1);
    t.unref();
  }

  private updateHealthGauge(e: Endpoint): void {
    const ok = e.health.healthy && !e.outlier.isEjected(this.now());
    this.deps.metrics.healthy.set({ pool: this.name, endpoint: e.id }, ok ? 1 : 0);
  }

  /** Replaces the endpoint list (static config or a DNS answer). */
  setEndpoints(urls: readonly string[]): void {
    const byId = new Map(urls.map((u) => [endpointId(u), u.replace(/\/+$/, '')]));
    const { added, removed } = diffEndpoints(this.map.keys(), [...byId.keys()]);
    for (const id of added) {
      const e: Endpoint = {
        id,
        url: byId.get(id)!,
        inflight: 0,
        scraped: undefined,
        prefixHitRate: undefined,
        health: initialHealth(),
        outlier: new Outlier(),
        removed: false,
        busy: { scrape: false, check: false },
        counters: undefined,
      };
      this.map.set(id, e);
      this.updateHealthGauge(e);
      this.deps.metrics.inflight.set({ pool: this.name, endpoint: id }, 0);
    }
    for (const id of removed) {
      const e = this.map.get(id)!;
      e.removed = true;
      if (e.inflight === 0) this.delete(e);
    }
    if (added.length + removed.length > 0) {
      this.log({ event: 'endpoints_changed', added, removed });
      this.pump();
    }
  }

  private delete(e: Endpoint): void {
    this.map.delete(e.id);
    this.policy.forget(e.id);
    const labels = { pool: this.name, endpoint: e.id };
    this.deps.metrics.healthy.remove(labels);
    this.deps.metrics.inflight.remove(labels);
  }

  private async resolve(): Promise<void> {
    const dns = this.cfg.dns!;
    try {
      const addresses = await (this.deps.resolve4 ?? systemResolve4)(dns.name);
      this.setEndpoints(endpointUrls(addresses, dns.port, dns.scheme));
    } catch (err) {
      // NXDOMAIN or a DNS outage: keep the last known list; health checks judge it.
      this.log({ event: 'dns_failed', name: dns.name, error: (err as Error).message });
    }
  }

  async scrapeAll(): Promise<void> {
    await Promise.all(this.endpoints.map((e) => this.scrape(e)));
    this.pump();
  }

  private async scrape(e: Endpoint): Promise<void> {
    if (e.busy.scrape || e.removed) return;
    e.busy.scrape = true;
    try {
      const path = this.cfg.metricsPath ?? DEFAULT_METRICS_PATH[this.kind];
      const res = await this.fetch(`${e.url}${path}`, {
        signal: AbortSignal.timeout(this.origin.scrape.timeoutMs),
      });
      if (!res.ok) {
        await res.body?.cancel();
        return;
      }
      const text = await res.text();
      const snap = loadSnapshot(this.kind, parsePrometheus(text, this.wanted));
      if (!snap) return;
      e.scraped = {
        at: this.now(),
        inflightAtScrape: e.inflight,
        running: snap.running,
        waiting: snap.waiting,
        kvUsage: snap.kvUsage,
      };
      if (snap.prefixQueries !== undefined && snap.prefixHits !== undefined) {
        const prev = e.counters;
        if (prev && snap.prefixQueries < prev.queries) {
          // Counters went back: the server restarted with an empty cache.
          this.policy.forget(e.id);
        } else if (prev && snap.prefixQueries > prev.queries) {
          e.prefixHitRate = (snap.prefixHits - prev.hits) / (snap.prefixQueries - prev.queries);
        }
        e.counters = { queries: snap.prefixQueries, hits: snap.prefixHits };
      }
    } catch {
      // Unreachable or slow: the snapshot goes stale and the in-flight count decides.
    } finally {
      e.busy.scrape = false;
    }
  }

  async checkAll(): Promise<void> {
    await Promise.all(this.endpoints.map((e) => this.check(e)));
  }

  private async check(e: Endpoint): Promise<void> {
    if (e.busy.check || e.removed) return;
    e.busy.check = true;
    let ok = false;
    try {
      const res = await this.fetch(`${e.url}${this.cfg.healthPath}`, {
        signal: AbortSignal.timeout(this.origin.health.timeoutMs),
      });
      ok = res.ok;
      await res.body?.cancel();
    } catch {
      ok = false;
    } finally {
      e.busy.check = false;
    }
    const before = e.health.healthy;
    e.health = nextHealth(e.health, ok, this.origin.health);
    if (e.health.healthy !== before) {
      this.log({
        event: e.health.healthy ? 'endpoint_healthy' : 'endpoint_unhealthy',
        endpoint: e.id,
      });
      this.updateHealthGauge(e);
      this.pump();
    }
  }

  private log(event: Record<string, unknown>): void {
    this.deps.log?.({ pool: this.name, ...event });
  }
}
