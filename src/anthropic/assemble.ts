/**
 * The two shapes of one Anthropic answer, so a stored native stream can answer a
 * non-streaming request and a stored Message can be replayed as a stream, both without loss
 * (thinking and its signature, citations, tool input, stop_sequence, usage). Pure.
 * Reference: https://docs.anthropic.com/en/docs/build-with-claude/streaming (event flow,
 * text_delta / input_json_delta / thinking_delta / signature_delta / citations_delta).
 */
import { isObj, type Json, parseJson } from '../providers/json.ts';
import type { StoredEvent } from '../sse/index.ts';

/** A JSON object from untrusted text, or undefined. */
function parse(data: string): Json | undefined {
  const value = parseJson(data);
  return isObj(value) ? value : undefined;
}

/** A complete event stream (message_start ... message_stop) as the Message it describes. */
export function messageFromEvents(events: readonly StoredEvent[]): Json | undefined {
  let message: Json | undefined;
  const blocks: Json[] = [];
  const partialJson = new Map<number, string>();
  for (const { data } of events) {
    const e = parse(data);
    if (!e) continue;
    const index = typeof e.index === 'number' ? e.index : -1;
    if (e.type === 'message_start' && isObj(e.message)) {
      message = { ...e.message, content: [] };
    } else if (e.type === 'content_block_start' && isObj(e.content_block)) {
      blocks[index] = { ...e.content_block };
    } else if (e.type === 'content_block_delta' && isObj(e.delta) && blocks[index]) {
      const block = blocks[index];
      const d = e.delta;
      if (d.type === 'text_delta') block.text = String(block.text ?? '') + String(d.text ?? '');
      if (d.type === 'thinking_delta')
        block.thinking = String(block.thinking ?? '') + String(d.thinking ?? '');
      if (d.type === 'signature_delta') block.signature = d.signature;
      if (d.type === 'citations_delta')
        block.citations = [...((block.citations as unknown[]) ?? []), d.citation];
      if (d.type === 'input_json_delta')
        partialJson.set(index, (partialJson.get(index) ?? '') + String(d.partial_json ?? ''));
    } else if (e.type === 'content_block_stop' && partialJson.has(index) && blocks[index]) {
      const json = partialJson.get(index)!;
      blocks[index].input = json === '' ? {} : (parse(json) ?? blocks[index].input);
    } else if (e.type === 'message_delta' && message) {
      const delta = isObj(e.delta) ? e.delta : {};
      if ('stop_reason' in delta) message.stop_reason = delta.stop_reason;
      if ('stop_sequence' in delta) message.stop_sequence = delta.stop_sequence;
      if (isObj(e.usage))
        message.usage = { ...(isObj(message.usage) ? message.usage : {}), ...e.usage };
    }
  }
  if (!message) return undefined;
  message.content = blocks.filter(Boolean);
  return message;
}

const event = (type: string, data: Json): StoredEvent => ({
  event: type,
  data: JSON.stringify({ type, ...data }),
});

/** The first delta of a block and the empty block its content_block_start announces. */
function blockEvents(block: Json, index: number): StoredEvent[] {
  const deltas: Json[] = [];
  let start: Json = block;
  if (block.type === 'text') {
    start = { ...block, text: '' };
    if (Array.isArray(block.citations)) {
      start = { type: 'text', text: '' };
      for (const citation of block.citations) deltas.push({ type: 'citations_delta', citation });
    }
    deltas.push({ type: 'text_delta', text: block.text ?? '' });
  } else if (block.type === 'thinking') {
    start = { type: 'thinking', thinking: '', signature: '' };
    deltas.push({ type: 'thinking_delta', thinking: block.thinking ?? '' });
    deltas.push({ type: 'signature_delta', signature: block.signature ?? '' });
  } else if (block.type === 'tool_use' || block.type === 'server_tool_use') {
    start = { ...block, input: {} };
    deltas.push({ type: 'input_json_delta', partial_json: JSON.stringify(block.input ?? {}) });
  }
  return [
    event('content_block_start', { index, content_block: start }),
    ...deltas.map((delta) => event('content_block_delta', { index, delta })),
    event('content_block_stop', { index }),
  ];
}

/** A Message as the event stream Anthropic would have sent for it. */
export function eventsFromMessage(message: Json): StoredEvent[] {
  const content = Array.isArray(message.content) ? (message.content as Json[]) : [];
  const usage = isObj(message.usage) ? message.usage : {};
  const { output_tokens: output = 0, ...input } = usage;
  return [
    event('message_start', {
      message: {
        ...message,
        content: [],
        stop_reason: null,
        stop_sequence: null,
        usage: { ...input, output_tokens: Math.min(1, Number(output)) },
      },
    }),
    ...content.flatMap((block, index) => (isObj(block) ? blockEvents(block, index) : [])),
    event('message_delta', {
      delta: {
        stop_reason: message.stop_reason ?? null,
        stop_sequence: message.stop_sequence ?? null,
      },
      usage: { output_tokens: output },
    }),
    event('message_stop', {}),
  ];
}
