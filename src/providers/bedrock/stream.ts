/**
 * ConverseStream: the binary AWS event stream -> events -> OpenAI chunks.
 *
 * Wire format (https://docs.aws.amazon.com/transcribe/latest/dg/event-stream.html, the
 * `application/vnd.amazon.eventstream` encoding every AWS streaming API uses): each message is
 * [total length u32][headers length u32][prelude CRC32][headers][payload][message CRC32].
 * `@smithy/eventstream-codec` (the AWS SDK's own codec) decodes one whole message and checks
 * both CRCs; the framing here only cuts the byte stream at each message's total length.
 * Headers used: `:message-type` (event | exception | error), `:event-type`,
 * `:exception-type`, `:content-type`.
 *
 * Events (https://docs.aws.amazon.com/bedrock/latest/APIReference/API_runtime_ConverseStream.html,
 * .../API_runtime_ConverseStreamOutput.html): messageStart {role}, contentBlockStart
 * {contentBlockIndex, start: {toolUse: {toolUseId, name}}}, contentBlockDelta
 * {contentBlockIndex, delta: {text} | {toolUse: {input: <partial JSON>}} | {reasoningContent}},
 * contentBlockStop, messageStop {stopReason}, then metadata {usage, metrics} LAST. Exceptions
 * (internalServerException, modelStreamErrorException, validationException,
 * throttlingException, serviceUnavailableException) arrive as `:message-type: exception`.
 */
import { EventStreamCodec } from '@smithy/eventstream-codec';
import { fromUtf8, toUtf8 } from '@smithy/util-utf8';
import type { EventSourceMessage, SSEReader } from '../../sse/index.ts';
import { chunkWriter, isObj, type Json, parseJson } from '../json.ts';
import { finishReason, openAIError, openAIUsage } from './response.ts';

/** The event name the reader gives an exception message; its data is {exceptionType, message}. */
export const EXCEPTION_EVENT = 'exception';

/** Longest single message accepted (AWS caps event stream messages at 16 MiB). */
const MAX_MESSAGE = 16 * 1024 * 1024;

/**
 * A pull reader over an event-stream body (same contract as `sseReader`): bytes are read only
 * when an event is asked for. Each message becomes `{event: :event-type, data: payload}`;
 * exceptions become `{event: "exception", data: {"exceptionType", "message"}}`. A bad CRC or
 * a message cut short rejects, which the relay turns into an error event.
 */
export function eventStreamReader(body: ReadableStream<Uint8Array>): SSEReader {
  const bytes = body.getReader();
  const codec = new EventStreamCodec(toUtf8, fromUtf8);
  const decoder = new TextDecoder();
  let buffer = new Uint8Array(0);
  let ended = false;

  const append = (chunk: Uint8Array) => {
    const next = new Uint8Array(buffer.length + chunk.length);
    next.set(buffer);
    next.set(chunk, buffer.length);
    buffer = next;
  };

  /** The next whole message in the buffer, if there is one. */
  const take = (): Uint8Array | undefined => {
    if (buffer.length < 4) return undefined;
    const length = new DataView(buffer.buffer, buffer.byteOffset, 4).getUint32(0, false);
    if (length < 16 || length > MAX_MESSAGE) throw new Error('bad event stream message length');
    if (buffer.length < length) return undefined;
    const message = buffer.slice(0, length);
    buffer = buffer.slice(length);
    return message;
  };

  const toEvent = (raw: Uint8Array): EventSourceMessage => {
    const { headers, body: payload } = codec.decode(raw);
    const header = (name: string) => {
      const h = headers[name];
      return h && h.type === 'string' ? h.value : undefined;
    };
    const text = decoder.decode(payload);
    const kind = header(':message-type') ?? 'event';
    if (kind === 'event') return { event: header(':event-type'), data: text, id: undefined };
    let message = header(':error-message');
    try {
      const parsed = JSON.parse(text) as Json;
      if (typeof parsed.message === 'string') message = parsed.message;
      else if (typeof parsed.Message === 'string') message = parsed.Message;
    } catch {
      // keep the header message
    }
    const exceptionType = header(':exception-type') ?? header(':error-code') ?? 'unknown';
    return {
      event: EXCEPTION_EVENT,
      data: JSON.stringify({ exceptionType, message: message ?? 'The upstream stream failed.' }),
      id: undefined,
    };
  };

  return {
    async read() {
      for (;;) {
        const raw = take();
        if (raw) return { done: false, value: toEvent(raw) };
        if (ended) {
          if (buffer.length > 0) throw new Error('event stream ended inside a message');
          return { done: true, value: undefined };
        }
        const { done, value } = await bytes.read();
        if (done) ended = true;
        else append(value);
      }
    },
    cancel: () => bytes.cancel().catch(() => undefined),
  };
}

/** A fresh, per-stream mapper from ConverseStream events to OpenAI chunk `data` strings. */
export function bedrockStreamMapper(): (event: EventSourceMessage) => string[] {
  const id = `chatcmpl-bedrock-${crypto.randomUUID()}`;
  const model = 'bedrock';
  const created = Math.floor(Date.now() / 1000);
  /** contentBlockIndex -> OpenAI tool_calls index */
  const toolIndex = new Map<number, number>();
  let started = false;
  let finished = false;

  const { delta: chunk, usage: usageChunk } = chunkWriter(() => ({ id, created, model }));
  const start = (): string[] => {
    if (started) return [];
    started = true;
    return [chunk({ role: 'assistant', content: '' })];
  };

  return (event) => {
    const data = parseJson(event.data);
    if (!isObj(data)) return [];
    switch (event.event) {
      case 'messageStart':
        return start();
      case 'contentBlockStart': {
        const tool = isObj(data.start) && isObj(data.start.toolUse) ? data.start.toolUse : null;
        if (!tool) return start();
        const index = toolIndex.size;
        toolIndex.set(Number(data.contentBlockIndex), index);
        const call = {
          index,
          id: String(tool.toolUseId ?? ''),
          type: 'function',
          function: { name: String(tool.name ?? ''), arguments: '' },
        };
        return [...start(), chunk({ tool_calls: [call] })];
      }
      case 'contentBlockDelta': {
        const delta = isObj(data.delta) ? data.delta : {};
        if (typeof delta.text === 'string') return [...start(), chunk({ content: delta.text })];
        if (isObj(delta.toolUse)) {
          const index = toolIndex.get(Number(data.contentBlockIndex));
          if (index === undefined) return [];
          const args = String(delta.toolUse.input ?? '');
          return [chunk({ tool_calls: [{ index, function: { arguments: args } }] })];
        }
        return []; // reasoningContent, citations: no OpenAI equivalent
      }
      case 'messageStop':
        finished = true;
        return [...start(), chunk({}, finishReason(data.stopReason) ?? 'stop')];
      case 'metadata': {
        const out = finished ? [] : [...start(), chunk({}, 'stop')];
        finished = true;
        const usage = openAIUsage(data.usage);
        if (usage) out.push(usageChunk(usage));
        return [...out, '[DONE]'];
      }
      case EXCEPTION_EVENT: {
        const mapped = openAIError(String(data.exceptionType ?? ''), String(data.message ?? ''));
        return [JSON.stringify({ error: mapped.error })];
      }
      default:
        return []; // contentBlockStop, unknown future events
    }
  };
}
