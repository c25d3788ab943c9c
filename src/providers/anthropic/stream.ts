/**
 * Anthropic stream events -> OpenAI chat.completion.chunk `data` strings (a stateful mapper).
 * Reference: https://docs.anthropic.com/en/docs/build-with-claude/streaming (message_start,
 * content_block_start/delta/stop with text_delta and input_json_delta, message_delta with
 * stop_reason and cumulative usage, message_stop, ping, error).
 *
 * Usage is split: message_start carries input and cache tokens (and a provisional
 * output_tokens), message_delta the final output_tokens (and, in newer API versions, the
 * input counts again). Counts are cumulative, so later values replace earlier ones: never add.
 */
import type { EventSourceMessage } from '../../sse/index.ts';
import { chunkWriter, isObj, type Json, parseJson } from '../json.ts';
import { finishReason, openAIError, openAIUsage } from './response.ts';

export function anthropicStreamMapper(): (event: EventSourceMessage) => string[] {
  let id = '';
  let model = '';
  const created = Math.floor(Date.now() / 1000);
  const usage: Json = {};
  /** content block index -> OpenAI tool_calls index */
  const toolIndex = new Map<number, number>();
  let finish: string | null = null;

  const { delta: chunk, usage: usageChunk } = chunkWriter(() => ({ id, created, model }));
  const merge = (u: unknown) => {
    if (!isObj(u)) return;
    for (const [k, v] of Object.entries(u)) if (typeof v === 'number' || isObj(v)) usage[k] = v;
  };

  return (event) => {
    const data = parseJson(event.data);
    if (!isObj(data)) return [];
    switch (data.type) {
      case 'message_start': {
        const message = isObj(data.message) ? data.message : {};
        id = String(message.id ?? '');
        model = String(message.model ?? '');
        merge(message.usage);
        return [chunk({ role: 'assistant', content: '' })];
      }
      case 'content_block_start': {
        const block = isObj(data.content_block) ? data.content_block : {};
        if (block.type === 'text' && typeof block.text === 'string' && block.text !== '') {
          return [chunk({ content: block.text })];
        }
        if (block.type !== 'tool_use') return [];
        const index = toolIndex.size;
        toolIndex.set(Number(data.index), index);
        const call = {
          index,
          id: block.id,
          type: 'function',
          function: { name: block.name, arguments: '' },
        };
        return [chunk({ tool_calls: [call] })];
      }
      case 'content_block_delta': {
        const delta = isObj(data.delta) ? data.delta : {};
        if (delta.type === 'text_delta') return [chunk({ content: String(delta.text ?? '') })];
        if (delta.type === 'input_json_delta') {
          const index = toolIndex.get(Number(data.index));
          if (index === undefined) return [];
          const args = String(delta.partial_json ?? '');
          return [chunk({ tool_calls: [{ index, function: { arguments: args } }] })];
        }
        return []; // thinking_delta, signature_delta, citations: no OpenAI equivalent
      }
      case 'message_delta': {
        merge(data.usage);
        const delta = isObj(data.delta) ? data.delta : {};
        finish = finishReason(delta.stop_reason);
        return finish ? [chunk({}, finish)] : [];
      }
      case 'message_stop': {
        const last = usageChunk(openAIUsage(usage));
        return finish ? [last, '[DONE]'] : [chunk({}, 'stop'), last, '[DONE]'];
      }
      case 'error':
        return [JSON.stringify({ error: openAIError(isObj(data.error) ? data.error : {}) })];
      default:
        return []; // ping, content_block_stop, unknown future events
    }
  };
}
