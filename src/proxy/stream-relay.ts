import type { ErrorBody } from '../errors.ts';
import { dataOf, eventsOf, type Frame, withData } from '../sse/frames.ts';
import { type EventSourceMessage, encodeEvent, eventText, type StoredEvent } from '../sse/index.ts';
import { type Usage, usageFromOpenAI } from '../usage/index.ts';
import { ClientGone, type FrameStreamSuccess, type StreamSuccess } from './attempt.ts';
import { Deadline, UpstreamTimeout } from './deadline.ts';

export type StreamEndReason = 'done' | 'client_abort' | 'upstream_error' | 'idle_timeout';

export interface StreamEnd {
  reason: StreamEndReason;
  /** The usage the upstream reported, if it got that far. */
  usage: Usage | undefined;
  /** Generated text seen so far (content, tool-call arguments): the basis of an estimate. */
  completionText: string;
  /** What the chunks said of the answer (id, model, finish reasons), for its trace span. */
  answer: { id?: string | undefined; model?: string | undefined; finishReasons: string[] };
}

/**
 * An event-level stage over what the client gets (guardrails' rewriter: src/guardrails/stream.ts):
 * every event the relay would send goes through `event`, and what it returns goes instead.
 */
export interface EventStage {
  /** What to send for one event: itself (the same `data` string) when unchanged, other or
   * more events, or none; null when the stream must stop before it (with `stopEvent`). */
  event(data: string, event: string | undefined): readonly StoredEvent[] | null;
  /** What it still holds, sent before the client's stream closes (null: stop instead). */
  end(): readonly StoredEvent[] | null;
  /** The event a stopped stream ends with. */
  stopEvent(): Uint8Array;
  /** Once, when the client's stream is over (ended, stopped or cancelled). */
  closed(): void;
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
  /** Applied to what the client gets, after the bookkeeping (what `record` and usage see is
   * the upstream's). */
  stage?: EventStage | undefined;
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
  const { mapEvent, idleMs, onEnd, record, passthrough, stage } = options;
  const clientWantsUsage = options.clientWantsUsage || passthrough !== undefined;
  const failure = (timedOut: boolean) =>
    (passthrough?.errorEvent ?? openAIErrorEvent)(streamError(timedOut));
  let pending: EventSourceMessage | undefined = upstream.first;
  const cancel = () => upstream.events.cancel();
  const { seen, ending, stop } = relayEnding(upstream, { idleMs, onEnd, failure, stage, cancel });

  const inspect = (data: string) => noteChunk(data, seen, { clientWantsUsage, record });
  /** Built on the first pull: the controller is the same on every pull. */
  let send: ReturnType<typeof sender> | undefined;

  return new ReadableStream<Uint8Array>(
    {
      async pull(controller) {
        send ??= sender(controller, stage, stop);
        for (;;) {
          const event = pending ?? (await next(upstream.events.read, ending, controller));
          pending = undefined;
          if (!event) return;
          let forwarded = false;
          for (const data of mapEvent(event)) {
            const out = inspect(data);
            if (out === null || passthrough) continue;
            const sent = send(out, undefined);
            if (sent === null) return;
            forwarded ||= sent;
          }
          if (passthrough) {
            passthrough.record?.push({ event: event.event, data: event.data });
            const sent = send(event.data, event.event);
            if (sent === null) return;
            forwarded = sent;
          }
          if (forwarded) return;
        }
      },
      cancel: stop,
    },
    { highWaterMark: 0 },
  );
}

/**
 * Sends one event to the client, through the stage if there is one: whether anything went,
 * or null when the stage stopped the stream (its stop event sent, the stream closed).
 */
function sender(
  controller: ReadableStreamDefaultController<Uint8Array>,
  stage: EventStage | undefined,
  stop: () => void,
) {
  return (data: string, event: string | undefined): boolean | null => {
    if (!stage) {
      controller.enqueue(encodeEvent(data, event));
      return true;
    }
    const outs = stage.event(data, event);
    if (outs === null) {
      stopWith(controller, stage, stop);
      return null;
    }
    for (const out of outs) controller.enqueue(encodeEvent(out.data, out.event));
    return outs.length > 0;
  };
}

/** The stage stopped the stream: its stop event, then as if the client had gone. */
function stopWith(
  controller: ReadableStreamDefaultController<Uint8Array>,
  stage: EventStage,
  stop: () => void,
) {
  controller.enqueue(stage.stopEvent());
  controller.close();
  stop();
}

/**
 * What a relay learnt of the stream so far, its `Ending`, `finish` (once: onEnd), and `stop`:
 * the client is gone (finished as client_abort, the upstream aborted, its reader cancelled
 * with `cancel`).
 */
