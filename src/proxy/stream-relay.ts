import type { ErrorBody } from '../errors.ts';
import { type EventSourceMessage, encodeEvent, type StoredEvent } from '../sse/index.ts';
import { type Usage, usageFromOpenAI } from '../usage/index.ts';
import { ClientGone, type StreamSuccess } from './attempt.ts';
import { Deadline, UpstreamTimeout } from './deadline.ts';

export type StreamEndReason = 'done' | 'client_abort' | 'upstream_error' | 'idle_timeout';

export interface StreamEnd {
  reason: StreamEndReason;
  /** The usage the upstream reported, if it got that far. */
  usage: Usage | undefined;
  /** Generated text seen so far (content, tool-call arguments): the basis of an estimate. */
  completionText: string;
}

export interface RelayOptions {
  /** Maps one upstream event to OpenAI chunk `data` strings (identity for OpenAI-shaped). */
  mapEvent: (event: EventSourceMessage) => string[];
  /** Whether the client asked for `stream_options.include_usage`; if not, the usage chunk
   * the gateway asked for on its behalf is removed. */
  clientWantsUsage: boolean;
  idleMs: number;
  onEnd: (end: StreamEnd) => void;
  /** When given, receives every upstream chunk `data` string (usage chunk included), e.g. to
   * store the stream in the cache once it completed. */
  record?: string[];
  /**
   * Pass-through of a stream in the client's own format (see ./native.ts): every upstream
   * event goes to the client as it came (event name included, pings too); `mapEvent` only
   * feeds the bookkeeping (usage, text, end) and nothing is stripped. `errorEvent` writes the
   * format's error event; `record` receives the events as sent.
   */
  passthrough?: {
    errorEvent: (error: ErrorBody['error']) => Uint8Array;
    record?: StoredEvent[];
  };
}

/**
 * The client-facing body of a streamed response. Pull-based with no internal queue
 * (highWaterMark 0): an upstream event is read only when the client is ready for the next
 * one, so nothing is buffered and backpressure reaches the upstream. A ReadableStream rather
 * than a TransformStream because the same place must also own the idle timer and the
 * client-cancel -> upstream-abort link. After the first byte there is no retry: an upstream
 * failure ends the stream with an OpenAI-style error event.
 */
export function relayStream(
  upstream: StreamSuccess,
  options: RelayOptions,
): ReadableStream<Uint8Array> {
  const { mapEvent, idleMs, onEnd, record, passthrough } = options;
  const clientWantsUsage = options.clientWantsUsage || passthrough !== undefined;
  const failure = (timedOut: boolean) =>
    (passthrough?.errorEvent ?? openAIErrorEvent)(streamError(timedOut));
  let pending: EventSourceMessage | undefined = upstream.first;
  let usage: Usage | undefined;
  let completionText = '';
  let sawDone = false;
  let sawFinish = false;
  /** The upstream sent its own error event: the stream is over, and said so. */
  let sawError = false;
  let ended = false;

  const finish = (reason: StreamEndReason) => {
    if (ended) return;
    ended = true;
    upstream.deadline.clear();
    upstream.detach();
    onEnd({ reason, usage, completionText });
  };

  /** Returns the data to forward, or null to drop the event. */
  const inspect = (data: string): string | null => {
    record?.push(data);
    if (data === '[DONE]') {
      sawDone = true;
      return data;
    }
    let chunk: Record<string, unknown>;
    try {
      chunk = JSON.parse(data) as Record<string, unknown>;
    } catch {
      return data;
    }
    if (chunk.error) sawError = true;
    const choices = Array.isArray(chunk.choices)
      ? (chunk.choices as Record<string, unknown>[])
      : [];
    for (const choice of choices) {
      if (choice.finish_reason) sawFinish = true;
      completionText += generatedText(choice);
    }
    const reported = usageFromOpenAI(chunk.usage);
    if (reported) usage = reported;
    if (clientWantsUsage || !reported) return data;
    if (choices.length === 0) return null;
    chunk.usage = null;
    return JSON.stringify(chunk);
  };

  return new ReadableStream<Uint8Array>(
    {
      async pull(controller) {
        for (;;) {
          let event: EventSourceMessage;
          if (pending) {
            event = pending;
            pending = undefined;
          } else {
            let read: ReadableStreamReadResult<EventSourceMessage>;
            try {
              read = await upstream.deadline.race(upstream.events.read(), idleMs);
            } catch (err) {
              if (ended) return;
              const timedOut = err instanceof UpstreamTimeout;
              controller.enqueue(failure(timedOut));
              controller.close();
              upstream.abort.abort();
              finish(timedOut ? 'idle_timeout' : 'upstream_error');
              return;
            }
            if (read.done) {
              if (!sawDone && !sawFinish && !sawError) controller.enqueue(failure(false));
              controller.close();
              finish(sawDone || sawFinish ? 'done' : 'upstream_error');
              return;
            }
            event = read.value;
          }
          let forwarded = false;
          for (const data of mapEvent(event)) {
            const out = inspect(data);
            if (out !== null && !passthrough) {
              controller.enqueue(encodeEvent(out));
              forwarded = true;
            }
          }
          if (passthrough) {
            passthrough.record?.push({ event: event.event, data: event.data });
            controller.enqueue(encodeEvent(event.data, event.event));
            return;
          }
          if (forwarded) return;
        }
      },
      cancel() {
        finish('client_abort');
        upstream.abort.abort(new ClientGone('client disconnected'));
        upstream.events.cancel().catch(() => {});
      },
    },
    { highWaterMark: 0 },
  );
}

