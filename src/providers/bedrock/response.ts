/**
 * Bedrock Converse response, usage and errors -> OpenAI shapes (pure). References (AWS Bedrock
 * API reference): https://docs.aws.amazon.com/bedrock/latest/APIReference/API_runtime_Converse.html
 * (response: output.message.content, stopReason end_turn | tool_use | max_tokens |
 * stop_sequence | guardrail_intervened | content_filtered, usage; "Errors": the exception
 * names and HTTP statuses), .../API_runtime_TokenUsage.html (inputTokens, outputTokens,
 * totalTokens, cacheReadInputTokens, cacheWriteInputTokens) and
 * https://docs.aws.amazon.com/bedrock/latest/APIReference/CommonErrors.html. An error body is
 * `{"message": "..."}`; its type is the `x-amzn-errortype` header (`Name:namespace`).
 */

import {
  isObj,
  type Json,
  mapFinishReason,
  num,
  parseJson,
  usageWithSeparateCache,
} from '../json.ts';
import type { ProviderError } from '../types.ts';

export const FINISH_REASONS: Record<string, string> = {
  end_turn: 'stop',
  stop_sequence: 'stop',
  max_tokens: 'length',
  model_context_window_exceeded: 'length',
  tool_use: 'tool_calls',
  content_filtered: 'content_filter',
  guardrail_intervened: 'content_filter',
};

export const finishReason = (stop: unknown) => mapFinishReason(FINISH_REASONS, stop);

/**
 * Converse usage -> OpenAI usage. As with Anthropic, `inputTokens` excludes the cached prompt
 * (reads and writes are reported apart), so prompt_tokens = input + cache write + cache read
 * and cached_tokens = cache read. Cache writes are kept in
 * `prompt_tokens_details.cache_creation_tokens` (not an OpenAI field), as for Anthropic.
 */
export function openAIUsage(usage: unknown): Json | undefined {
  if (!isObj(usage)) return undefined;
  return usageWithSeparateCache({
    input: num(usage.inputTokens),
    output: num(usage.outputTokens),
    cacheRead: num(usage.cacheReadInputTokens),
    cacheWrite: num(usage.cacheWriteInputTokens),
  });
}

export function toOpenAIResponse(body: unknown): unknown {
  if (!isObj(body) || !isObj(body.output)) return body;
  const message = isObj(body.output.message) ? body.output.message : {};
  const blocks = Array.isArray(message.content) ? (message.content as Json[]) : [];
  const text = blocks
    .filter((b) => typeof b.text === 'string')
    .map((b) => b.text as string)
    .join('');
  const calls = blocks
    .filter((b) => isObj(b.toolUse))
    .map((b) => {
      const use = b.toolUse as Json;
      return {
        id: String(use.toolUseId ?? ''),
        type: 'function',
        function: { name: String(use.name ?? ''), arguments: JSON.stringify(use.input ?? {}) },
      };
    });
  return {
    // Converse answers carry neither an id nor the model name.
    id: `chatcmpl-bedrock-${crypto.randomUUID()}`,
    object: 'chat.completion',
    created: Math.floor(Date.now() / 1000),
    model: 'bedrock',
    choices: [
      {
        index: 0,
        message: {
          role: 'assistant',
          content: text === '' && calls.length > 0 ? null : text,
          refusal: null,
          ...(calls.length > 0 ? { tool_calls: calls } : {}),
        },
        logprobs: null,
        finish_reason: finishReason(body.stopReason) ?? 'stop',
      },
    ],
    usage: openAIUsage(body.usage),
  };
}

/** Exception name -> [OpenAI type, code, status to report, action override]. */
const EXCEPTIONS: Record<string, [string, string | null, number?, ProviderError['action']?]> = {
  ValidationException: ['invalid_request_error', null, 400],
  AccessDeniedException: ['permission_error', null, 403, 'fallback'],
  UnrecognizedClientException: ['authentication_error', 'invalid_api_key', 403, 'fallback'],
  InvalidSignatureException: ['authentication_error', 'invalid_api_key', 403, 'fallback'],
  ExpiredTokenException: ['authentication_error', 'invalid_api_key', 403, 'fallback'],
  ResourceNotFoundException: ['invalid_request_error', 'model_not_found', 404, 'fallback'],
  ThrottlingException: ['rate_limit_error', 'rate_limit_exceeded', 429, 'retry'],
  // Quota is per account/region: another target may have room, retrying here will not help.
  ServiceQuotaExceededException: ['rate_limit_error', 'insufficient_quota', 429, 'fallback'],
  // AWS answers 429 while a model is being loaded: busy, not rate limited.
  ModelNotReadyException: ['server_error', 'model_not_ready', 503, 'retry'],
  ServiceUnavailableException: ['server_error', 'service_unavailable', 503, 'retry'],
  InternalServerException: ['server_error', null, 500, 'retry'],
  ModelTimeoutException: ['timeout_error', 'upstream_timeout', 408, 'retry'],
  // 424: the model itself failed on this request.
  ModelErrorException: ['server_error', 'model_error', 502, 'retry'],
  ModelStreamErrorException: ['server_error', 'model_error', 502, 'retry'],
};

const TOO_LONG =
  /too long|too many (input )?tokens|exceeds? (the )?(maximum )?(context|input)|context (length|window)/i;

/** The exception name of an `x-amzn-errortype` value (`Name:http://internal...`) or a body. */
export function exceptionName(headers: Headers | undefined, body: Json): string | undefined {
  const header = headers?.get('x-amzn-errortype');
  const raw = header ?? (typeof body.__type === 'string' ? body.__type : undefined);
  if (!raw) return undefined;
  const name = raw.split(':')[0]!;
  return name.includes('#') ? name.slice(name.lastIndexOf('#') + 1) : name;
}

/** One Bedrock exception (HTTP error or stream exception event) in OpenAI terms. */
export function openAIError(
  name: string | undefined,
  message: string,
  status?: number,
): ProviderError {
  // Stream exceptions are named in lower camel case (throttlingException).
  const key = name ? name[0]!.toUpperCase() + name.slice(1) : '';
  const known = EXCEPTIONS[key];
  const [type, code, reported, action] = known ?? [
    (status ?? 500) >= 500 ? 'server_error' : 'invalid_request_error',
    null,
  ];
  const tooLong = key === 'ValidationException' && TOO_LONG.test(message);
  return {
    ...(reported !== undefined ? { status: reported } : {}),
    ...(tooLong ? { action: 'reject' as const } : action ? { action } : {}),
    error: { message, type, param: null, code: tooLong ? 'context_length_exceeded' : code },
  };
}

export function mapBedrockError(
  status: number,
  text: string,
  headers?: Headers,
): ProviderError | undefined {
  const parsed = parseJson(text);
  const body = isObj(parsed) ? parsed : {};
  const name = exceptionName(headers, body);
  const message = body.message ?? body.Message;
  if (!name && typeof message !== 'string') return undefined;
  return openAIError(
    name,
    typeof message === 'string' ? message : `Bedrock answered ${status}.`,
    status,
  );
}
