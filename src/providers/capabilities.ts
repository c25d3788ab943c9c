import type { ProviderConfig } from '../config/schema.ts';
import type { Endpoint } from '../schemas/openai.ts';

/**
 * Which gateway endpoints each provider kind can serve. Anthropic, Gemini and Bedrock are
 * translated from chat completions only: no embeddings, no legacy (prompt) completions. Pure.
 */
const SERVES: Record<ProviderConfig['kind'], readonly Endpoint[]> = {
  openai: ['chat/completions', 'completions', 'embeddings'],
  'azure-openai': ['chat/completions', 'completions', 'embeddings'],
  'openai-compatible': ['chat/completions', 'completions', 'embeddings'],
  origin: ['chat/completions', 'completions', 'embeddings'],
  anthropic: ['chat/completions'],
  gemini: ['chat/completions'],
  bedrock: ['chat/completions'],
};

export function servesEndpoint(kind: ProviderConfig['kind'], endpoint: Endpoint): boolean {
  return SERVES[kind].includes(endpoint);
}
