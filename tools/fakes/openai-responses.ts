/**
 * The fake OpenAI's Responses API (`POST /v1/responses`, Azure `/openai/v1/responses`). TEST
 * FIXTURE. Shapes from the public API reference: "The response object" and "Streaming events"
 * (https://platform.openai.com/docs/api-reference/responses-streaming): named SSE events
 * (`event: response.output_text.delta`), each with a `sequence_number`, no `[DONE]`.
 * The reply text comes from the caller (the fake's deterministic "model"); token counts are
 * ceil(length / 4), as elsewhere in the fakes.
 */
import { randomBytes } from 'node:crypto';

type Json = Record<string, unknown>;
const hex = (n: number) => randomBytes(n).toString('hex');
const tokens = (text: string) => Math.ceil(text.length / 4);
const isObj = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);

function inputText(input: unknown): string {
  if (typeof input === 'string') return input;
  if (!Array.isArray(input)) return '';
  return input
    .map((item) => {
      if (!isObj(item)) return '';
      if (typeof item.content === 'string') return item.content;
      if (Array.isArray(item.content)) {
        return item.content.map((p) => (isObj(p) ? String(p.text ?? '') : '')).join('');
      }
      return typeof item.output === 'string' ? item.output : String(item.arguments ?? '');
    })
    .join('');
}

export interface ResponsesOutput {
  pieces: string[];
  finish: 'stop' | 'length';
  toolCall?: { name: string; arguments: string };
}

/** `{json}` for a non-streaming request, `{events}` (already typed) for a stream. */
export function fakeResponse(
  body: Json,
  model: string,
  out: ResponsesOutput,
): { json: Json } | { events: Json[] } {
  const id = `resp_${hex(24)}`;
  const created_at = Math.floor(Date.now() / 1000);
  const inputTokens = tokens(`${String(body.instructions ?? '')}${inputText(body.input)}`);
  const text = out.pieces.join('');
  const item: Json = out.toolCall
    ? {
        type: 'function_call',
        id: `fc_${hex(24)}`,
        call_id: `call_${hex(12)}`,
        name: out.toolCall.name,
        arguments: out.toolCall.arguments,
        status: 'completed',
      }
    : {
        type: 'message',
        id: `msg_${hex(24)}`,
        status: 'completed',
        role: 'assistant',
        content: [{ type: 'output_text', text, annotations: [] }],
      };
  const outputTokens = out.toolCall ? tokens(out.toolCall.arguments) : out.pieces.length;
  const incomplete = out.finish === 'length' && !out.toolCall;
  const envelope = {
    id,
    object: 'response',
    created_at,
    error: null,
    incomplete_details: null,
    instructions: body.instructions ?? null,
    max_output_tokens: body.max_output_tokens ?? null,
    model,
    parallel_tool_calls: true,
    previous_response_id: body.previous_response_id ?? null,
    store: body.store ?? true,
    temperature: body.temperature ?? 1,
    text: body.text ?? { format: { type: 'text' } },
    tool_choice: body.tool_choice ?? 'auto',
    tools: body.tools ?? [],
    top_p: body.top_p ?? 1,
    metadata: body.metadata ?? {},
  };
  const final = {
    ...envelope,
    status: incomplete ? 'incomplete' : 'completed',
    ...(incomplete ? { incomplete_details: { reason: 'max_output_tokens' } } : {}),
    output: [item],
    usage: {
      input_tokens: inputTokens,
      input_tokens_details: { cached_tokens: 0 },
      output_tokens: outputTokens,
      output_tokens_details: { reasoning_tokens: 0 },
      total_tokens: inputTokens + outputTokens,
    },
  };
  if (body.stream !== true) return { json: final };

  let seq = 0;
  const events: Json[] = [];
  const ev = (type: string, fields: Json) =>
    events.push({ type, sequence_number: seq++, ...fields });
  const pending = { ...envelope, status: 'in_progress', output: [], usage: null };
  ev('response.created', { response: pending });
  ev('response.in_progress', { response: pending });
  if (out.toolCall) {
    ev('response.output_item.added', {
      output_index: 0,
      item: { ...item, arguments: '', status: 'in_progress' },
    });
    const args = out.toolCall.arguments;
    const size = Math.max(1, Math.ceil(args.length / 3));
    for (let i = 0; i < args.length; i += size) {
      ev('response.function_call_arguments.delta', {
        item_id: item.id,
        output_index: 0,
        delta: args.slice(i, i + size),
      });
    }
    ev('response.function_call_arguments.done', {
      item_id: item.id,
      output_index: 0,
      arguments: args,
    });
  } else {
    const at = { item_id: item.id, output_index: 0, content_index: 0 };
    ev('response.output_item.added', {
      output_index: 0,
      item: { ...item, status: 'in_progress', content: [] },
    });
    ev('response.content_part.added', {
      ...at,
      part: { type: 'output_text', text: '', annotations: [] },
    });
    for (const piece of out.pieces)
      ev('response.output_text.delta', { ...at, delta: piece, logprobs: [] });
    ev('response.output_text.done', { ...at, text, logprobs: [] });
    ev('response.content_part.done', {
      ...at,
      part: { type: 'output_text', text, annotations: [] },
    });
  }
  ev('response.output_item.done', { output_index: 0, item });
  ev(incomplete ? 'response.incomplete' : 'response.completed', { response: final });
  return { events };
}
