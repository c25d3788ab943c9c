// Metric names the monitoring rules and dashboard may use besides the origin router's own
// (those are read from origin/src/metrics.ts by the test). Each list is copied from the exporter's
// source; names are as scraped (Python's prometheus_client appends `_total` to counters).

/**
 * vLLM: vllm-project/vllm, vllm/v1/metrics/loggers.py, class PrometheusStatLogger
 * (commit 005a810bc40faa25b8870fbc8559c3462581eee3). Histograms also expose _bucket/_sum/_count.
 */
export const VLLM_GAUGES = [
  'vllm:num_requests_running',
  'vllm:num_requests_waiting',
  'vllm:kv_cache_usage_perc',
  'vllm:gpu_cache_usage_perc', // deprecated alias of vllm:kv_cache_usage_perc
  'vllm:lora_requests_info',
  'vllm:cache_config_info',
];
export const VLLM_COUNTERS = [
  'vllm:prefix_cache_queries_total',
  'vllm:prefix_cache_hits_total',
  'vllm:gpu_prefix_cache_queries_total',
  'vllm:gpu_prefix_cache_hits_total',
  'vllm:num_preemptions_total',
  'vllm:prompt_tokens_total',
  'vllm:generation_tokens_total',
  'vllm:request_success_total',
];
export const VLLM_HISTOGRAMS = [
  'vllm:request_prompt_tokens',
  'vllm:request_generation_tokens',
  'vllm:iteration_tokens_total',
  'vllm:request_max_num_generation_tokens',
  'vllm:request_params_n',
  'vllm:request_params_max_tokens',
  'vllm:time_to_first_token_seconds',
  'vllm:time_per_output_token_seconds',
  'vllm:inter_token_latency_seconds', // successor of time_per_output_token in later releases
  'vllm:time_per_prefill_token_request_seconds',
  'vllm:e2e_request_latency_seconds',
  'vllm:request_queue_time_seconds',
  'vllm:request_inference_time_seconds',
  'vllm:request_prefill_time_seconds',
  'vllm:request_decode_time_seconds',
];

/**
 * dcgm-exporter: NVIDIA/dcgm-exporter, etc/default-counters.csv (commit
 * d5e5f510a1b6b393f39a43293ccd9dc985defc79, release 4.5.3-4.8.2, the chart version Terraform
 * installs): the counters enabled by default (commented-out lines excluded).
 */
export const DCGM_DEFAULT_COUNTERS = [
  'DCGM_FI_DEV_SM_CLOCK',
  'DCGM_FI_DEV_MEM_CLOCK',
  'DCGM_FI_DEV_MEMORY_TEMP',
  'DCGM_FI_DEV_GPU_TEMP',
  'DCGM_FI_DEV_POWER_USAGE',
  'DCGM_FI_DEV_TOTAL_ENERGY_CONSUMPTION',
  'DCGM_FI_DEV_PCIE_REPLAY_COUNTER',
  'DCGM_FI_DEV_GPU_UTIL',
  'DCGM_FI_DEV_MEM_COPY_UTIL',
  'DCGM_FI_DEV_ENC_UTIL',
  'DCGM_FI_DEV_DEC_UTIL',
  'DCGM_FI_DEV_XID_ERRORS',
  'DCGM_FI_DEV_FB_FREE',
  'DCGM_FI_DEV_FB_USED',
  'DCGM_FI_DEV_FB_RESERVED',
  'DCGM_FI_DEV_NVLINK_BANDWIDTH_TOTAL',
  'DCGM_FI_DEV_VGPU_LICENSE_STATUS',
  'DCGM_FI_DEV_UNCORRECTABLE_REMAPPED_ROWS',
  'DCGM_FI_DEV_CORRECTABLE_REMAPPED_ROWS',
  'DCGM_FI_DEV_ROW_REMAP_FAILURE',
  'DCGM_FI_DRIVER_VERSION',
  'DCGM_FI_PROF_GR_ENGINE_ACTIVE',
  'DCGM_FI_PROF_PIPE_TENSOR_ACTIVE',
  'DCGM_FI_PROF_DRAM_ACTIVE',
  'DCGM_FI_PROF_PCIE_TX_BYTES',
  'DCGM_FI_PROF_PCIE_RX_BYTES',
];

/**
 * Text Embeddings Inference: huggingface/text-embeddings-inference, the metrics::counter!/
 * gauge!/histogram! calls in router/src and core/src (commit
 * 0d124dc9773be6ac5a9a57d8439aba9bbbf33273, v1.9.3). The Rust exporter adds no `_total`.
 */
