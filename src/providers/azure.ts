import type { z } from 'zod';
import type { GatewayConfig } from '../config/index.ts';
import type { azureProviderSchema } from '../config/schema.ts';
import { joinUrl, openAIShapedProvider } from './openai-shaped.ts';
import type { Provider } from './types.ts';

type AzureConfig = z.output<typeof azureProviderSchema>;

/**
 * Azure OpenAI: deployment URLs, `api-key` header and a required `api-version` query:
 * `${endpoint}/openai/deployments/${deployment}/chat/completions?api-version=...`.
 * The target's model names the deployment through `deployments` (default: same name).
 */
export function azureProvider(
  id: string,
  config: AzureConfig,
  defaults: GatewayConfig['defaults'],
): Provider {
  return openAIShapedProvider(id, config, defaults, {
    url: (endpoint, model) => {
      const deployment = encodeURIComponent(config.deployments[model] ?? model);
      const path = `openai/deployments/${deployment}/${endpoint}`;
      return `${joinUrl(config.endpoint, path)}?api-version=${encodeURIComponent(config.apiVersion)}`;
    },
    probeUrl: `${joinUrl(config.endpoint, 'openai/models')}?api-version=${encodeURIComponent(config.apiVersion)}`,
    // The v1 data plane takes Responses requests with the deployment as the model.
    responses: {
      url: joinUrl(config.endpoint, 'openai/v1/responses'),
      model: (model) => config.deployments[model] ?? model,
    },
    realtimeUrl: (model) =>
      `${joinUrl(config.endpoint, 'openai/v1/realtime')}?model=${encodeURIComponent(config.deployments[model] ?? model)}`,
    auth: { 'api-key': config.apiKey },
    streamUsage: true,
    secrets: [config.apiKey],
  });
}
