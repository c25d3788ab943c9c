/**
 * Responses API streams (https://platform.openai.com/docs/api-reference/responses-streaming).
 * - `responsesEventMapper`: the gateway's OpenAI chunk `data` payloads -> Responses events
 *   (response.created, in_progress, output_item.added/done, content_part.added/done,
 *   output_text.delta/done, function_call_arguments.delta/done, completed | incomplete |
 *   failed), each with its `sequence_number`; `toResponsesStream` runs it over SSE bytes.
 * - `responsesStreamMapper`: an OpenAI target's own Responses events -> chat chunk `data`
 *   strings, the relay's bookkeeping view (text, usage, end), never sent to the client.
 * - `eventsForResponse`: a finished Response as the events that would have streamed it (a
 *   cached answer replayed to a streaming request).
 * Pure except the TransformStream.
 */
import { createParser } from 'eventsource-parser';
import { chunkWriter, isObj, type Json, parseJson } from '../providers/json.ts';
import type { EventSourceMessage, StoredEvent } from '../sse/index.ts';
import { encodeEvent } from '../sse/index.ts';
import {
  chatFromResponse,
  finalStatus,
  functionCallItem,
  messageItem,
  type ResponseMeta,
  responseEnvelope,
  responseUsage,
} from './response.ts';
import type { ResponsesRequest } from './schema.ts';

export type ResponsesEvent = Json & { type: string };

interface OpenCall {
  outputIndex: number;
  itemId: string;
  callId: string;
  name: string;
  arguments: string;
}