function relayEnding(
  upstream: Pick<StreamSuccess, 'deadline' | 'abort' | 'detach'>,
  opts: {
    idleMs: number;
    onEnd: (end: StreamEnd) => void;
    failure: (timedOut: boolean) => Uint8Array;
    stage: EventStage | undefined;
    cancel: () => Promise<void>;
  },
) {
  const { idleMs, onEnd, failure, stage, cancel } = opts;
  const seen = {
    usage: undefined as Usage | undefined,
    completionText: '',
    answer: { finishReasons: [] } as StreamEnd['answer'],
    done: false,
    finish: false,
    /** The upstream sent its own error event: the stream is over, and said so. */
    error: false,
    ended: false,
  };
  const finish = (reason: StreamEndReason) => {
    if (seen.ended) return;
    seen.ended = true;
    upstream.deadline.clear();
    upstream.detach();
    stage?.closed();
    onEnd({
      reason,
      usage: seen.usage,
      completionText: seen.completionText,
      answer: seen.answer,
    });
  };
  const ending: Ending = {
    upstream,
    idleMs,
    failure,
    closing: (controller) => {
      const outs = stage?.end();
      if (outs === null) controller.enqueue(stage!.stopEvent());
      else for (const out of outs ?? []) controller.enqueue(encodeEvent(out.data, out.event));
    },
    ended: () => seen.ended,
    finish,
    outcome: () => (seen.done || seen.finish ? 'done' : seen.error ? 'said_error' : 'unfinished'),
  };
  const stop = () => {
    finish('client_abort');
    upstream.abort.abort(new ClientGone('client disconnected'));
    cancel().catch(() => {});
  };
  return { seen, ending, finish, stop };
}

/**
 * Bookkeeping for one OpenAI chunk's `data`: notes [DONE], errors, finish reasons, usage and
 * generated text in `seen`. Returns the data to forward (the same string when unchanged), or
 * null to drop it: the usage chunk the gateway asked for when the client did not. `quick`
 * (the frame relay): text is read with a pattern and only chunks that may matter are parsed.
 */
function noteChunk(
  data: string,
  seen: RelaySeen,
  opts: { clientWantsUsage: boolean; record: string[] | undefined; quick?: boolean },
): string | null {
  opts.record?.push(data);
  if (data === '[DONE]') {
    seen.done = true;
    return data;
  }
  if (opts.quick) {
    for (const [, text] of data.matchAll(GENERATED)) seen.completionText += jsonStringText(text!);
    if (!MATTERS.test(data)) return data;
  }
  let chunk: Record<string, unknown>;
  try {
    chunk = JSON.parse(data) as Record<string, unknown>;
  } catch {
    return data;
  }
  if (chunk.error) seen.error = true;
  const { answer } = seen;
  if (answer.id === undefined && typeof chunk.id === 'string') answer.id = chunk.id;
  if (answer.model === undefined && typeof chunk.model === 'string') answer.model = chunk.model;
  const choices = Array.isArray(chunk.choices) ? (chunk.choices as Record<string, unknown>[]) : [];
  for (const choice of choices) {
    if (typeof choice?.finish_reason === 'string') answer.finishReasons.push(choice.finish_reason);
    if (choice?.finish_reason) seen.finish = true;
    if (!opts.quick) seen.completionText += generatedText(choice);
  }
  const reported = usageFromOpenAI(chunk.usage);
  if (reported) seen.usage = reported;
  if (opts.clientWantsUsage || !reported) return data;
  if (choices.length === 0) return null;
  chunk.usage = null;
  return JSON.stringify(chunk);
}

type RelaySeen = ReturnType<typeof relayEnding>['seen'];

/** How a relay ends the client's stream when the upstream's fails, stalls or ends. */
interface Ending {
  upstream: Pick<StreamSuccess, 'deadline' | 'abort'>;
  idleMs: number;
  failure: (timedOut: boolean) => Uint8Array;
  /** Right before the client's stream closes: what the stage still holds. */
  closing: (controller: ReadableStreamDefaultController<Uint8Array>) => void;
  ended: () => boolean;
  finish: (reason: StreamEndReason) => void;
  /** What the upstream said so far: finished (done or a finish_reason), its own error, neither. */
  outcome: () => 'done' | 'said_error' | 'unfinished';
}

/**
 * The next item from the upstream within `idleMs`; undefined once the client's stream is closed
 * (upstream failed, stalled or ended: an error event is added unless the upstream finished or
 * sent its own).
 */
