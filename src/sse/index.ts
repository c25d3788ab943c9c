/**
 * Server-sent events. Contract: `parseSSE` turns a byte stream into events (decoding with the
 * well-tested `eventsource-parser`, which handles CR/LF variants, multi-line data, comments
 * and events split across chunks); `encodeEvent` writes one event in the canonical
 * `data: ...\n\n` form that OpenAI uses, so relayed chunks are byte-identical to OpenAI's.
 */
import type { EventSourceMessage } from 'eventsource-parser';
import { EventSourceParserStream } from 'eventsource-parser/stream';

export type { EventSourceMessage };

export function parseSSE(body: ReadableStream<Uint8Array>): ReadableStream<EventSourceMessage> {
  return body
    .pipeThrough(new TextDecoderStream())
    .pipeThrough(new EventSourceParserStream({ onError: 'terminate' }));
}

const encoder = new TextEncoder();

export function encodeEvent(data: string, event?: string): Uint8Array {
  const head = event ? `event: ${event}\n` : '';
  const lines = data.includes('\n') ? data.split('\n') : [data];
  return encoder.encode(`${head}${lines.map((line) => `data: ${line}`).join('\n')}\n\n`);
}

/** Headers every streamed response carries: no caching, no proxy buffering. */
export const SSE_HEADERS: Readonly<Record<string, string>> = {
  'content-type': 'text/event-stream; charset=utf-8',
  'cache-control': 'no-cache',
  'x-accel-buffering': 'no',
};
