import type { ModelConfig } from '../config/index.ts';
import type { Endpoint } from '../schemas/openai.ts';
import type { NativeExchange } from './native.ts';

export interface ProxyRequest {
  endpoint: Endpoint;
  /** The request in OpenAI's shape (the translation, when `native` is set). */
  body: Record<string, unknown>;
  model: ModelConfig;
  /** The request in the client's own format, for targets that take it as is (./native.ts). */
  native?: NativeExchange;
}

/** Whether the answer is a stream, and whether the client itself asked for its usage chunk. */
export function streamOf(request: Pick<ProxyRequest, 'endpoint' | 'body'>): {
  stream: boolean;
  clientWantsUsage: boolean;
} {
  const stream = request.body.stream === true && request.endpoint !== 'embeddings';
  return { stream, clientWantsUsage: stream && streamOptions(request.body).include_usage === true };
}

/**
 * The body sent upstream: the client's body (unknown fields included) with the upstream model
 * name and, for streams, `stream_options.include_usage` forced on so usage is always known.
 */
export function upstreamBody(
  body: Record<string, unknown>,
  model: string,
  stream: boolean,
  askUsage: boolean,
): Record<string, unknown> {
  const out: Record<string, unknown> = { ...body, model };
  if (stream && askUsage) out.stream_options = { ...streamOptions(body), include_usage: true };
  return out;
}

function streamOptions(body: Record<string, unknown>): Record<string, unknown> {
  const options = body.stream_options;
  return options && typeof options === 'object' ? (options as Record<string, unknown>) : {};
}
