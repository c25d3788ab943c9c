// Prometheus metrics under the names each real server uses, in a prom-client Registry of its own.
//
// vllm: vllm-project/vllm, vllm/v1/metrics/loggers.py (PrometheusStatLogger). Labels model_name and
//   engine. Python's client appends `_total` to counters, so `vllm:prompt_tokens` is scraped as
//   `vllm:prompt_tokens_total`. `vllm:gpu_cache_usage_perc` is the pre-0.9 name of
//   `vllm:kv_cache_usage_perc`; `vllm:inter_token_latency_seconds` replaced
//   `vllm:time_per_output_token_seconds` in later releases.
// trt: NVIDIA/TensorRT-LLM, tensorrt_llm/metrics/collector.py (MetricsCollector), with the labels
//   trtllm-serve sets (model_name, engine_type). Real trtllm-serve serves these at
//   /prometheus/metrics (with return_perf_metrics on) and JSON iteration stats at /metrics; the
//   simulator serves the Prometheus text at both paths.
// tei: huggingface/text-embeddings-inference, router/src/lib.rs, router/src/http/server.rs and
//   core/src/queue.rs (Rust `metrics` crate: no labels besides method/err, no `_total` suffix).
import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { ModelStats, RequestView } from './model.ts';

export type Kind = 'vllm' | 'trt' | 'tei';
type Labels = Record<string, string>;

export interface SimMetrics {
  registry: Registry;
  onRequest(promptTokens: number, batch: boolean): void;
  onToken(req: RequestView, at: number, itlMs: number | undefined): void;
  onFinish(req: RequestView, at: number, reason: 'stop' | 'length', batch: boolean): void;
  onFailure(err: string): void;
}

// Bucket boundaries as in vLLM's loggers.py (TRT-LLM's collector uses the same ones).
const TTFT_BUCKETS = [
  0.001, 0.005, 0.01, 0.02, 0.04, 0.06, 0.08, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10, 20, 40, 80,
  160, 640, 2560,
];
const ITL_BUCKETS = [
  0.01, 0.025, 0.05, 0.075, 0.1, 0.15, 0.2, 0.3, 0.4, 0.5, 0.75, 1, 2.5, 5, 7.5, 10, 20, 40, 80,
];
const REQUEST_BUCKETS = [
  0.3, 0.5, 0.8, 1, 1.5, 2, 2.5, 5, 10, 15, 20, 30, 40, 50, 60, 120, 240, 480, 960, 1920, 7680,
];
// TEI: any metric ending in "duration" gets 35 buckets growing ×1.5 from 15 µs.
const TEI_DURATION_BUCKETS = Array.from({ length: 35 }, (_, i) => 1e-5 * 1.5 ** (i + 1));
const TEI_LENGTH_BUCKETS = Array.from({ length: 14 }, (_, i) => 2 ** i);

type Stat = (s: ModelStats) => number;

interface LlmNames {
  labels: (model: string) => Labels;
  gauges: Record<string, Stat>;
  counters: Record<string, Stat>;
  success: string;
  ttft: string;
  itl: string;
  e2e: string;
  queue: string;
}

const VLLM: LlmNames = {
  labels: (model) => ({ model_name: model, engine: '0' }),
  gauges: {
    'vllm:num_requests_running': (s) => s.running,
    'vllm:num_requests_waiting': (s) => s.waiting,
    'vllm:kv_cache_usage_perc': (s) => s.kvUsage,
    'vllm:gpu_cache_usage_perc': (s) => s.kvUsage,
  },
  counters: {
    'vllm:prefix_cache_queries_total': (s) => s.prefixQueryTokens,
    'vllm:prefix_cache_hits_total': (s) => s.prefixHitTokens,
    'vllm:prompt_tokens_total': (s) => s.promptTokens,
    'vllm:generation_tokens_total': (s) => s.generationTokens,
    'vllm:num_preemptions_total': (s) => s.preemptions,
  },
  success: 'vllm:request_success_total',
  ttft: 'vllm:time_to_first_token_seconds',
  itl: 'vllm:inter_token_latency_seconds',
  e2e: 'vllm:e2e_request_latency_seconds',
  queue: 'vllm:request_queue_time_seconds',
};

const TRT: LlmNames = {
  labels: (model) => ({ model_name: model, engine_type: 'trtllm' }),
  gauges: {
    trtllm_num_requests_running: (s) => s.running,
    trtllm_num_requests_waiting: (s) => s.waiting,
    trtllm_kv_cache_utilization: (s) => s.kvUsage,
    trtllm_kv_cache_hit_rate: (s) => s.reusedBlocks / Math.max(1, s.reusedBlocks + s.missedBlocks),
    trtllm_kv_cache_max_blocks: (s) => s.kvCapacityBlocks,
    trtllm_kv_cache_used_blocks: (s) => s.kvUsedBlocks,
    trtllm_kv_cache_free_blocks: (s) => s.kvCapacityBlocks - s.kvUsedBlocks,
  },
  counters: {
    trtllm_prompt_tokens_total: (s) => s.promptTokens,
    trtllm_generation_tokens_total: (s) => s.generationTokens,
    trtllm_prompt_cached_tokens_total: (s) => s.prefixHitTokens,
    trtllm_kv_cache_reused_blocks_total: (s) => s.reusedBlocks,
    trtllm_kv_cache_missed_blocks_total: (s) => s.missedBlocks,
  },
  success: 'trtllm_request_success_total',
  ttft: 'trtllm_time_to_first_token_seconds',
  itl: 'trtllm_time_per_output_token_seconds',
  e2e: 'trtllm_e2e_request_latency_seconds',
  queue: 'trtllm_request_queue_time_seconds',
};

