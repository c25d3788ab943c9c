/**
 * Guardrails on a streamed answer, as it flows: each event the client gets (OpenAI chunks,
 * Anthropic events or Responses events) is rewritten on its way; each text delta (one
 * channel per choice, content block or output item) goes through its own `StreamScanner`,
 * and the event goes on with the text that is final so far. Held-back text goes out with
 * the channel's closing event (an OpenAI chunk with a finish_reason, before Anthropic's
 * content_block_stop, before Responses' `*.done`, or before the stream's end) as one added
 * delta. Events that repeat the whole text (Responses' done/completed events) are masked as a
 * whole, which gives the same text (the scanner's property). A `block` finding ends the
 * stream with the format's error event; the event that held the finding is not sent.
 * `guardStage` is that rewriter as the relay's event stage (src/proxy/stream-relay.ts): an
 * event whose text did not change goes on as the same `data` string. `guardStream` runs it
 * over an SSE body, for a stream the relay does not write itself (one translated into the
 * client's format after the relay).
 */
import { createParser } from 'eventsource-parser';
import type { ErrorBody } from '../errors.ts';
import { isObj, type Json } from '../providers/json.ts';
import type { EventStage } from '../proxy/stream-relay.ts';
import { encodeEvent, type StoredEvent } from '../sse/index.ts';
import { mapText } from './fields.ts';
import { type Stage, StreamScanner, scanText, type Tally } from './scan.ts';
import { spliceString } from './splice.ts';

export type AnswerFormat = 'openai' | 'anthropic' | 'openai-responses';

export interface StreamGuardOptions {
  format: AnswerFormat;
  stages: readonly Stage[];
  /** The format's error event. */
  errorEvent: (error: ErrorBody['error']) => Uint8Array;
  /** The error a block finding ends the stream with. */
  blockedError: (tally: Tally) => ErrorBody['error'];
  /** Once, when the client's stream is over: done, blocked (with the finding) or cancelled. */
  onEnd: (blocked: Tally | undefined) => void;
}

type Out = StoredEvent;

interface Rewriter {
  /** The events to send for `e`: `e` itself (rewritten or not) last, any added ones before. */
  event(e: StoredEvent): Out[];
  /** What is still held when the upstream's stream ends. */
  end(): Out[];
}

/** The guard as an event stage of the relay. */
export function guardStage(options: StreamGuardOptions): EventStage {
  const channels = new Channels(options.stages);
  const rewriter = REWRITERS[options.format](channels);
  let blocked: Tally | undefined;
  let closed = false;
  const unlessBlocked = (outs: Out[]): Out[] | null => {
    blocked = channels.blocked;
    return blocked ? null : outs;
  };
  return {
    event: (data, event) => unlessBlocked(rewriter.event({ data, event })),
    end: () => unlessBlocked(rewriter.end()),
    stopEvent: () => options.errorEvent(options.blockedError(blocked!)),
    closed() {
      if (closed) return;
      closed = true;
      options.onEnd(blocked);
    },
  };
}

/** `guardStage` over an SSE body: parsed, rewritten, encoded again. Pull-based, like the
 * relay: one read of the body per client read. */
export function guardStream(
  body: ReadableStream<Uint8Array>,
  options: StreamGuardOptions,
): ReadableStream<Uint8Array> {
  const reader = body.getReader();
  const decoder = new TextDecoder();
  const parsed: StoredEvent[] = [];
  const parser = createParser({ onEvent: (e) => parsed.push(e) });
  const stage = guardStage(options);

  return new ReadableStream<Uint8Array>(
    {
      async pull(controller) {
        for (;;) {
          const { done, value } = await reader.read();
          if (done) parser.reset({ consume: true });
          else parser.feed(decoder.decode(value, { stream: true }));
          let sent = false;
          for (const e of parsed.splice(0)) {
            const outs = stage.event(e.data, e.event);
            if (outs === null) return stop(controller);
            for (const out of outs) controller.enqueue(encodeEvent(out.data, out.event));
            sent ||= outs.length > 0;
          }
          if (done) {
            const outs = stage.end();
            if (outs === null) return stop(controller);
            for (const out of outs) controller.enqueue(encodeEvent(out.data, out.event));
            controller.close();
            stage.closed();
            return;
          }
          if (sent) return;
        }
      },
      cancel(reason) {
        stage.closed();
        return reader.cancel(reason);
      },
    },
    { highWaterMark: 0 },
  );

  function stop(controller: ReadableStreamDefaultController<Uint8Array>) {
    controller.enqueue(stage.stopEvent());
    controller.close();
    stage.closed();
    reader.cancel().catch(() => undefined);
  }
}

/** One scanner per text channel, created on first use. */
class Channels {
  private readonly scanners = new Map<string, StreamScanner>();
  private readonly stages: readonly Stage[];
  constructor(stages: readonly Stage[]) {
    this.stages = stages;
  }

