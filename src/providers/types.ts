import type { EventSourceMessage } from 'eventsource-parser';
import type { RetryPolicy, Timeouts } from '../config/index.ts';
import type { Endpoint } from '../schemas/openai.ts';
import type { SSEReader } from '../sse/index.ts';
import type { Usage } from '../usage/index.ts';

export interface UpstreamRequest {
  url: string;
  headers: Headers;
  body: string;
}

export interface ProbeRequest {
  url: string;
  headers: Headers;
}

/** Per-request context a provider may forward upstream (the origin provider does). */
export interface RequestMeta {
  requestId: string;
  traceparent?: string | undefined;
  tenant?: string | undefined;
  priority?: string | undefined;
}

/**
 * A wire format other than OpenAI's that an ingress speaks (`/v1/messages`: Anthropic's) and
 * that some providers take as is, so requests in it reach them untranslated.
 */
/** `anthropic`: the Messages API; `openai-responses`: OpenAI's Responses API. */
export type NativeFormat = 'anthropic' | 'openai-responses';

/** A provider's way of sending a request that is already in its own format. */
export interface NativeSupport {
  format: NativeFormat;
  /** `body` is the client's, with the upstream model name; `clientHeaders` the ones the
   * ingress chose to forward (e.g. `anthropic-beta`), all set on the upstream request. */
  buildRequest(body: Record<string, unknown>, clientHeaders: Headers): UpstreamRequest;
  /** The upstream's own token count of such a request, if it has one. */
  countTokensRequest?(body: Record<string, unknown>, clientHeaders: Headers): UpstreamRequest;
}

/** An upstream error in OpenAI terms, from a provider whose error bodies are not OpenAI's. */
export interface ProviderError {
  /** The status to report and classify by (e.g. Anthropic's 529 -> 503). Default: upstream's. */
  status?: number;
  error: { message: string; type: string; param: string | null; code: string | null };
  /** Overrides the status-based retry decision (e.g. a 400 that means a bad upstream key). */
  action?: 'retry' | 'fallback' | 'reject';
}

/**
 * A provider is one small module: build the upstream request, map the response and the stream
 * back to OpenAI shapes, extract usage. The gateway core only ever sees OpenAI shapes.
 */
export interface Provider {
  /** The provider's key in the config, reported as `x-gateway-provider`. */
  readonly id: string;
  readonly kind: string;
  /** The region it runs in; undefined for a global endpoint. */
  readonly region?: string;
  /** Residency zones whose requests may go here (empty: only unrestricted keys). */
  readonly zones: readonly string[];
  /** The config defaults merged with this provider's overrides. */
  readonly timeouts: Timeouts;
  readonly retry: RetryPolicy;
  /** Values that must never appear in a response body or log line (API keys). */
  readonly secrets: readonly string[];
  /** Host names of every configured provider and origin, scrubbed from upstream error text
   * before it reaches a client (set by `createProviders`). */
  readonly hosts?: readonly string[];
  /** Whether the upstream reports streamed usage when asked with `stream_options`. */
  readonly streamUsage: boolean;
  /** `body` already carries the upstream model name. May be async (signing uses Web Crypto). */
  buildRequest(
    endpoint: Endpoint,
    body: Record<string, unknown>,
    meta?: RequestMeta,
  ): UpstreamRequest | Promise<UpstreamRequest>;
  /** A cheap GET that tells whether the endpoint is up (the cron probe), if any. May be
   * async (Bedrock signs it with SigV4). */
  probeRequest?(): ProbeRequest | Promise<ProbeRequest>;
  /** Upstream response body -> OpenAI response body. */
  mapResponse(body: unknown): unknown;
  extractUsage(body: unknown): Usage | undefined;
  /** Its answers and stream events are OpenAI's as they are (`mapResponse` and `streamMapper`
   * are the identity): JSON answers go back as the upstream wrote them, streams are relayed
   * byte for byte (src/proxy/stream-relay.ts, `relayFrames`). */
  readonly speaksOpenAI?: boolean;
  /** A fresh, per-stream mapper from one upstream SSE event to OpenAI chunk `data` strings. */
  streamMapper(): (event: EventSourceMessage) => string[];
  /** A non-2xx upstream answer -> OpenAI-shaped error. Default: the body is read as OpenAI's. */
  mapError?(status: number, text: string, headers: Headers): ProviderError | undefined;
  /** Takes requests in its own format unchanged (the Anthropic provider), if it can. Its
   * answers are still read through `mapResponse` / `streamMapper` for usage and the cache. */
  native?: NativeSupport;
  /** The WebSocket upgrade request of a realtime session on `model` (OpenAI, Azure), if the
   * host has realtime. */
  realtimeRequest?(model: string): { url: string; headers: Headers };
  /** Reads events from a streamed body. Default: SSE. (Bedrock's event stream is binary.) */
  streamReader?(body: ReadableStream<Uint8Array>): SSEReader;
}
