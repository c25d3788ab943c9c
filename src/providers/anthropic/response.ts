/**
 * Anthropic Messages response, usage and errors -> OpenAI shapes (pure).
 * References: https://docs.anthropic.com/en/api/messages (response: content blocks, stop_reason,
 * usage with cache_creation_input_tokens / cache_read_input_tokens) and
 * https://docs.anthropic.com/en/api/errors (error types and HTTP statuses, 529 overloaded).
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
  pause_turn: 'stop',
  max_tokens: 'length',
  model_context_window_exceeded: 'length',
  tool_use: 'tool_calls',
  refusal: 'content_filter',
};

export const finishReason = (stop: unknown) => mapFinishReason(FINISH_REASONS, stop);

/**
 * Anthropic usage -> OpenAI usage. Anthropic's `input_tokens` excludes cached tokens, so
 * prompt_tokens = input + cache_creation + cache_read; cached_tokens = cache_read. Cache writes
 * are kept in `prompt_tokens_details.cache_creation_tokens` (not an OpenAI field; those with a
 * 1-hour lifetime, from `usage.cache_creation`, also in `cache_creation_1h_tokens`) so they are
 * billed at their own price and the Anthropic-shaped ingress can give them back exactly.
 */
export function openAIUsage(usage: unknown): Json | undefined {
  if (!isObj(usage)) return undefined;
  return usageWithSeparateCache({
    input: num(usage.input_tokens),
    output: num(usage.output_tokens),
    cacheRead: num(usage.cache_read_input_tokens),
    cacheWrite: num(usage.cache_creation_input_tokens),
    cacheWrite1h: isObj(usage.cache_creation)
      ? num(usage.cache_creation.ephemeral_1h_input_tokens)
      : 0,
  });
}

export function toOpenAIResponse(body: unknown): unknown {
  if (!isObj(body) || body.type !== 'message') return body;
  const blocks = Array.isArray(body.content) ? (body.content as Json[]) : [];
  const text = blocks
    .filter((b) => b.type === 'text')
    .map((b) => String(b.text ?? ''))
    .join('');
  const calls = blocks
    .filter((b) => b.type === 'tool_use')
    .map((b) => ({
      id: b.id,
      type: 'function',
      function: { name: b.name, arguments: JSON.stringify(b.input ?? {}) },
    }));
  return {
    id: body.id,
    object: 'chat.completion',
    created: Math.floor(Date.now() / 1000),
    model: body.model,
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
        finish_reason: finishReason(body.stop_reason) ?? 'stop',
      },
    ],
    usage: openAIUsage(body.usage),
  };
}

/** Anthropic error type -> [OpenAI type, code]. */
const ERROR_TYPES: Record<string, [string, string | null]> = {
  invalid_request_error: ['invalid_request_error', null],
  authentication_error: ['authentication_error', 'invalid_api_key'],
  permission_error: ['permission_error', null],
  not_found_error: ['invalid_request_error', 'model_not_found'],
  request_too_large: ['invalid_request_error', 'request_too_large'],
  rate_limit_error: ['rate_limit_error', 'rate_limit_exceeded'],
  api_error: ['server_error', null],
  overloaded_error: ['server_error', 'overloaded'],
  timeout_error: ['timeout_error', 'upstream_timeout'],
};

/** `{type:"error", error:{type, message}}` -> an OpenAI error; the reported status too. */
export function mapAnthropicError(status: number, text: string): ProviderError | undefined {
  const parsed = parseJson(text);
  const e = isObj(parsed) && isObj(parsed.error) ? parsed.error : undefined;
  if (!e || typeof e.message !== 'string') return undefined;
  return { status: status === 529 ? 503 : status, error: openAIError(e) };
}

/** One Anthropic `error` object (HTTP body or stream `error` event) in OpenAI terms. */
export function openAIError(e: Json): ProviderError['error'] {
  const kind = typeof e.type === 'string' ? e.type : 'api_error';
  const message = String(e.message ?? 'The upstream provider failed.');
  const [type, code] = ERROR_TYPES[kind] ?? ['server_error', null];
  const tooLong =
    kind === 'invalid_request_error' && /prompt is too long|too many tokens/i.test(message);
  return { message, type, param: null, code: tooLong ? 'context_length_exceeded' : code };
}
