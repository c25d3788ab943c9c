/**
 * Every OpenTelemetry name the gateway emits, edge and origin alike (origin/ imports this file):
 * the GenAI semantic conventions as last published stable-track in
 * open-telemetry/semantic-conventions (`docs/gen-ai/gen-ai-spans.md`, `gen-ai-metrics.md`)
 * before they moved to their own repository, where a rename is in development. A rename is one
 * edit here. Pure constants and small pure helpers only: this runs in workerd and in Node.
 */

/** GenAI span and metric attributes. */
export const GEN_AI = {
  operationName: 'gen_ai.operation.name',
  providerName: 'gen_ai.provider.name',
  requestModel: 'gen_ai.request.model',
  requestMaxTokens: 'gen_ai.request.max_tokens',
  requestTemperature: 'gen_ai.request.temperature',
  requestTopP: 'gen_ai.request.top_p',
  requestStream: 'gen_ai.request.stream',
  requestChoiceCount: 'gen_ai.request.choice.count',
  requestSeed: 'gen_ai.request.seed',
  responseModel: 'gen_ai.response.model',
  responseId: 'gen_ai.response.id',
  responseFinishReasons: 'gen_ai.response.finish_reasons',
  /** Opt-in content (a tenant's `traceContent`), JSON strings of the conventions' shapes. */
  inputMessages: 'gen_ai.input.messages',
  outputMessages: 'gen_ai.output.messages',
  systemInstructions: 'gen_ai.system_instructions',
  responseTimeToFirstChunk: 'gen_ai.response.time_to_first_chunk',
  usageInputTokens: 'gen_ai.usage.input_tokens',
  usageOutputTokens: 'gen_ai.usage.output_tokens',
  usageCacheReadInputTokens: 'gen_ai.usage.cache_read.input_tokens',
  usageCacheCreationInputTokens: 'gen_ai.usage.cache_creation.input_tokens',
  usageReasoningOutputTokens: 'gen_ai.usage.reasoning.output_tokens',
  tokenType: 'gen_ai.token.type',
} as const;

/** General attributes (stable OpenTelemetry semantic conventions). */
export const GENERAL = {
  errorType: 'error.type',
  serverAddress: 'server.address',
  serverPort: 'server.port',
  httpMethod: 'http.request.method',
  httpStatus: 'http.response.status_code',
  urlPath: 'url.path',
  serviceName: 'service.name',
  serviceInstanceId: 'service.instance.id',
} as const;

/** The gateway's own attributes. */
export const GATEWAY = {
  requestId: 'gateway.request_id',
  region: 'gateway.region',
  zone: 'gateway.zone',
  cache: 'gateway.cache',
  attempt: 'gateway.attempt',
  keyId: 'gateway.key_id',
  tenant: 'gateway.tenant',
  provider: 'gateway.provider',
  streamEnd: 'gateway.stream_end',
  refusal: 'gateway.refusal',
  /** The prompt template rendered into the request, and its version. */
  templateId: 'gateway.template.id',
  templateVersion: 'gateway.template.version',
  /** Origin: the pool, the endpoint picked and the score's inputs. */
  pool: 'gateway.origin.pool',
  endpoint: 'gateway.origin.endpoint',
  policy: 'gateway.origin.policy',
  candidates: 'gateway.origin.candidates',
  queueWaitMs: 'gateway.origin.queue_wait_ms',
  priority: 'gateway.origin.priority',
  scorePrefix: 'gateway.origin.score.prefix_blocks',
  scoreQueue: 'gateway.origin.score.queue',
  scoreKv: 'gateway.origin.score.kv',
  scoreLoad: 'gateway.origin.score.load',
} as const;

/** Span event names. */
export const EVENTS = {
  firstByte: 'gateway.first_byte',
  streamEnd: 'gateway.stream_end',
} as const;

/** Metric names (GenAI client metrics, then the gateway's counters). */
export const METRICS = {
  tokenUsage: 'gen_ai.client.token.usage',
  operationDuration: 'gen_ai.client.operation.duration',
  timeToFirstChunk: 'gen_ai.client.operation.time_to_first_chunk',
  requests: 'gateway.requests',
  limitRefusals: 'gateway.limit.refusals',
  residencyRefusals: 'gateway.residency.refusals',
  fallbacks: 'gateway.fallbacks',
  circuitsOpened: 'gateway.circuits.opened',
  telemetryDropped: 'gateway.telemetry.dropped',
} as const;

/** `gen_ai.operation.name` of each gateway endpoint. */
export function operationName(endpoint: string): string {
  if (endpoint === 'embeddings') return 'embeddings';
  if (endpoint === 'completions') return 'text_completion';
  return 'chat';
}

/** `gen_ai.provider.name` of each provider kind (well-known values where the convention has
 * one; the kind itself otherwise, e.g. `origin`, `openai-compatible`). */
const PROVIDER_NAMES: Record<string, string> = {
  openai: 'openai',
  'azure-openai': 'azure.ai.openai',
  anthropic: 'anthropic',
  gemini: 'gcp.gemini',
  bedrock: 'aws.bedrock',
};

export function providerName(kind: string): string {
  return PROVIDER_NAMES[kind] ?? kind;
}

/** The span name of an inference call: `{gen_ai.operation.name} {gen_ai.request.model}`. */
export function inferenceSpanName(operation: string, model: string | undefined): string {
  return model ? `${operation} ${model}` : operation;
}

/**
 * The names that differ between the GenAI conventions' versions. `stable`: the stable-track
 * names above (the default, what infra/monitoring reads). `latest_experimental`
 * (`OTEL_SEMCONV_STABILITY_OPT_IN=gen_ai_latest_experimental`): the development names of
 * open-telemetry/semantic-conventions-genai, where the inference span and its metrics are
 * renamed under `gen_ai.client.inference` and token usage is one histogram per token type.
 * Attributes are the same in both.
 */
export type GenAiVersion = 'stable' | 'latest_experimental';

export interface GenAiNames {
  inferenceSpanName(operation: string, model: string | undefined): string;
  operationDuration: string;
  timeToFirstChunk: string;
  /** The histogram of each token type; one name for both: a histogram whose points carry
   * `gen_ai.token.type`. */
  tokenUsage: Record<'input' | 'output', string>;
}

export const GEN_AI_NAMES: Record<GenAiVersion, GenAiNames> = {
  stable: {
    inferenceSpanName,
    operationDuration: METRICS.operationDuration,
    timeToFirstChunk: METRICS.timeToFirstChunk,
    tokenUsage: { input: METRICS.tokenUsage, output: METRICS.tokenUsage },
  },
  latest_experimental: {
    inferenceSpanName: () => 'gen_ai.client.inference',
    operationDuration: 'gen_ai.client.inference.duration',
    timeToFirstChunk: 'gen_ai.client.inference.time_to_first_chunk',
    tokenUsage: {
      input: 'gen_ai.client.inference.usage.input_tokens',
      output: 'gen_ai.client.inference.usage.output_tokens',
    },
  },
};

/** The version `OTEL_SEMCONV_STABILITY_OPT_IN` (a comma-separated list) asks for. */
export function genAiVersion(optIn: string | undefined): GenAiVersion {
  const values = (optIn ?? '').split(',').map((v) => v.trim());
  return values.includes('gen_ai_latest_experimental') ? 'latest_experimental' : 'stable';
}