  push(channel: string, text: string): string {
    let scanner = this.scanners.get(channel);
    if (!scanner) {
      scanner = new StreamScanner(this.stages);
      this.scanners.set(channel, scanner);
    }
    return scanner.push(text);
  }

  /** The channel's held-back rest ('' when none); the channel is closed. */
  rest(channel: string): string {
    const scanner = this.scanners.get(channel);
    if (!scanner) return '';
    this.scanners.delete(channel);
    const text = scanner.flush();
    this.closedBlock ??= scanner.blocked;
    return text;
  }

  /** Open channels, in the order they opened. */
  open(): string[] {
    return [...this.scanners.keys()];
  }

  /** The whole-text masking of a text whose findings the deltas already counted. */
  whole(text: string): string {
    return scanText(text, this.stages, { count: false }).text;
  }

  private closedBlock: Tally | undefined;

  get blocked(): Tally | undefined {
    if (this.closedBlock) return this.closedBlock;
    for (const scanner of this.scanners.values()) if (scanner.blocked) return scanner.blocked;
    return undefined;
  }
}

/**
 * An event's data as its string values change: spliced into the text as it came while that
 * can be done (./splice.ts), else the changed value serialized whole.
 */
class Rewrite {
  private text: string | undefined;
  constructor(data: string) {
    this.text = data;
  }

  /** `holder[field]`, a string, becomes `to` (in the value and in the text). */
  set(holder: Json, field: string, to: string): void {
    const from = holder[field] as string;
    holder[field] = to;
    if (this.text !== undefined) this.text = spliceString(this.text, field, from, to);
  }

  /** A change splicing does not follow (fields added, numbers changed). */
  restructured(): void {
    this.text = undefined;
  }

  /** The data: `value`'s text (`value` being what the data parsed to, changed). */
  data(value: Json): string {
    return this.text ?? JSON.stringify(value);
  }
}

const parse = (data: string): Json | undefined => {
  try {
    const value = JSON.parse(data) as unknown;
    return isObj(value) ? value : undefined;
  } catch {
    return undefined;
  }
};

const as = (e: StoredEvent, data: Json | string): Out => ({
  data: typeof data === 'string' ? data : JSON.stringify(data),
  event: e.event,
});

/** OpenAI chat and completions chunks: `choices[i].delta.content`, tool call arguments,
 * `choices[i].text`. */
function openaiRewriter(channels: Channels): Rewriter {
  let last: Json = {};
  const leftovers = (): Json[] =>
    channels.open().flatMap((channel) => {
      const rest = channels.rest(channel);
      if (!rest) return [];
      const [kind, i, tool] = channel.split(':');
      const index = Number(i);
      const delta =
        kind === 'c'
          ? { content: rest }
          : { tool_calls: [{ index: Number(tool), function: { arguments: rest } }] };
      const choice = kind === 'x' ? { index, text: rest } : { index, delta };
      return [
        {
          id: last.id,
          object: last.object,
          created: last.created,
          model: last.model,
          choices: [{ ...choice, finish_reason: null }],
        },
      ];
    });
  return {
    event(e) {
      if (e.data === '[DONE]') return [...leftovers().map((c) => as(e, c)), as(e, e.data)];
      const chunk = parse(e.data);
      if (!chunk || !Array.isArray(chunk.choices)) return [as(e, e.data)];
      last = chunk;
      const rewrite = new Rewrite(e.data);
      const swap = (holder: Json, field: string, channel: string) => {
        const text = holder[field];
        if (typeof text !== 'string') return;
        const out = channels.push(channel, text);
        if (out !== text) rewrite.set(holder, field, out);
      };
      for (const choice of chunk.choices as Json[]) {
        if (!isObj(choice)) continue;
        const i = Number(choice.index ?? 0);
        swap(choice, 'text', `x:${i}`);
        const delta = isObj(choice.delta) ? choice.delta : undefined;
        if (delta) swap(delta, 'content', `c:${i}`);
        const calls = delta && Array.isArray(delta.tool_calls) ? (delta.tool_calls as Json[]) : [];
        for (const call of calls) {
          if (isObj(call) && isObj(call.function))
            swap(call.function, 'arguments', `t:${i}:${Number(call.index ?? 0)}`);
        }
        if (!choice.finish_reason) continue;
        for (const channel of channels.open().filter((ch) => ch.split(':')[1] === String(i))) {
          const rest = channels.rest(channel);
          if (!rest) continue;
          rewrite.restructured();
          const [kind, , tool] = channel.split(':');
          if (kind === 'x') {
            choice.text = `${choice.text ?? ''}${rest}`;
            continue;
          }
          const d: Json = isObj(choice.delta) ? choice.delta : {};
          choice.delta = d;
          if (kind === 'c') d.content = `${typeof d.content === 'string' ? d.content : ''}${rest}`;
          else {
            const list = (Array.isArray(d.tool_calls) ? d.tool_calls : []) as Json[];
            d.tool_calls = list;
            list.push({ index: Number(tool), function: { arguments: rest } });
          }
        }
      }
      return [as(e, rewrite.data(chunk))];
    },
    end: () => leftovers().map((c) => ({ data: JSON.stringify(c) })),
  };
}

