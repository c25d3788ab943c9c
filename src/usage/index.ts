/**
 * Token accounting. Contract: every request ends with a `Usage`, taken from the upstream when
 * it reported one (`source: 'upstream'`) and estimated otherwise (`source: 'estimated'`: a
 * stream cut short, a host that does not report streamed usage).
 */

export interface Usage {
  prompt_tokens: number;
  completion_tokens: number;
  total_tokens: number;
  /** Prompt tokens served from the provider's prompt cache, when it says so. */
  cached_tokens?: number;
  /** Prompt tokens written to the provider's prompt cache (Anthropic, Bedrock), billed apart. */
  cache_write_tokens?: number;
  /** Of those, the ones written with a 1-hour lifetime (Anthropic), billed apart again. */
  cache_write_1h_tokens?: number;
  /** Of the completion tokens, the ones spent reasoning, when the upstream says so. */
  reasoning_tokens?: number;
  source: 'upstream' | 'estimated';
}

/** Reads an OpenAI `usage` object; undefined when absent or not usage-shaped. */
export function usageFromOpenAI(value: unknown): Usage | undefined {
  if (!value || typeof value !== 'object') return undefined;
  const u = value as Record<string, unknown>;
  if (typeof u.prompt_tokens !== 'number') return undefined;
  const completion = typeof u.completion_tokens === 'number' ? u.completion_tokens : 0;
  const details = u.prompt_tokens_details as Record<string, unknown> | null | undefined;
  const count = (v: unknown) => (typeof v === 'number' && v > 0 ? v : undefined);
  const cached = typeof details?.cached_tokens === 'number' ? details.cached_tokens : undefined;
  // `cache_creation_tokens` / `cache_creation_1h_tokens` are the gateway's own extension of
  // OpenAI's prompt_tokens_details, written by the Anthropic and Bedrock mappers.
  const written = count(details?.cache_creation_tokens);
  const written1h = count(details?.cache_creation_1h_tokens);
  const completionDetails = u.completion_tokens_details as
    | Record<string, unknown>
    | null
    | undefined;
  const reasoning = count(completionDetails?.reasoning_tokens);
  return {
    prompt_tokens: u.prompt_tokens,
    completion_tokens: completion,
    total_tokens:
      typeof u.total_tokens === 'number' ? u.total_tokens : u.prompt_tokens + completion,
    ...(cached !== undefined ? { cached_tokens: cached } : {}),
    ...(written !== undefined ? { cache_write_tokens: written } : {}),
    ...(written1h !== undefined ? { cache_write_1h_tokens: written1h } : {}),
    ...(reasoning !== undefined ? { reasoning_tokens: reasoning } : {}),
    source: 'upstream',
  };
}

/**
 * A tokenizer-free estimate: ~4 characters per token for English text, the rule of thumb
 * OpenAI documents. A real tokenizer (tiktoken's BPE ranks are megabytes) does not fit a
 * Worker's bundle budget; this is only used when the upstream gave no count.
 */
export function estimateTokens(text: string): number {
  return text.length === 0 ? 0 : Math.ceil(text.length / 4);
}

/** Estimated prompt tokens of an OpenAI request body (messages, prompt or input). */
export function estimatePromptTokens(body: Record<string, unknown>): number {
  return estimateTokens(collectText(body.messages ?? body.prompt ?? body.input));
}

function collectText(value: unknown): string {
  if (typeof value === 'string') return value;
  if (typeof value === 'number') return 'x';
  if (Array.isArray(value)) return value.map(collectText).join(' ');
  if (value && typeof value === 'object') {
    const o = value as Record<string, unknown>;
    return [o.content, o.text, o.tool_calls, o.arguments].map(collectText).join(' ');
  }
  return '';
}

export function estimatedUsage(promptTokens: number, completionText: string): Usage {
  const completion = estimateTokens(completionText);
  return {
    prompt_tokens: promptTokens,
    completion_tokens: completion,
    total_tokens: promptTokens + completion,
    source: 'estimated',
  };
}
