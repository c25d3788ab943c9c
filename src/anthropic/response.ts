/**
 * The gateway's OpenAI chat response / usage / errors -> Anthropic shapes (pure).
 * References: https://docs.anthropic.com/en/api/messages, https://docs.anthropic.com/en/api/errors.
 */
import type { GatewayError } from '../errors.ts';
import { isObj, type Json, num } from '../providers/json.ts';

const STOP_REASONS: Record<string, string> = {
  stop: 'end_turn',
  length: 'max_tokens',
  tool_calls: 'tool_use',
  function_call: 'tool_use',
  content_filter: 'refusal',
};

export const stopReason = (finish: unknown): string =>
  (typeof finish === 'string' && STOP_REASONS[finish]) || 'end_turn';

/**
 * OpenAI usage -> Anthropic usage: input_tokens excludes cached prompt tokens (read and,
 * when the Anthropic provider reported them, written).
 */
export function anthropicUsage(usage: unknown): Json {
  const u = isObj(usage) ? usage : {};
  const details = isObj(u.prompt_tokens_details) ? u.prompt_tokens_details : {};
  const read = num(details.cached_tokens);
  const write = num(details.cache_creation_tokens);
  return {
    input_tokens: Math.max(0, num(u.prompt_tokens) - read - write),
    output_tokens: num(u.completion_tokens),
    cache_creation_input_tokens: write,
    cache_read_input_tokens: read,
  };
}

export function parseArgs(args: unknown): unknown {
  try {
    return typeof args === 'string' && args !== '' ? JSON.parse(args) : {};
  } catch {
    return {};
  }
}

export function toAnthropicMessage(body: unknown, requestedModel: string): Json {
  const b = isObj(body) ? body : {};
  const choice = Array.isArray(b.choices) && isObj(b.choices[0]) ? b.choices[0] : {};
  const message = isObj(choice.message) ? choice.message : {};
  const content: Json[] = [];
  if (typeof message.content === 'string' && message.content !== '') {
    content.push({ type: 'text', text: message.content });
  }
  if (Array.isArray(message.tool_calls)) {
    for (const call of message.tool_calls as Json[]) {
      const fn = isObj(call.function) ? call.function : {};
      content.push({
        type: 'tool_use',
        id: call.id,
        name: fn.name,
        input: parseArgs(fn.arguments),
      });
    }
  }
  return {
    id: typeof b.id === 'string' ? b.id : 'msg_gateway',
    type: 'message',
    role: 'assistant',
    model: typeof b.model === 'string' ? b.model : requestedModel,
    content,
    stop_reason: stopReason(choice.finish_reason),
    stop_sequence: null,
    usage: anthropicUsage(b.usage),
  };
}

/** HTTP status -> Anthropic error type (https://docs.anthropic.com/en/api/errors). */
export function anthropicErrorType(status: number, openAIType?: string): string {
  if (status === 400 || status === 422) return 'invalid_request_error';
  if (status === 401) return 'authentication_error';
  if (status === 403) return 'permission_error';
  if (status === 404) return 'not_found_error';
  if (status === 413) return 'request_too_large';
  if (status === 429) return 'rate_limit_error';
  if (status === 503 || status === 529) return 'overloaded_error';
  if (status === 504 || status === 408 || openAIType === 'timeout_error') return 'timeout_error';
  if (status >= 500) return 'api_error';
  return 'invalid_request_error';
}

export function anthropicErrorBody(error: GatewayError, requestId?: string): Json {
  return {
    type: 'error',
    error: { type: anthropicErrorType(error.status, error.type), message: error.message },
    ...(requestId ? { request_id: requestId } : {}),
  };
}
