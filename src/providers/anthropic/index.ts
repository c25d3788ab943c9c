/**
 * Anthropic Messages API provider: `${baseUrl}/messages` with `x-api-key` and
 * `anthropic-version`. Translation lives in pure modules beside this one (request.ts,
 * response.ts, stream.ts). Requests that came in Anthropic's own shape (`/v1/messages`) are
 * sent as they are (`native`), so nothing without an OpenAI equivalent (cache_control,
 * thinking, citations, new fields) is lost.
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
  /** A request in Anthropic's own shape, sent as it is, with the headers the ingress forwards
   * (the client's API version and beta features hold for its own request shape). */
  const asIs = (path: string, body: Record<string, unknown>, clientHeaders: Headers) => {
    const out = new Headers(headers);
    for (const [name, value] of clientHeaders) out.set(name, value);
    return { url: joinUrl(config.baseUrl, path), headers: out, body: JSON.stringify(body) };
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
    native: {
      format: 'anthropic',
      buildRequest: (body, clientHeaders) => asIs('messages', body, clientHeaders),
      countTokensRequest: (body, clientHeaders) =>
        asIs('messages/count_tokens', body, clientHeaders),
    },
    probeRequest: () => ({ url: joinUrl(config.baseUrl, 'models'), headers: new Headers(headers) }),
    mapResponse: toOpenAIResponse,
    extractUsage: (body) => usageFromOpenAI((body as { usage?: unknown } | null)?.usage),
    streamMapper: anthropicStreamMapper,
    mapError: (status, text) => mapAnthropicError(status, text),
  };
}