/**
 * Replays stored chunk `data` strings (or, with `passthrough`, stored native events) through
 * the same relay (usage stripping, usage capture, log line at the end) as a live upstream
 * stream: used for cache hits.
 */
export function replayStream(
  chunks: readonly (string | StoredEvent)[],
  options: Omit<RelayOptions, 'mapEvent' | 'idleMs' | 'record'> & {
    mapEvent?: RelayOptions['mapEvent'];
  },
): ReadableStream<Uint8Array> {
  const events = chunks.map((c) =>
    typeof c === 'string'
      ? { data: c, event: undefined, id: undefined }
      : { data: c.data, event: c.event, id: undefined },
  );
  let next = 1;
  const abort = new AbortController();
  const upstream: StreamSuccess = {
    kind: 'stream',
    status: 200,
    first: events[0] ?? { data: '[DONE]', event: undefined, id: undefined },
    events: {
      read: async () =>
        next < events.length
          ? { done: false, value: events[next++]! }
          : { done: true, value: undefined },
      cancel: async () => undefined,
    },
    abort,
    deadline: new Deadline(abort),
    detach: () => undefined,
  };
  return relayStream(upstream, {
    mapEvent: (event) => [event.data],
    ...options,
    idleMs: 60_000,
  });
}

function generatedText(choice: Record<string, unknown>): string {
  if (typeof choice.text === 'string') return choice.text;
  const delta = choice.delta as Record<string, unknown> | undefined;
  if (!delta) return '';
  let text = typeof delta.content === 'string' ? delta.content : '';
  if (Array.isArray(delta.tool_calls)) {
    for (const call of delta.tool_calls as { function?: { arguments?: unknown } }[]) {
      if (typeof call.function?.arguments === 'string') text += call.function.arguments;
    }
  }
  return text;
}

/** Why the gateway ends a stream early, in OpenAI terms. */
function streamError(timedOut: boolean): ErrorBody['error'] {
  const error = timedOut
    ? { message: 'The upstream stream stalled.', type: 'timeout_error', code: 'upstream_timeout' }
    : {
        message: 'The upstream stream failed.',
        type: 'server_error',
        code: 'upstream_stream_error',
      };
  return { ...error, param: null };
}

function openAIErrorEvent(error: ErrorBody['error']): Uint8Array {
  return encodeEvent(JSON.stringify({ error }));
}