export function responsesEventMapper(req: ResponsesRequest, meta: ResponseMeta) {
  let sequence = 0;
  let started = false;
  let ended = false;
  let model = req.model;
  let finish: unknown = null;
  let usage: unknown;
  const output: Json[] = [];
  const suffix = meta.id.replace(/^resp_/, '');
  let text: { outputIndex: number; itemId: string; text: string } | null = null;
  const calls = new Map<number, OpenCall>();

  const event = (type: string, fields: Json): ResponsesEvent => ({
    type,
    sequence_number: sequence++,
    ...fields,
  });
  const snapshot = (extra: Json = {}): Json => ({
    ...responseEnvelope(req, meta),
    model,
    output,
    ...extra,
  });
  const start = (): ResponsesEvent[] => {
    if (started) return [];
    started = true;
    return [
      event('response.created', { response: snapshot() }),
      event('response.in_progress', { response: snapshot() }),
    ];
  };
  const closeText = (): ResponsesEvent[] => {
    if (!text) return [];
    const { outputIndex, itemId } = text;
    const part = { type: 'output_text', text: text.text, annotations: [] };
    const item = messageItem(itemId, text.text);
    output[outputIndex] = item;
    text = null;
    const at = { item_id: itemId, output_index: outputIndex, content_index: 0 };
    return [
      event('response.output_text.done', { ...at, text: part.text }),
      event('response.content_part.done', { ...at, part }),
      event('response.output_item.done', { output_index: outputIndex, item }),
    ];
  };
  const closeCalls = (): ResponsesEvent[] => {
    const events: ResponsesEvent[] = [];
    for (const call of calls.values()) {
      const item = functionCallItem(call.itemId, {
        id: call.callId,
        name: call.name,
        arguments: call.arguments,
      });
      output[call.outputIndex] = item;
      events.push(
        event('response.function_call_arguments.done', {
          item_id: call.itemId,
          output_index: call.outputIndex,
          arguments: call.arguments,
        }),
        event('response.output_item.done', { output_index: call.outputIndex, item }),
      );
    }
    calls.clear();
    return events;
  };
  const textDelta = (delta: string): ResponsesEvent[] => {
    const events: ResponsesEvent[] = [];
    if (!text) {
      const outputIndex = output.length;
      const itemId = `msg_${suffix}`;
      text = { outputIndex, itemId, text: '' };
      output.push(messageItem(itemId, '', 'in_progress'));
      events.push(
        event('response.output_item.added', {
          output_index: outputIndex,
          item: { ...messageItem(itemId, '', 'in_progress'), content: [] },
        }),
        event('response.content_part.added', {
          item_id: itemId,
          output_index: outputIndex,
          content_index: 0,
          part: { type: 'output_text', text: '', annotations: [] },
        }),
      );
    }
    text.text += delta;
    events.push(
      event('response.output_text.delta', {
        item_id: text.itemId,
        output_index: text.outputIndex,
        content_index: 0,
        delta,
      }),
    );
    return events;
  };
  const toolDelta = (call: Json): ResponsesEvent[] => {
    const index = Number(call.index ?? 0);
    const fn = isObj(call.function) ? call.function : {};
    const events: ResponsesEvent[] = [];
    let open = calls.get(index);
    if (!open) {
      events.push(...closeText());
      open = {
        outputIndex: output.length,
        itemId: `fc_${suffix}_${index}`,
        callId: String(call.id ?? `call_${suffix}_${index}`),
        name: String(fn.name ?? ''),
        arguments: '',
      };
      calls.set(index, open);
      const item = functionCallItem(
        open.itemId,
        { id: open.callId, name: open.name, arguments: '' },
        'in_progress',
      );
      output.push(item);
      events.push(event('response.output_item.added', { output_index: open.outputIndex, item }));
    }
    const args = typeof fn.arguments === 'string' ? fn.arguments : '';
    if (args !== '') {
      open.arguments += args;
      events.push(
        event('response.function_call_arguments.delta', {
          item_id: open.itemId,
          output_index: open.outputIndex,
          delta: args,
        }),
      );
    }
    return events;
  };
  const end = (): ResponsesEvent[] => {
    if (ended) return [];
    ended = true;
    const events = [...start(), ...closeText(), ...closeCalls()];
    const status = finalStatus(finish);
    const done = status.status === 'incomplete' ? 'response.incomplete' : 'response.completed';
    events.push(event(done, { response: snapshot({ ...status, usage: responseUsage(usage) }) }));
    return events;
  };

  return {
    /** One OpenAI chunk `data` payload -> Responses events. */
    map(data: string): ResponsesEvent[] {
      if (ended) return [];
      if (data === '[DONE]') return end();
      const chunk = parseJson(data);
      if (!isObj(chunk)) return [];
      if (isObj(chunk.error)) {
        ended = true;
        const error = {
          code: String(chunk.error.code ?? 'server_error'),
          message: String(chunk.error.message ?? ''),
        };
        return [
          ...start(),
          event('response.failed', { response: snapshot({ status: 'failed', error }) }),
        ];
      }
      if (typeof chunk.model === 'string') model = chunk.model;
      if (chunk.usage) usage = chunk.usage;
      const events = start();
      const choice =
        Array.isArray(chunk.choices) && isObj(chunk.choices[0]) ? chunk.choices[0] : {};
      const delta = isObj(choice.delta) ? choice.delta : {};
      if (typeof delta.content === 'string' && delta.content !== '') {
        events.push(...textDelta(delta.content));
      }
      if (Array.isArray(delta.tool_calls)) {
        for (const call of delta.tool_calls) if (isObj(call)) events.push(...toolDelta(call));
      }
      if (choice.finish_reason) finish = choice.finish_reason;
      return events;
    },
    /** The stream ended without [DONE] (cut upstream): whatever was produced, completed. */
    flush: (): ResponsesEvent[] => end(),
  };
}

export const encodeResponsesEvent = (e: ResponsesEvent): Uint8Array =>
  encodeEvent(JSON.stringify(e), e.type);

/** The gateway's OpenAI chunk SSE -> Responses SSE (backpressure preserved). */
export function toResponsesStream(
  body: ReadableStream<Uint8Array>,
  req: ResponsesRequest,
  meta: ResponseMeta,
): ReadableStream<Uint8Array> {
  const mapper = responsesEventMapper(req, meta);
  let out: TransformStreamDefaultController<Uint8Array> | undefined;
  const parser = createParser({
    onEvent: (e) => {
      for (const ev of mapper.map(e.data)) out!.enqueue(encodeResponsesEvent(ev));
    },
  });
  const decoder = new TextDecoder();
  return body.pipeThrough(
    new TransformStream<Uint8Array, Uint8Array>({
      transform(chunk, controller) {
        out = controller;
        parser.feed(decoder.decode(chunk, { stream: true }));
      },
      flush(controller) {
        out = controller;
        for (const ev of mapper.flush()) controller.enqueue(encodeResponsesEvent(ev));
      },
    }),
  );
}

