import type { z } from 'zod';
import type { GatewayConfig } from '../config/index.ts';
import type { compatibleProviderSchema, openaiProviderSchema } from '../config/schema.ts';
import { joinUrl, openAIShapedProvider } from './openai-shaped.ts';
import type { Provider } from './types.ts';

type OpenAIConfig = z.output<typeof openaiProviderSchema>;
type CompatibleConfig = z.output<typeof compatibleProviderSchema>;

/** OpenAI itself: `${baseUrl}/chat/completions` with a bearer key. */
export function openaiProvider(
  id: string,
  config: OpenAIConfig,
  defaults: GatewayConfig['defaults'],
): Provider {
  return openAIShapedProvider(id, config, defaults, {
    url: (endpoint) => joinUrl(config.baseUrl, endpoint),
    probeUrl: joinUrl(config.baseUrl, 'models'),
    responses: { url: joinUrl(config.baseUrl, 'responses') },
    realtimeUrl: (model) =>
      `${joinUrl(config.baseUrl, 'realtime')}?model=${encodeURIComponent(model)}`,
    auth: { authorization: `Bearer ${config.apiKey}` },
    streamUsage: true,
    secrets: [config.apiKey],
  });
}

/** Any OpenAI-compatible host (vLLM, Groq, Together...): the key is optional. */
export function compatibleProvider(
  id: string,
  config: CompatibleConfig,
  defaults: GatewayConfig['defaults'],
): Provider {
  return openAIShapedProvider(id, config, defaults, {
    url: (endpoint) => joinUrl(config.baseUrl, endpoint),
    probeUrl: joinUrl(config.baseUrl, 'models'),
    auth: config.apiKey ? { authorization: `Bearer ${config.apiKey}` } : {},
    streamUsage: config.streamUsage,
    secrets: config.apiKey ? [config.apiKey] : [],
  });
}
