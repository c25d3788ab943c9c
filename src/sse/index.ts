/**
 * Server-sent events. Contract: `sseReader` reads events from a byte stream (parsing with the
 * well-tested `eventsource-parser`, which handles CR/LF variants, multi-line data, comments
 * and events split across chunks); `encodeEvent` writes one event in the canonical
 * `data: ...\n\n` form that OpenAI uses, so relayed chunks are byte-identical to OpenAI's.
 */
import { createParser, type EventSourceMessage } from 'eventsource-parser';

export type { EventSourceMessage };

export interface SSEReader {
  /** The next event; `done` when the body ended. Rejects if the body errors. */
  read(): Promise<ReadableStreamReadResult<EventSourceMessage>>;
  cancel(): Promise<void>;
}

/**
 * A pull reader over an SSE body: bytes are read only when an event is asked for, decoded
 * incrementally (UTF-8 split across chunks is fine) and parsed. A reader rather than a
 * TransformStream chain: no internal queues between upstream and client, and no pipe
 * promises left to reject when the upstream connection drops.
 */
export function sseReader(body: ReadableStream<Uint8Array>): SSEReader {
  const bytes = body.getReader();
  const decoder = new TextDecoder();
  const queue: EventSourceMessage[] = [];
  const parser = createParser({ onEvent: (event) => queue.push(event) });
  let ended = false;

  return {
    async read() {
      while (queue.length === 0 && !ended) {
        const { done, value } = await bytes.read();
        if (done) {
          ended = true;
          parser.feed(decoder.decode());
          parser.reset({ consume: true });
        } else {
          parser.feed(decoder.decode(value, { stream: true }));
        }
      }
      const event = queue.shift();
      return event ? { done: false, value: event } : { done: true, value: undefined };
    },
    cancel: () => bytes.cancel().catch(() => undefined),
  };
}

/** An event as stored or replayed: its name (if any) and its data. */
export interface StoredEvent {
  event?: string | undefined;
  data: string;
}

const encoder = new TextEncoder();

export function encodeEvent(data: string, event?: string): Uint8Array {
  return encoder.encode(eventText(data, event));
}

/** One event as written: its name (if any), its data lines, the blank line. */
export function eventText(data: string, event?: string): string {
  const head = event ? `event: ${event}\n` : '';
  return `${head}${dataLines(data)}\n\n`;
}

/** `data` as SSE data lines (one per line of it). */
export function dataLines(data: string): string {
  return data.includes('\n') ? `data: ${data.split('\n').join('\ndata: ')}` : `data: ${data}`;
}

/** Headers every streamed response carries: no caching, no proxy buffering. */
export const SSE_HEADERS: Readonly<Record<string, string>> = {
  'content-type': 'text/event-stream; charset=utf-8',
  'cache-control': 'no-cache',
  'x-accel-buffering': 'no',
};
