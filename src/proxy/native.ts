/**
 * Native exchanges: an ingress that speaks another wire format than OpenAI's (`/v1/messages`,
 * Anthropic's) hands the proxy its client's request as it came, beside the OpenAI translation.
 * Targets whose provider takes that format (`Provider.native`) get it untranslated and their
 * answer goes back untouched; every other target gets the translation, and its answer is
 * turned into the format by `fromOpenAI`. Usage, limits, cost and the cache read every answer
 * through the provider's OpenAI mapping either way.
 */
import type { ErrorBody } from '../errors.ts';
import type { NativeFormat, Provider } from '../providers/index.ts';
import type { EventSourceMessage, StoredEvent } from '../sse/index.ts';

export interface NativeExchange {
  format: NativeFormat;
  /** The client's request body as validated, unknown fields included. */
  body: Record<string, unknown>;
  /** A native answer (JSON body) as OpenAI's chat completion: what usage, cost and the cache
   * read. */
  toOpenAI(body: unknown): unknown;
  /** Client headers a native target may need (e.g. `anthropic-beta`). */
  headers: Headers;
  /** A fresh mapper from the format's stream events to OpenAI chunk `data` strings: the
   * relay's view of a native stream (usage, generated text, end), never sent to the client.
   * Used to replay a stored native stream, whose provider may be gone. */
  streamMapper(): (event: EventSourceMessage) => string[];
  /** The event that ends a native stream after an upstream failure, in the format. */
  errorEvent(error: ErrorBody['error']): Uint8Array;
  /** A stored stream (its events) as the body a non-streaming request gets, and back. */
  bodyFromEvents(events: readonly StoredEvent[]): unknown;
  eventsFromBody(body: unknown): StoredEvent[];
  /** Answers of targets that do not take the format, turned into it. */
  fromOpenAI: {
    json(body: unknown): unknown;
    stream(body: ReadableStream<Uint8Array>): ReadableStream<Uint8Array>;
  };
}

/** A stored native answer (cache entries): the body, or the stream's events. */
export interface NativeAnswer {
  format: NativeFormat;
  body?: unknown;
  events?: StoredEvent[];
}

/** The exchange, when `provider` takes its request as it is; else undefined. */
export function nativeFor(
  provider: Provider,
  native: NativeExchange | undefined,
): NativeExchange | undefined {
  return native && provider.native?.format === native.format ? native : undefined;
}