const ANTHROPIC_FIELDS: Record<string, string> = {
  text_delta: 'text',
  input_json_delta: 'partial_json',
  thinking_delta: 'thinking',
};

/** Anthropic events: `content_block_delta` per content block index. */
function anthropicRewriter(channels: Channels): Rewriter {
  const kinds = new Map<string, string>();
  const leftover = (channel: string): Out[] => {
    const rest = channels.rest(channel);
    const kind = kinds.get(channel);
    if (!rest || !kind) return [];
    const delta = { type: kind, [ANTHROPIC_FIELDS[kind]!]: rest };
    return [
      {
        event: 'content_block_delta',
        data: JSON.stringify({ type: 'content_block_delta', index: Number(channel), delta }),
      },
    ];
  };
  return {
    event(e) {
      const data = parse(e.data);
      if (!data) return [as(e, e.data)];
      if (data.type === 'content_block_delta' && isObj(data.delta)) {
        const kind = String(data.delta.type);
        const field = ANTHROPIC_FIELDS[kind];
        const text = field ? data.delta[field] : undefined;
        if (typeof text !== 'string') return [as(e, e.data)];
        const channel = String(data.index ?? 0);
        kinds.set(channel, kind);
        const out = channels.push(channel, text);
        if (out === text) return [as(e, e.data)];
        const rewrite = new Rewrite(e.data);
        rewrite.set(data.delta, field!, out);
        return [as(e, rewrite.data(data))];
      }
      if (data.type === 'content_block_stop') {
        return [...leftover(String(data.index ?? 0)), as(e, e.data)];
      }
      if (data.type === 'message_delta' || data.type === 'message_stop') {
        return [...channels.open().flatMap(leftover), as(e, e.data)];
      }
      return [as(e, e.data)];
    },
    end: () => channels.open().flatMap(leftover),
  };
}

const RESPONSES_DELTAS: Record<
  string,
  { done: string; channel: (d: Json) => string; field: string }
> = {
  'response.output_text.delta': {
    done: 'response.output_text.done',
    channel: (d) => `${d.item_id}:${d.content_index ?? 0}`,
    field: 'text',
  },
  'response.function_call_arguments.delta': {
    done: 'response.function_call_arguments.done',
    channel: (d) => `${d.item_id}:args`,
    field: 'arguments',
  },
};

/** Responses events: text and argument deltas per output item; the events that repeat the
 * whole text are masked whole. Sequence numbers are renumbered around added deltas. */
function responsesRewriter(channels: Channels): Rewriter {
  let shift = 0;
  const byDone = new Map(
    Object.entries(RESPONSES_DELTAS).map(([type, d]) => [d.done, { type, ...d }]),
  );
  const renumber = (data: Json) => {
    if (typeof data.sequence_number === 'number') data.sequence_number += shift;
  };
  return {
    event(e) {
      const data = parse(e.data);
      if (!data) return [as(e, e.data)];
      const type = String(data.type);
      const delta = RESPONSES_DELTAS[type];
      if (delta && typeof data.delta === 'string') {
        const out = channels.push(delta.channel(data), data.delta);
        if (out === data.delta && shift === 0) return [as(e, e.data)];
        const rewrite = new Rewrite(e.data);
        if (out !== data.delta) rewrite.set(data, 'delta', out);
        if (shift !== 0) {
          renumber(data);
          rewrite.restructured();
        }
        return [as(e, rewrite.data(data))];
      }
      const closing = byDone.get(type);
      const added: Out[] = [];
      if (closing) {
        const rest = channels.rest(closing.channel(data));
        if (rest) {
          const { text: _t, arguments: _a, ...base } = data;
          const seq =
            typeof data.sequence_number === 'number' ? data.sequence_number + shift : undefined;
          added.push({
            event: closing.type,
            data: JSON.stringify({
              ...base,
              type: closing.type,
              delta: rest,
              ...(seq === undefined ? {} : { sequence_number: seq }),
            }),
          });
          shift++;
        }
      }
      const masked = mapText(data, (text) => channels.whole(text)) as Json;
      if (masked === data && shift === 0) return [...added, as(e, e.data)];
      const copy = masked === data ? { ...data } : masked;
      renumber(copy);
      return [...added, as(e, copy)];
    },
    end: () => [],
  };
}

const REWRITERS: Record<AnswerFormat, (channels: Channels) => Rewriter> = {
  openai: openaiRewriter,
  anthropic: anthropicRewriter,
  'openai-responses': responsesRewriter,
};
