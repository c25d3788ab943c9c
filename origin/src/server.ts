/**
 * Assembles the origin: pools (discovery, scraping, health), the Hono app, the Node server,
 * and the drain sequence. Contract: `startOrigin(resolved)` resolves once the server listens
 * and every pool has done its first discovery, scrape and health check; `drain(deadlineMs)`
 * turns readiness off, refuses new requests with 503, lets in-flight ones finish for up to
 * the deadline, then cuts what is left and closes.
 */
import { createOriginApp, type OriginState } from './app.ts';
import type { ResolvedOrigin } from './config.ts';
import type { Resolve4 } from './discovery.ts';
import { createMetrics, type OriginMetrics } from './metrics.ts';
import { listen } from './node-http.ts';
import { Pool } from './pool.ts';
import { type OriginTelemetry, startOriginTelemetry } from './telemetry.ts';

export interface Origin {
  url: string;
  port: number;
  pools: Map<string, Pool>;
  metrics: OriginMetrics;
  state: OriginState;
  /** Requests with an endpoint lease (streams included). */
  inflight(): number;
  /** Graceful: see the module comment. Resolves when closed; `cut` counts what was cut off. */
  drain(deadlineMs?: number): Promise<{ cut: number }>;
  /** Immediate. */
  close(): Promise<void>;
}

export interface StartOptions {
  resolve4?: Resolve4;
  random?: () => number;
  /** Wall clock for signature checks (tests). */
  now?: () => number;
  log?: (event: Record<string, unknown>) => void;
  /** Spans and OTLP metrics. Default: from the OTEL_* variables of the process (off without
   * OTEL_EXPORTER_OTLP_ENDPOINT). */
  telemetry?: OriginTelemetry | undefined;
  /** prom-client default process metrics. Default true. */
  defaultMetrics?: boolean;
}

export async function startOrigin(
  resolved: ResolvedOrigin,
  opts: StartOptions = {},
): Promise<Origin> {
  const { config, keys } = resolved;
  const log =
    opts.log ??
    ((event) => console.log(JSON.stringify({ at: new Date().toISOString(), ...event })));
  const metrics = createMetrics({ defaultMetrics: opts.defaultMetrics ?? true });
  const telemetry = 'telemetry' in opts ? opts.telemetry : startOriginTelemetry(process.env);
  const pools = new Map<string, Pool>();
  for (const [name, cfg] of Object.entries(config.pools)) {
    pools.set(
      name,
      new Pool(name, cfg, config, {
        metrics,
        log,
        ...(opts.resolve4 ? { resolve4: opts.resolve4 } : {}),
        ...(opts.random ? { random: opts.random } : {}),
      }),
    );
  }
  const state: OriginState = { draining: false, started: false };
  const app = createOriginApp({
    config,
    keys,
    pools,
    metrics,
    state,
    log,
    ...(opts.now ? { now: opts.now } : {}),
    telemetry,
  });
  const node = await listen((req, env) => app.fetch(req, env), {
    host: config.listen.host,
    port: config.listen.port,
    maxBodyBytes: config.limits.maxBodyBytes,
  });
  await Promise.all([...pools.values()].map((p) => p.start()));
  state.started = true;

  const inflight = () => [...pools.values()].reduce((n, p) => n + p.inflight, 0);
  const closeServer = () =>
    new Promise<void>((resolve) => {
      node.server.close(() => resolve());
      node.server.closeIdleConnections();
    });
  let draining: Promise<{ cut: number }> | undefined;

  return {
    url: node.url,
    port: node.port,
    pools,
    metrics,
    state,
    inflight,
    drain(deadlineMs = config.drainDeadlineMs) {
      draining ??= (async () => {
        state.draining = true;
        log({ event: 'drain_started', inflight: inflight(), deadlineMs });
        for (const pool of pools.values()) pool.startDraining();
        const until = performance.now() + deadlineMs;
        // Connections still writing (streams) must finish: wait for them, not just leases.
        while ((inflight() > 0 || node.active > 0) && performance.now() < until) {
          await new Promise((r) => setTimeout(r, 25));
          node.server.closeIdleConnections();
        }
        const cut = node.active;
        for (const pool of pools.values()) pool.stop();
        node.server.closeAllConnections();
        await closeServer();
        await telemetry?.shutdown();
        log({ event: 'drain_finished', cut });
        return { cut };
      })();
      return draining;
    },
    async close() {
      state.draining = true;
      for (const pool of pools.values()) pool.stop();
      node.server.closeAllConnections();
      await closeServer();
      await telemetry?.shutdown();
    },
  };
}
