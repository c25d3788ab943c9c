/**
 * Google Gemini API provider: `${baseUrl}/models/{model}:generateContent` (or
 * `:streamGenerateContent?alt=sse`) with `x-goog-api-key`. Translation: ./translate.ts,
 * ./stream.ts.
 */
import type { z } from 'zod';
import type { GatewayConfig } from '../../config/index.ts';
import type { geminiProviderSchema } from '../../config/schema.ts';
import { usageFromOpenAI } from '../../usage/index.ts';
import { providerBasics } from '../json.ts';
import { joinUrl } from '../openai-shaped.ts';
import type { Provider } from '../types.ts';
import { geminiStreamMapper } from './stream.ts';
import { mapGeminiError, toGeminiRequest, toOpenAIResponse } from './translate.ts';

type GeminiConfig = z.output<typeof geminiProviderSchema>;

export function geminiProvider(
  id: string,
  config: GeminiConfig,
  defaults: GatewayConfig['defaults'],
): Provider {
  const headers = {
    'content-type': 'application/json',
    ...config.headers,
    'x-goog-api-key': config.apiKey,
  };
  return {
    ...providerBasics(id, config, defaults, [config.apiKey]),
    buildRequest(_endpoint, body) {
      const model = String(body.model);
      const method = body.stream === true ? 'streamGenerateContent?alt=sse' : 'generateContent';
      return {
        url: joinUrl(config.baseUrl, `models/${encodeURIComponent(model)}:${method}`),
        headers: new Headers(headers),
        body: JSON.stringify(toGeminiRequest(body)),
      };
    },
    probeRequest: () => ({ url: joinUrl(config.baseUrl, 'models'), headers: new Headers(headers) }),
    mapResponse: (body) => toOpenAIResponse(body, 'gemini'),
    extractUsage: (body) => usageFromOpenAI((body as { usage?: unknown } | null)?.usage),
    streamMapper: () => geminiStreamMapper(),
    mapError: (status, text) => mapGeminiError(status, text),
  };
}
