/**
 * The origin's Prometheus metrics. The names and labels are a contract: the infra team's
 * dashboards and alert rules (infra/monitoring) use them as written here.
 */
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';

// Seconds. Fine at the low end: the router's own latency is sub-millisecond.
const DISPATCH_BUCKETS = [
  0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25,
];
const TTFT_BUCKETS = [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 10, 20, 40, 80];
const DURATION_BUCKETS = [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 20, 40, 80, 160, 320, 640];

export interface OriginMetrics {
  registry: Registry;
  requests: Counter<'pool' | 'endpoint' | 'status'>;
  duration: Histogram<'pool'>;
  dispatch: Histogram<'pool'>;
  ttft: Histogram<'pool' | 'model'>;
  tokens: Counter<'pool' | 'model'>;
  queueDepth: Gauge<'pool'>;
  inflight: Gauge<'pool' | 'endpoint'>;
  healthy: Gauge<'pool' | 'endpoint'>;
  ejections: Counter<'pool' | 'endpoint'>;
  shed: Counter<'pool' | 'reason'>;
}

export function createMetrics(opts: { defaultMetrics?: boolean } = {}): OriginMetrics {
  const registry = new Registry();
  const registers = [registry];
  if (opts.defaultMetrics ?? true) collectDefaultMetrics({ register: registry });
  return {
    registry,
    requests: new Counter({
      name: 'origin_requests_total',
      help: 'Requests answered, by pool, endpoint (none when never dispatched) and HTTP status.',
      labelNames: ['pool', 'endpoint', 'status'],
      registers,
    }),
    duration: new Histogram({
      name: 'origin_request_duration_seconds',
      help: 'Arrival to the last byte of the answer.',
      labelNames: ['pool'],
      buckets: DURATION_BUCKETS,
      registers,
    }),
    dispatch: new Histogram({
      name: 'origin_dispatch_latency_seconds',
      help: "The router's own added latency: arrival to the upstream request, queue wait excluded.",
      labelNames: ['pool'],
      buckets: DISPATCH_BUCKETS,
      registers,
    }),
    ttft: new Histogram({
      name: 'origin_ttft_seconds',
      help: 'Arrival to the first streamed body bytes from the endpoint.',
      labelNames: ['pool', 'model'],
      buckets: TTFT_BUCKETS,
      registers,
    }),
    tokens: new Counter({
      name: 'origin_generated_tokens_total',
      help: 'Completion tokens generated (usage when reported, else counted chunks).',
      labelNames: ['pool', 'model'],
      registers,
    }),
    queueDepth: new Gauge({
      name: 'origin_queue_depth',
      help: 'Requests waiting in the router for a non-saturated endpoint.',
      labelNames: ['pool'],
      registers,
    }),
    inflight: new Gauge({
      name: 'origin_inflight_requests',
      help: 'Requests this router has outstanding at the endpoint.',
      labelNames: ['pool', 'endpoint'],
      registers,
    }),
    healthy: new Gauge({
      name: 'origin_endpoint_healthy',
      help: '1 when the endpoint passes health checks and is not ejected.',
      labelNames: ['pool', 'endpoint'],
      registers,
    }),
    ejections: new Counter({
      name: 'origin_endpoint_ejections_total',
      help: 'Times the endpoint was ejected after consecutive failures.',
      labelNames: ['pool', 'endpoint'],
      registers,
    }),
    shed: new Counter({
      name: 'origin_shed_total',
      help: 'Requests refused by admission control (queue_full, queue_timeout, no_endpoints, draining).',
      labelNames: ['pool', 'reason'],
      registers,
    }),
  };
}
