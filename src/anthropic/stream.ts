/**
 * The gateway's OpenAI chunk stream -> Anthropic stream events
 * (https://docs.anthropic.com/en/docs/build-with-claude/streaming). `anthropicEventMapper` is a
 * pure stateful mapper (one OpenAI `data` payload in, Anthropic events out);
 * `toAnthropicStream` runs it over SSE bytes in a TransformStream (backpressure preserved).
 *
 * message_start carries no token counts (an OpenAI stream reports usage only at its end), so
 * message_delta carries the whole usage: output, input and cache tokens, as Anthropic's own
 * message_delta does in current API versions.
 */
import { createParser } from 'eventsource-parser';
import { isObj, type Json } from '../providers/json.ts';
import { encodeEvent } from '../sse/index.ts';
import { anthropicErrorType, anthropicUsage, stopReason } from './response.ts';

export type AnthropicEvent = [type: string, data: Json];

/** An OpenAI error (a stream's error chunk) as Anthropic's mid-stream `error` event. */
export function anthropicStreamError(e: Json): AnthropicEvent {
  const type =
    e.code === 'upstream_timeout' ? 'timeout_error' : anthropicErrorType(500, String(e.type));
  return ['error', { type: 'error', error: { type, message: String(e.message ?? '') } }];
}

export const encodeAnthropicEvent = ([type, data]: AnthropicEvent): Uint8Array =>
  encodeEvent(JSON.stringify(data), type);

export function anthropicEventMapper(requestedModel: string) {
  let started = false;
  let ended = false;
  let index = -1;
  let open: 'text' | 'tool' | null = null;
  let finish: unknown = null;
  let usage: unknown;
  const toolBlocks = new Map<number, number>();

  const start = (chunk: Json): AnthropicEvent[] => {
    if (started) return [];
    started = true;
    const message = {
      id: typeof chunk.id === 'string' ? chunk.id : 'msg_gateway',
      type: 'message',
      role: 'assistant',
      model: typeof chunk.model === 'string' ? chunk.model : requestedModel,
      content: [],
      stop_reason: null,
      stop_sequence: null,
      usage: { input_tokens: 0, output_tokens: 0 },
    };
    return [['message_start', { type: 'message_start', message }]];
  };
  const close = (): AnthropicEvent[] => {
    if (open === null) return [];
    open = null;
    return [['content_block_stop', { type: 'content_block_stop', index }]];
  };
  const end = (): AnthropicEvent[] => {
    if (ended || !started) return [];
    ended = true;
    const delta = { stop_reason: stopReason(finish), stop_sequence: null };
    return [
      ...close(),
      ['message_delta', { type: 'message_delta', delta, usage: anthropicUsage(usage) }],
      ['message_stop', { type: 'message_stop' }],
    ];
  };

  return {
    /** One OpenAI `data` payload -> Anthropic events. */
    map(data: string): AnthropicEvent[] {
      if (ended) return [];
      if (data === '[DONE]') return end();
      let chunk: Json;
      try {
        chunk = JSON.parse(data) as Json;
      } catch {
        return [];
      }
      if (isObj(chunk.error)) {
        ended = true;
        return [anthropicStreamError(chunk.error)];
      }
      const out = start(chunk);
      if (chunk.usage) usage = chunk.usage;
      const choice =
        Array.isArray(chunk.choices) && isObj(chunk.choices[0]) ? chunk.choices[0] : undefined;
      const delta = choice && isObj(choice.delta) ? choice.delta : {};
      if (typeof delta.content === 'string' && delta.content !== '') {
        if (open !== 'text') {
          out.push(...close());
          open = 'text';
          index++;
          const content_block = { type: 'text', text: '' };
          out.push(['content_block_start', { type: 'content_block_start', index, content_block }]);
        }
        const textDelta = { type: 'text_delta', text: delta.content };
        out.push(['content_block_delta', { type: 'content_block_delta', index, delta: textDelta }]);
      }
      if (Array.isArray(delta.tool_calls)) {
        for (const call of delta.tool_calls as Json[]) {
          const fn = isObj(call.function) ? call.function : {};
          const callIndex = typeof call.index === 'number' ? call.index : 0;
          if (!toolBlocks.has(callIndex)) {
            out.push(...close());
            open = 'tool';
            index++;
            toolBlocks.set(callIndex, index);
            const content_block = { type: 'tool_use', id: call.id, name: fn.name, input: {} };
            out.push([
              'content_block_start',
              { type: 'content_block_start', index, content_block },
            ]);
          }
          if (typeof fn.arguments === 'string' && fn.arguments !== '') {
            const at = toolBlocks.get(callIndex)!;
            const jsonDelta = { type: 'input_json_delta', partial_json: fn.arguments };
            out.push([
              'content_block_delta',
              { type: 'content_block_delta', index: at, delta: jsonDelta },
            ]);
          }
        }
      }
      if (choice?.finish_reason) {
        finish = choice.finish_reason;
        out.push(...close());
      }
      return out;
    },
    /** The upstream stream ended: finish the message if it got a finish reason. */
    flush(): AnthropicEvent[] {
      return finish !== null ? end() : [];
    },
  };
}

/** OpenAI SSE bytes -> Anthropic SSE bytes. */
export function toAnthropicStream(
  body: ReadableStream<Uint8Array>,
  requestedModel: string,
): ReadableStream<Uint8Array> {
  const mapper = anthropicEventMapper(requestedModel);
  const decoder = new TextDecoder();
  let emit: (events: AnthropicEvent[]) => void = () => {};
  const parser = createParser({ onEvent: (event) => emit(mapper.map(event.data)) });
  return body.pipeThrough(
    new TransformStream<Uint8Array, Uint8Array>({
      transform(chunk, controller) {
        emit = (events) => {
          for (const event of events) controller.enqueue(encodeAnthropicEvent(event));
        };
        parser.feed(decoder.decode(chunk, { stream: true }));
      },
      flush(controller) {
        emit = (events) => {
          for (const event of events) controller.enqueue(encodeAnthropicEvent(event));
        };
        parser.feed(decoder.decode());
        emit(mapper.flush());
      },
    }),
  );
}