/** OpenAI Responses events -> chat chunk `data` strings (bookkeeping only). */
export function responsesStreamMapper(): (event: EventSourceMessage) => string[] {
  let id = '';
  let model = '';
  const created = Math.floor(Date.now() / 1000);
  const { delta: chunk, usage: usageChunk } = chunkWriter(() => ({ id, created, model }));
  return (message) => {
    const data = parseJson(message.data);
    if (!isObj(data)) return [];
    switch (data.type) {
      case 'response.created': {
        const r = isObj(data.response) ? data.response : {};
        id = String(r.id ?? '');
        model = String(r.model ?? '');
        return [chunk({ role: 'assistant', content: '' })];
      }
      case 'response.output_text.delta':
        return [chunk({ content: String(data.delta ?? '') })];
      case 'response.completed':
      case 'response.incomplete': {
        const chat = chatFromResponse(data.response);
        const finish = (chat.choices as Json[])[0]!.finish_reason as string;
        return [chunk({}, finish), usageChunk(chat.usage), '[DONE]'];
      }
      case 'response.failed':
      case 'error': {
        const r = isObj(data.response) ? data.response : data;
        const e = isObj(r.error) ? r.error : r;
        return [
          JSON.stringify({
            error: {
              message: String(e.message ?? 'upstream error'),
              type: 'server_error',
              code: e.code ?? null,
            },
          }),
        ];
      }
      default:
        return [];
    }
  };
}

/** A finished Response as its stream: created, each item added and done, completed. */
export function eventsForResponse(response: unknown): StoredEvent[] {
  const r = isObj(response) ? response : {};
  let sequence = 0;
  const events: ResponsesEvent[] = [];
  const push = (type: string, fields: Json) =>
    events.push({ type, sequence_number: sequence++, ...fields });
  const pending = { ...r, status: 'in_progress', output: [], usage: null };
  push('response.created', { response: pending });
  push('response.in_progress', { response: pending });
  const output = Array.isArray(r.output) ? r.output : [];
  output.forEach((item, outputIndex) => {
    if (!isObj(item)) return;
    push('response.output_item.added', {
      output_index: outputIndex,
      item: { ...item, status: 'in_progress' },
    });
    if (item.type === 'message' && Array.isArray(item.content)) {
      item.content.forEach((part, contentIndex) => {
        if (!isObj(part)) return;
        const at = { item_id: item.id, output_index: outputIndex, content_index: contentIndex };
        push('response.content_part.added', { ...at, part: { ...part, text: '' } });
        push('response.output_text.delta', { ...at, delta: String(part.text ?? '') });
        push('response.output_text.done', { ...at, text: String(part.text ?? '') });
        push('response.content_part.done', { ...at, part });
      });
    } else if (item.type === 'function_call') {
      const at = { item_id: item.id, output_index: outputIndex };
      push('response.function_call_arguments.delta', {
        ...at,
        delta: String(item.arguments ?? ''),
      });
      push('response.function_call_arguments.done', {
        ...at,
        arguments: String(item.arguments ?? ''),
      });
    }
    push('response.output_item.done', { output_index: outputIndex, item });
  });
  push(r.status === 'incomplete' ? 'response.incomplete' : 'response.completed', { response: r });
  return events.map((e) => ({ event: e.type, data: JSON.stringify(e) }));
}

/** The Response a stored stream (its events) ends with. */
export function responseFromEvents(events: readonly StoredEvent[]): unknown {
  for (let i = events.length - 1; i >= 0; i--) {
    const data = parseJson(events[i]!.data);
    if (
      isObj(data) &&
      (data.type === 'response.completed' || data.type === 'response.incomplete')
    ) {
      return data.response;
    }
  }
  return undefined;
}
