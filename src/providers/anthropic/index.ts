/**
 * Anthropic Messages API provider: `${baseUrl}/messages` with `x-api-key` and
 * `anthropic-version`. Translation lives in pure modules beside this one (request.ts,
 * response.ts, stream.ts).
 */
import type { z } from 'zod';
import type { GatewayConfig } from '../../config/index.ts';
import type { anthropicProviderSchema } from '../../config/schema.ts';
import { usageFromOpenAI } from '../../usage/index.ts';
import { providerBasics } from '../json.ts';
import { joinUrl } from '../openai-shaped.ts';
import type { Provider } from '../types.ts';
import { toAnthropicRequest } from './request.ts';
import { mapAnthropicError, toOpenAIResponse } from './response.ts';
import { anthropicStreamMapper } from './stream.ts';

type AnthropicConfig = z.output<typeof anthropicProviderSchema>;

export function anthropicProvider(
  id: string,
  config: AnthropicConfig,
  defaults: GatewayConfig['defaults'],
): Provider {
  const headers = {
    'content-type': 'application/json',
    ...config.headers,
    'x-api-key': config.apiKey,
    'anthropic-version': config.version,
  };
  return {
    ...providerBasics(id, config, defaults, [config.apiKey]),
    buildRequest(_endpoint, body) {
      return {
        url: joinUrl(config.baseUrl, 'messages'),
        headers: new Headers(headers),
        body: JSON.stringify(toAnthropicRequest(body, config.defaultMaxTokens)),
      };
    },
    probeRequest: () => ({ url: joinUrl(config.baseUrl, 'models'), headers: new Headers(headers) }),
    mapResponse: toOpenAIResponse,
    extractUsage: (body) => usageFromOpenAI((body as { usage?: unknown } | null)?.usage),
    streamMapper: anthropicStreamMapper,
    mapError: (status, text) => mapAnthropicError(status, text),
  };
}
