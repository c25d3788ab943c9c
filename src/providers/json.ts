/** Small helpers shared by the providers. Pure. */
import type { GatewayConfig, RetryPolicy, Timeouts } from '../config/index.ts';

/** The part of every provider that comes straight from its config. */
export function providerBasics(
  id: string,
  config: {
    kind: string;
    timeouts?: Partial<Timeouts> | undefined;
    retry?: Partial<RetryPolicy> | undefined;
  },
  defaults: GatewayConfig['defaults'],
  secrets: string[],
  streamUsage = true,
) {
  return {
    id,
    kind: config.kind,
    zones: [] as string[],
    timeouts: { ...defaults.timeouts, ...config.timeouts },
    retry: { ...defaults.retry, ...config.retry },
    secrets,
    streamUsage,
  };
}

export type Json = Record<string, unknown>;

export const isObj = (v: unknown): v is Json =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

export const num = (v: unknown): number => (typeof v === 'number' ? v : 0);

/** A provider stop reason through its table; unknown reasons read as a normal stop. */
export function mapFinishReason(table: Record<string, string>, stop: unknown): string | null {
  if (typeof stop !== 'string') return null;
  return table[stop] ?? 'stop';
}

/**
 * OpenAI usage for providers that report cached prompt tokens apart from the rest (Anthropic,
 * Bedrock): prompt_tokens = input + cache writes + cache reads, cached_tokens = cache reads.
 * Cache writes stay in `prompt_tokens_details.cache_creation_tokens` (not an OpenAI field) so
 * the Anthropic-shaped ingress can give them back exactly.
 */
export function usageWithSeparateCache(u: {
  input: number;
  output: number;
  cacheRead: number;
  cacheWrite: number;
  /** Of the cache writes, those with a 1-hour lifetime (Anthropic's `cache_creation`). */
  cacheWrite1h?: number;
}): Json {
  const prompt = u.input + u.cacheWrite + u.cacheRead;
  const details: Json = { cached_tokens: u.cacheRead, cache_creation_tokens: u.cacheWrite };
  if (u.cacheWrite1h) details.cache_creation_1h_tokens = u.cacheWrite1h;
  return {
    prompt_tokens: prompt,
    completion_tokens: u.output,
    total_tokens: prompt + u.output,
    prompt_tokens_details: details,
  };
}

/** JSON.parse that answers undefined instead of throwing (upstream bodies are untrusted). */
export function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/**
 * Writers of the OpenAI chunk `data` strings a translating stream mapper emits. `head` is read
 * at every call: some providers only name the id and model in their first event.
 */
export function chunkWriter(head: () => { id: unknown; created: number; model: unknown }) {
  const base = () => {
    const { id, created, model } = head();
    return { id, object: 'chat.completion.chunk', created, model };
  };
  return {
    /** One choice's delta, with its finish reason once there is one. */
    delta: (delta: Json, finish: string | null = null) =>
      JSON.stringify({
        ...base(),
        choices: [{ index: 0, delta, logprobs: null, finish_reason: finish }],
      }),
    /** The usage-only chunk OpenAI sends last when `stream_options.include_usage` is set. */
    usage: (usage: unknown) => JSON.stringify({ ...base(), choices: [], usage }),
  };
}
