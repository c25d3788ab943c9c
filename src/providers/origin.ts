import type { z } from 'zod';
import type { GatewayConfig } from '../config/index.ts';
import type { originProviderSchema } from '../config/schema.ts';
import { signRequest } from '../signing/index.ts';
import { joinUrl, openAIShapedProvider } from './openai-shaped.ts';
import type { Provider, RequestMeta } from './types.ts';

type OriginConfig = z.output<typeof originProviderSchema>;

/** Headers the origin reads; the signature does not cover them (they are routing hints). */
export const ORIGIN_HEADERS = {
  requestId: 'x-request-id',
  traceparent: 'traceparent',
  tenant: 'x-gateway-tenant',
  priority: 'x-gateway-priority',
} as const;

const PRIORITIES = new Set(['high', 'normal', 'low']);
const TRACEPARENT = /^[\da-f]{2}-[\da-f]{32}-[\da-f]{16}-[\da-f]{2}$/;

/**
 * The region's self-hosted origin (origin/): OpenAI-shaped both ways, so responses and stream
 * events pass through unchanged. Every request is signed (src/signing) with a fresh nonce, so
 * each retry is a new signature; the origin answers 401 to anything else.
 */
export function originProvider(
  id: string,
  config: OriginConfig,
  defaults: GatewayConfig['defaults'],
): Provider {
  const base = openAIShapedProvider(id, config, defaults, {
    url: (endpoint) => joinUrl(config.baseUrl, endpoint),
    auth: {},
    streamUsage: true,
    secrets: [config.signingKey],
  });
  const key = { id: config.keyId, secret: config.signingKey };
  return {
    ...base,
    async buildRequest(endpoint, body, meta?: RequestMeta) {
      const request = await base.buildRequest(endpoint, body);
      const signed = await signRequest({
        key,
        method: 'POST',
        url: request.url,
        body: request.body,
      });
      for (const [name, value] of Object.entries(signed)) request.headers.set(name, value);
      if (meta) {
        request.headers.set(ORIGIN_HEADERS.requestId, meta.requestId);
        if (meta.traceparent && TRACEPARENT.test(meta.traceparent)) {
          request.headers.set(ORIGIN_HEADERS.traceparent, meta.traceparent);
        }
        // Percent-encoded: tenant names are free text, header values are not.
        if (meta.tenant)
          request.headers.set(ORIGIN_HEADERS.tenant, encodeURIComponent(meta.tenant));
        const priority = meta.priority?.toLowerCase();
        if (priority && PRIORITIES.has(priority)) {
          request.headers.set(ORIGIN_HEADERS.priority, priority);
        }
      }
      return request;
    },
  };
}
