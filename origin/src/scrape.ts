/**
 * Model-server metrics: a small parser of the Prometheus text format (only what the scheduler
 * reads) and the mapping of each server's metric names to one load snapshot. Pure.
 *
 * Names (see tools/gpu-sim/metrics.ts for their sources):
 * - vLLM: vllm:num_requests_running, vllm:num_requests_waiting, vllm:kv_cache_usage_perc
 *   (pre-0.9: vllm:gpu_cache_usage_perc), vllm:prefix_cache_queries_total / _hits_total;
 * - TensorRT-LLM: trtllm_num_requests_running / _waiting, trtllm_kv_cache_utilization,
 *   trtllm_kv_cache_reused_blocks_total / trtllm_kv_cache_missed_blocks_total;
 * - TEI: te_queue_size (waiting only: TEI exports no running count and no KV cache).
 */

export type ServerKind = 'vllm' | 'trt' | 'tei';

/** Per metric name (labels dropped): the sum and the max over its series. */
export type Samples = Map<string, { sum: number; max: number }>;

export function parsePrometheus(text: string, wanted?: ReadonlySet<string>): Samples {
  const out: Samples = new Map();
  for (const line of text.split('\n')) {
    if (line === '' || line.charCodeAt(0) === 35 /* # */) continue;
    const brace = line.indexOf('{');
    const space = line.indexOf(' ');
    const end = brace >= 0 && brace < space ? brace : space;
    if (end <= 0) continue;
    const name = line.slice(0, end);
    if (wanted && !wanted.has(name)) continue;
    // The value follows the labels (which may contain spaces inside quotes).
    const rest =
      brace >= 0 && brace < space ? line.slice(line.lastIndexOf('}') + 1) : line.slice(end);
    const value = Number(rest.trim().split(/\s+/)[0]);
    if (!Number.isFinite(value)) continue;
    const s = out.get(name);
    if (s) {
      s.sum += value;
      s.max = Math.max(s.max, value);
    } else out.set(name, { sum: value, max: value });
  }
  return out;
}

/** What one scrape says about an endpoint's load. */
export interface LoadSnapshot {
  /** Undefined when the server does not export it (TEI). */
  running: number | undefined;
  waiting: number;
  /** 0..1; undefined when unknown. */
  kvUsage: number | undefined;
  /** Cumulative prefix-cache counters (tokens for vLLM, blocks for TRT-LLM). */
  prefixQueries: number | undefined;
  prefixHits: number | undefined;
}

interface Names {
  running?: string;
  waiting: string;
  kv: string[];
  prefixQueries?: string;
  prefixHits?: string;
  prefixMisses?: string;
}

const NAMES: Record<ServerKind, Names> = {
  vllm: {
    running: 'vllm:num_requests_running',
    waiting: 'vllm:num_requests_waiting',
    kv: ['vllm:kv_cache_usage_perc', 'vllm:gpu_cache_usage_perc'],
    prefixQueries: 'vllm:prefix_cache_queries_total',
    prefixHits: 'vllm:prefix_cache_hits_total',
  },
  trt: {
    running: 'trtllm_num_requests_running',
    waiting: 'trtllm_num_requests_waiting',
    kv: ['trtllm_kv_cache_utilization'],
    prefixHits: 'trtllm_kv_cache_reused_blocks_total',
    prefixMisses: 'trtllm_kv_cache_missed_blocks_total',
  },
  tei: { waiting: 'te_queue_size', kv: [] },
};

export function wantedNames(kind: ServerKind): Set<string> {
  const n = NAMES[kind];
  return new Set(
    [n.running, n.waiting, ...n.kv, n.prefixQueries, n.prefixHits, n.prefixMisses].filter(
      (x): x is string => x !== undefined,
    ),
  );
}

/** The snapshot, or undefined when the text lacks the server's queue metric (wrong target). */
export function loadSnapshot(kind: ServerKind, samples: Samples): LoadSnapshot | undefined {
  const n = NAMES[kind];
  const waiting = samples.get(n.waiting);
  if (!waiting) return undefined;
  const kv = n.kv.map((name) => samples.get(name)).find((s) => s !== undefined);
  const hits = n.prefixHits ? samples.get(n.prefixHits)?.sum : undefined;
  const misses = n.prefixMisses ? samples.get(n.prefixMisses)?.sum : undefined;
  const queries = n.prefixQueries
    ? samples.get(n.prefixQueries)?.sum
    : hits !== undefined && misses !== undefined
      ? hits + misses
      : undefined;
  return {
    running: n.running ? (samples.get(n.running)?.sum ?? 0) : undefined,
    waiting: waiting.sum,
    // Several engines (data parallel) behind one endpoint: the fullest cache decides.
    kvUsage: kv?.max,
    prefixQueries: queries,
    prefixHits: hits,
  };
}

export const DEFAULT_METRICS_PATH: Record<ServerKind, string> = {
  vllm: '/metrics',
  trt: '/prometheus/metrics',
  tei: '/metrics',
};