// Help strings are the metric names: scrapers key on names, not on HELP text.
function gauge(registry: Registry, name: string, labels: Labels, get: () => number) {
  new Gauge({
    name,
    help: name,
    labelNames: Object.keys(labels),
    registers: [registry],
    collect() {
      this.set(labels, get());
    },
  });
}

/** A counter mirroring a cumulative model statistic: each scrape adds what accrued since. */
function mirroredCounter(registry: Registry, name: string, labels: Labels, get: () => number) {
  let last = 0;
  new Counter({
    name,
    help: name,
    labelNames: Object.keys(labels),
    registers: [registry],
    collect() {
      const now = get();
      this.inc(labels, now - last);
      last = now;
    },
  });
}

const counter = (registry: Registry, name: string, labelNames: string[] = []) =>
  new Counter({ name, help: name, labelNames, registers: [registry] });

const histogram = (registry: Registry, name: string, labels: Labels, buckets: number[]) =>
  new Histogram({
    name,
    help: name,
    labelNames: Object.keys(labels),
    buckets,
    registers: [registry],
  });

function llmMetrics(names: LlmNames, model: string, stats: () => ModelStats): SimMetrics {
  const registry = new Registry();
  const labels = names.labels(model);
  for (const [name, get] of Object.entries(names.gauges)) {
    gauge(registry, name, labels, () => get(stats()));
  }
  for (const [name, get] of Object.entries(names.counters)) {
    mirroredCounter(registry, name, labels, () => get(stats()));
  }
  const success = counter(registry, names.success, [...Object.keys(labels), 'finished_reason']);
  const ttft = histogram(registry, names.ttft, labels, TTFT_BUCKETS);
  const itl = histogram(registry, names.itl, labels, ITL_BUCKETS);
  const e2e = histogram(registry, names.e2e, labels, REQUEST_BUCKETS);
  const queue = histogram(registry, names.queue, labels, REQUEST_BUCKETS);
  return {
    registry,
    onRequest() {},
    onToken(req, at, itlMs) {
      if (itlMs === undefined) ttft.observe(labels, (at - req.arrivedAt) / 1000);
      else itl.observe(labels, itlMs / 1000);
    },
    onFinish(req, at, reason) {
      success.inc({ ...labels, finished_reason: reason });
      e2e.observe(labels, (at - req.arrivedAt) / 1000);
      queue.observe(labels, ((req.admittedAt ?? at) - req.arrivedAt) / 1000);
    },
    onFailure() {},
  };
}

function teiMetrics(stats: () => ModelStats): SimMetrics {
  const registry = new Registry();
  gauge(registry, 'te_queue_size', {}, () => stats().waiting);
  const requests = counter(registry, 'te_request_count', ['method']);
  const successes = counter(registry, 'te_request_success', ['method']);
  const failures = counter(registry, 'te_request_failure', ['err']);
  const embeds = counter(registry, 'te_embed_count');
  const embedSuccesses = counter(registry, 'te_embed_success');
  const duration = (name: string) => histogram(registry, name, {}, TEI_DURATION_BUCKETS);
  const total = duration('te_request_duration');
  const queued = duration('te_request_queue_duration');
  const inference = duration('te_request_inference_duration');
  const embedTotal = duration('te_embed_duration');
  const inputLength = histogram(registry, 'te_request_input_length', {}, TEI_LENGTH_BUCKETS);
  const method = (batch: boolean) => ({ method: batch ? 'batch' : 'single' });
  return {
    registry,
    onRequest(promptTokens, batch) {
      requests.inc(method(batch));
      embeds.inc();
      inputLength.observe(promptTokens);
    },
    onToken() {},
    onFinish(req, at, _reason, batch) {
      const admitted = req.admittedAt ?? at;
      successes.inc(method(batch));
      embedSuccesses.inc();
      total.observe((at - req.arrivedAt) / 1000);
      embedTotal.observe((at - req.arrivedAt) / 1000);
      queued.observe((admitted - req.arrivedAt) / 1000);
      inference.observe((at - admitted) / 1000);
    },
    onFailure(err) {
      failures.inc({ err });
    },
  };
}

export function createMetrics(kind: Kind, model: string, stats: () => ModelStats): SimMetrics {
  if (kind === 'tei') return teiMetrics(stats);
  return llmMetrics(kind === 'vllm' ? VLLM : TRT, model, stats);
}