export const TEI_COUNTERS = [
  'te_embed_count',
  'te_embed_success',
  'te_predict_count',
  'te_predict_success',
  'te_request_count',
  'te_request_failure',
  'te_request_success',
];
export const TEI_GAUGES = ['te_queue_size'];
export const TEI_HISTOGRAMS = [
  'te_batch_next_size',
  'te_batch_next_tokens',
  'te_embed_duration',
  'te_embed_inference_duration',
  'te_embed_queue_duration',
  'te_embed_tokenization_duration',
  'te_predict_duration',
  'te_predict_inference_duration',
  'te_predict_queue_duration',
  'te_predict_tokenization_duration',
  'te_request_duration',
  'te_request_inference_duration',
  'te_request_input_length',
  'te_request_queue_duration',
  'te_request_tokenization_duration',
];

const HISTOGRAM_SERIES = ['_bucket', '_sum', '_count'];

/** Every series name the exporters above produce. */
export function thirdPartySeries(): Set<string> {
  const out = new Set<string>([
    ...VLLM_GAUGES,
    ...VLLM_COUNTERS,
    ...DCGM_DEFAULT_COUNTERS,
    ...TEI_COUNTERS,
    ...TEI_GAUGES,
  ]);
  for (const h of [...VLLM_HISTOGRAMS, ...TEI_HISTOGRAMS]) {
    for (const suffix of HISTOGRAM_SERIES) out.add(h + suffix);
  }
  return out;
}

export type MetricType = 'counter' | 'gauge' | 'histogram' | 'summary' | 'unknown';

/**
 * The origin router's metrics from the source text of origin/src/metrics.ts (prom-client):
 * every `name: 'origin_...'` literal, typed when it sits in a `new Counter|Gauge|Histogram|
 * Summary({ ... })` call. prom-client adds no suffix to counters; histograms expose
 * _bucket/_sum/_count and summaries _sum/_count.
 */
export function originMetricsFromSource(source: string): Map<string, MetricType> {
  const out = new Map<string, MetricType>();
  for (const m of source.matchAll(/name:\s*['"`](origin_[a-z0-9_]+)['"`]/g))
    out.set(m[1] as string, 'unknown');
  const typed =
    /new\s+(?:[\w$]+\.)?(Counter|Gauge|Histogram|Summary)\s*(?:<[^>]*>)?\s*\(\s*\{[^}]*?name:\s*['"`](origin_[a-z0-9_]+)['"`]/gs;
  for (const m of source.matchAll(typed))
    out.set(m[2] as string, (m[1] as string).toLowerCase() as MetricType);
  return out;
}

export function originSeries(metrics: Map<string, MetricType>): Set<string> {
  const out = new Set<string>();
  for (const [name, type] of metrics) {
    out.add(name);
    if (type === 'histogram' || type === 'unknown')
      for (const s of HISTOGRAM_SERIES) out.add(name + s);
    if (type === 'summary') for (const s of ['_sum', '_count']) out.add(name + s);
  }
  return out;
}

/** The metric families the task's monitoring must be limited to. */
export const ALLOWED_FAMILIES = [
  /^origin_[a-z0-9_]+$/,
  /^vllm:[a-z0-9_:]+$/,
  /^DCGM_FI_[A-Z0-9_]+$/,
  /^te_[a-z0-9_]+$/,
];

const PROMQL_KEYWORDS = new Set([
  'by',
  'without',
  'on',
  'ignoring',
  'group_left',
  'group_right',
  'bool',
  'and',
  'or',
  'unless',
  'offset',
  'atan2',
  'inf',
  'nan',
]);

/**
 * The metric names a PromQL expression selects, parsed roughly: string literals, label
 * matchers ({...}), range/subquery brackets and grouping clauses are removed; what is left and
 * looks like an identifier, is not a keyword and is not called as a function, is a metric name.
 * Grafana's $variables and label_values(metric, label) are handled.
 */
export function metricNamesIn(expr: string): string[] {
  let s = expr;
  s = s.replace(/label_values\(\s*([A-Za-z_:][\w:]*)\s*,[^)]*\)/g, ' $1 ');
  s = s.replace(/"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|`[^`]*`/g, ' ');
  s = s.replace(/\{[^}]*\}/g, ' ');
  s = s.replace(/\[[^\]]*\]/g, ' ');
  s = s.replace(/\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, ' ');
  s = s.replace(/\$\{?\w+\}?/g, ' ');
  const names = new Set<string>();
  for (const m of s.matchAll(/(?<![\w:.])([A-Za-z_:][\w:]*)(\s*\()?/g)) {
    const [, name, call] = m as unknown as [string, string, string | undefined];
    if (call) continue;
    if (PROMQL_KEYWORDS.has(name.toLowerCase())) continue;
    if (/^\d/.test(name)) continue;
    names.add(name);
  }
  return [...names].sort();
}
