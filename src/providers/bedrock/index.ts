/**
 * AWS Bedrock Runtime provider, Converse API: `POST {endpoint}/model/{modelId}/converse` and
 * `/converse-stream` (https://docs.aws.amazon.com/bedrock/latest/APIReference/API_runtime_Converse.html),
 * signed with SigV4 (service `bedrock`) by aws4fetch, per attempt (the signature carries a
 * timestamp). Translation: ./request.ts, ./response.ts, ./stream.ts (binary event stream).
 */
import { AwsV4Signer } from 'aws4fetch';
import type { z } from 'zod';
import type { GatewayConfig } from '../../config/index.ts';
import type { bedrockProviderSchema } from '../../config/schema.ts';
import { usageFromOpenAI } from '../../usage/index.ts';
import { providerBasics } from '../json.ts';
import { joinUrl } from '../openai-shaped.ts';
import type { Provider } from '../types.ts';
import { toConverseRequest } from './request.ts';
import { mapBedrockError, toOpenAIResponse } from './response.ts';
import { bedrockStreamMapper, eventStreamReader } from './stream.ts';

type BedrockConfig = z.output<typeof bedrockProviderSchema>;

export function bedrockEndpoint(config: BedrockConfig): string {
  return config.endpoint ?? `https://bedrock-runtime.${config.awsRegion}.amazonaws.com`;
}

/** The control plane, where the cron probe lists foundation models. */
export function bedrockControlEndpoint(config: BedrockConfig): string {
  return config.controlEndpoint ?? `https://bedrock.${config.awsRegion}.amazonaws.com`;
}

export function bedrockProvider(
  id: string,
  config: BedrockConfig,
  defaults: GatewayConfig['defaults'],
): Provider {
  const endpoint = bedrockEndpoint(config);
  const sessionToken = config.sessionToken || undefined; // `${AWS_SESSION_TOKEN:-}` may be ''
  const credentials = {
    accessKeyId: config.accessKeyId,
    secretAccessKey: config.secretAccessKey,
    ...(sessionToken ? { sessionToken } : {}),
  };
  const sign = async (
    method: 'GET' | 'POST',
    url: string,
    headers: Record<string, string>,
    body?: string,
  ) => {
    const signer = new AwsV4Signer({
      method,
      url,
      headers: { ...config.headers, ...headers },
      ...(body !== undefined ? { body } : {}),
      ...credentials,
      service: 'bedrock',
      region: config.awsRegion,
    });
    const signed = await signer.sign();
    return { url: signed.url.toString(), headers: signed.headers };
  };
  return {
    ...providerBasics(id, config, defaults, [
      config.secretAccessKey,
      ...(sessionToken ? [sessionToken] : []),
    ]),
    async buildRequest(_endpoint, body) {
      const stream = body.stream === true;
      const model = encodeURIComponent(String(body.model));
      const url = joinUrl(endpoint, `model/${model}/${stream ? 'converse-stream' : 'converse'}`);
      const payload = JSON.stringify(toConverseRequest(body));
      const accept = stream ? 'application/vnd.amazon.eventstream' : 'application/json';
      const signed = await sign(
        'POST',
        url,
        { 'content-type': 'application/json', accept },
        payload,
      );
      return { ...signed, body: payload };
    },
    // ListFoundationModels (https://docs.aws.amazon.com/bedrock/latest/APIReference/API_ListFoundationModels.html):
    // a signed read that answers 200 while the region's Bedrock and these credentials work.
    probeRequest: () =>
      sign(
        'GET',
        `${joinUrl(bedrockControlEndpoint(config), 'foundation-models')}?byOutputModality=TEXT`,
        {
          accept: 'application/json',
        },
      ),
    mapResponse: toOpenAIResponse,
    extractUsage: (body) => usageFromOpenAI((body as { usage?: unknown } | null)?.usage),
    streamMapper: bedrockStreamMapper,
    mapError: mapBedrockError,
    streamReader: eventStreamReader,
  };
}