async function next<T>(
  read: () => Promise<ReadableStreamReadResult<T>>,
  end: Ending,
  controller: ReadableStreamDefaultController<Uint8Array>,
): Promise<T | undefined> {
  let result: ReadableStreamReadResult<T>;
  try {
    result = await end.upstream.deadline.race(read(), end.idleMs);
  } catch (err) {
    if (end.ended()) return undefined;
    const timedOut = err instanceof UpstreamTimeout;
    controller.enqueue(end.failure(timedOut));
    end.closing(controller);
    controller.close();
    end.upstream.abort.abort();
    end.finish(timedOut ? 'idle_timeout' : 'upstream_error');
    return undefined;
  }
  if (!result.done) return result.value;
  const outcome = end.outcome();
  if (outcome === 'unfinished') controller.enqueue(end.failure(false));
  end.closing(controller);
  controller.close();
  end.finish(outcome === 'done' ? 'done' : 'upstream_error');
  return undefined;
}

export type FrameRelayOptions = Omit<RelayOptions, 'mapEvent' | 'passthrough'>;

/** A key the bookkeeping needs, with a value that is not `null` (a cheap test before parsing). */
const MATTERS = /(?<!\\)"(?:usage|finish_reason|error)"\s*:\s*[^\sn]/;
/** Generated text in a chunk (content, tool-call arguments, completions' text), as JSON. */
const GENERATED = /(?<!\\)"(?:content|text|arguments)"\s*:\s*"((?:[^"\\]|\\.)*)"/g;

/**
 * The relay for an upstream that already speaks OpenAI's stream (`speaksOpenAI`): its
 * bytes go to the client as they came, one frame (one or more whole events) per pull. Only
 * events with a non-null `usage`, `finish_reason` or `error` are parsed; text for an estimate
 * is read with a pattern. The usage chunk the gateway asked for on the client's behalf is cut
 * out of its frame, every other byte unchanged. Same endings as `relayStream`.
 */
export function relayFrames(
  upstream: FrameStreamSuccess,
  options: FrameRelayOptions,
): ReadableStream<Uint8Array> {
  const { idleMs, onEnd, record, clientWantsUsage, stage } = options;
  let pending: Frame | undefined = upstream.first;
  const failure = (timedOut: boolean) => openAIErrorEvent(streamError(timedOut));
  const cancel = () => upstream.frames.cancel();
  const { seen, ending, stop } = relayEnding(upstream, { idleMs, onEnd, failure, stage, cancel });

  const note = { clientWantsUsage, record, quick: true };

  /**
   * The frame's text for the client, event by event: each as received, unless it was cut or
   * the stage changed it (then only its data lines are rewritten). `stopped`: the stage
   * stopped the stream at an event (the text is what went before it).
   */
  const forward = (frame: Frame): { out: string[] | undefined; stopped: boolean } => {
    let out: string[] | undefined;
    const events = eventsOf(frame.text);
    for (const [i, event] of events.entries()) {
      const data = dataOf(event);
      const forwarded = data === undefined ? data : noteChunk(data, seen, note);
      const sent = stage && forwarded ? stage.event(forwarded, undefined) : undefined;
      if (sent === null) return { out: out ?? events.slice(0, i).map(asSent), stopped: true };
      const last = sent ? sent.at(-1)?.data : forwarded;
      if (last === data && (!sent || sent.length === 1)) {
        out?.push(asSent(event));
        continue;
      }
      out ??= events.slice(0, i).map(asSent);
      if (sent) for (const added of sent.slice(0, -1)) out.push(eventText(added.data, added.event));
      if (last !== null && last !== undefined) out.push(`${withData(event, last)}\n\n`);
    }
    return { out, stopped: false };
  };

  return new ReadableStream<Uint8Array>(
    {
      async pull(controller) {
        for (;;) {
          const frame = pending ?? (await next(upstream.frames.read, ending, controller));
          pending = undefined;
          if (!frame) return;
          const { out, stopped } = forward(frame);
          const bytes = out ? (out.length > 0 ? encoder.encode(out.join('')) : null) : frame.bytes;
          if (bytes) controller.enqueue(bytes);
          if (stopped) {
            stopWith(controller, stage!, stop);
            return;
          }
          if (bytes) return;
        }
      },
      cancel: stop,
    },
    { highWaterMark: 0 },
  );
}

const asSent = (event: string) => `${event}\n\n`;

const encoder = new TextEncoder();

/** A JSON string's contents (without quotes) as text. */
function jsonStringText(json: string): string {
  if (!json.includes('\\')) return json;
  try {
    return JSON.parse(`"${json}"`) as string;
  } catch {
    return json;
  }
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

/** The OpenAI stream's error event: `data: {"error":{...}}`. */
export function openAIErrorEvent(error: ErrorBody['error']): Uint8Array {
  return encodeEvent(JSON.stringify({ error }));
}
