/**
 * SSE frames: the upstream's bytes cut at event boundaries, for a relay that forwards them as
 * they came. Hand-written because `eventsource-parser` (./index.ts) hands out parsed events,
 * not the bytes they came in: relaying those would mean re-encoding every event. A frame holds
 * one or more whole events (the bytes up to the last blank line seen so far) and their text;
 * bytes after the last boundary wait for the next read. Boundaries are `\n\n` and `\r\n\r\n`
 * (what every SSE producer we relay writes); a stream cut by bare `\r` only comes through whole
 * at its end, still byte for byte.
 */
import { dataLines } from './index.ts';

/** One or more whole events: the bytes as received, and their text. */
export interface Frame {
  bytes: Uint8Array;
  text: string;
}

export interface FrameReader {
  /** The next frame; `done` when the body ended. Rejects if the body errors. */
  read(): Promise<ReadableStreamReadResult<Frame>>;
  cancel(): Promise<void>;
}

const LF = 10;
const CR = 13;

export function sseFrames(body: ReadableStream<Uint8Array>): FrameReader {
  const bytes = body.getReader();
  const decoder = new TextDecoder();
  let carry: Uint8Array | undefined;
  const frame = (buf: Uint8Array): ReadableStreamReadResult<Frame> => ({
    done: false,
    value: { bytes: buf, text: decoder.decode(buf) },
  });

  return {
    async read() {
      for (;;) {
        const { done, value } = await bytes.read();
        if (done) {
          const rest = carry;
          carry = undefined;
          return rest?.length ? frame(rest) : { done: true, value: undefined };
        }
        const buf = carry ? concat(carry, value) : value;
        const end = afterLastBoundary(buf);
        if (end === 0) {
          carry = buf;
          continue;
        }
        carry = end < buf.length ? buf.slice(end) : undefined;
        return frame(end < buf.length ? buf.subarray(0, end) : buf);
      }
    },
    cancel: () => bytes.cancel().catch(() => undefined),
  };
}

/** The index just past the last blank line (`\n\n` or `\n\r\n`) in `buf`, or 0. */
export function afterLastBoundary(buf: Uint8Array): number {
  for (let i = buf.lastIndexOf(LF); i > 0; i = buf.lastIndexOf(LF, i - 1)) {
    if (buf[i - 1] === LF || (buf[i - 1] === CR && i > 1 && buf[i - 2] === LF)) return i + 1;
  }
  return 0;
}

/** The events of a frame's text, each as written (without its blank line). */
export function eventsOf(text: string): string[] {
  const events = text.split(/\r?\n\r?\n/);
  if (events[events.length - 1] === '') events.pop();
  return events;
}

/** The `data` of one event (its `data:` lines joined by `\n`), or undefined if it has none. */
export function dataOf(event: string): string | undefined {
  if (event.startsWith('data: ') && !event.includes('\n')) return event.slice(6); // the usual
  let data: string | undefined;
  for (const line of event.split(/\r?\n/)) {
    if (!line.startsWith('data:')) continue;
    const value = line.slice(line.startsWith('data: ') ? 6 : 5);
    data = data === undefined ? value : `${data}\n${value}`;
  }
  return data;
}

/** The event as written with its data replaced: its other lines (name, id, comments) kept,
 * the new data lines where its first data line was. */
export function withData(event: string, data: string): string {
  const lines = dataLines(data);
  if (event.startsWith('data: ') && !event.includes('\n')) return lines; // the usual
  const all = event.split(/\r?\n/);
  const at = all.findIndex((line) => line.startsWith('data:'));
  const kept = all.filter((line) => !line.startsWith('data:'));
  kept.splice(at < 0 ? kept.length : at, 0, lines);
  return kept.join('\n');
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}
