import type { GatewayConfig, ProviderConfig } from '../config/index.ts';
import type { Endpoint } from '../schemas/openai.ts';
import { usageFromOpenAI } from '../usage/index.ts';
import { providerBasics } from './json.ts';
import type { Provider } from './types.ts';

/**
 * The shared body of every provider that already speaks the OpenAI wire format (OpenAI, Azure
 * OpenAI, vLLM, Groq, Together...): only the URL and the auth header differ, so responses and
 * stream events pass through unchanged.
 */
export function openAIShapedProvider(
  id: string,
  config: ProviderConfig,
  defaults: GatewayConfig['defaults'],
  spec: {
    url: (endpoint: Endpoint, model: string) => string;
    auth: Record<string, string>;
    /** GET here answers 2xx while the endpoint is up (a model list). Default: no probe. */
    probeUrl?: string;
    streamUsage: boolean;
    secrets: string[];
    /** Where the host takes Responses API requests as they are (OpenAI, Azure OpenAI), and
     * the model name it wants there. Default: none (Responses requests are translated). */
    responses?: { url: string; model?: (model: string) => string };
    /** The realtime WebSocket URL of a model (https: the upgrade is a fetch). Default none. */
    realtimeUrl?: (model: string) => string;
  },
): Provider {
  const fixedHeaders = { 'content-type': 'application/json', ...config.headers, ...spec.auth };
  return {
    ...providerBasics(id, config, defaults, spec.secrets, spec.streamUsage),
    buildRequest(endpoint, body) {
      return {
        url: spec.url(endpoint, String(body.model)),
        headers: new Headers(fixedHeaders),
        body: JSON.stringify(body),
      };
    },
    ...(spec.responses
      ? {
          native: {
            format: 'openai-responses' as const,
            buildRequest: (body: Record<string, unknown>) => ({
              url: spec.responses!.url,
              headers: new Headers(fixedHeaders),
              body: JSON.stringify({
                ...body,
                model: spec.responses!.model?.(String(body.model)) ?? body.model,
              }),
            }),
          },
        }
      : {}),
    ...(spec.realtimeUrl
      ? {
          realtimeRequest: (model: string) => ({
            url: spec.realtimeUrl!(model),
            headers: new Headers({ ...config.headers, ...spec.auth }),
          }),
        }
      : {}),
    ...(spec.probeUrl
      ? { probeRequest: () => ({ url: spec.probeUrl!, headers: new Headers(fixedHeaders) }) }
      : {}),
    mapResponse: (body) => body,
    extractUsage: (body) => usageFromOpenAI((body as { usage?: unknown } | null)?.usage),
    streamMapper: () => (event) => [event.data],
    speaksOpenAI: true,
  };
}

export function joinUrl(base: string, path: string): string {
  return `${base.replace(/\/+$/, '')}/${path}`;
}
