/**
 * Responses API objects from chat completions, and back (pure):
 * - `toResponse`: a chat completion answered by a translated target -> the Response object;
 * - `chatFromResponse`: a Response (an OpenAI target's own answer) -> the chat completion the
 *   gateway's bookkeeping reads (usage, text, the cache);
 * - `responseUsage`: OpenAI chat usage -> Responses usage (input/output, cached, reasoning).
 */
import { isObj, type Json, num } from '../providers/json.ts';
import type { InputItem, ResponsesRequest } from './schema.ts';

export interface ResponseMeta {
  id: string;
  createdAt: number;
  /** Whether the gateway keeps it (`store`). */
  stored: boolean;
}

export function responseUsage(usage: unknown): Json {
  const u = isObj(usage) ? usage : {};
  const prompt = isObj(u.prompt_tokens_details) ? u.prompt_tokens_details : {};
  const completion = isObj(u.completion_tokens_details) ? u.completion_tokens_details : {};
  const input = num(u.prompt_tokens);
  const output = num(u.completion_tokens);
  return {
    input_tokens: input,
    input_tokens_details: { cached_tokens: num(prompt.cached_tokens) },
    output_tokens: output,
    output_tokens_details: { reasoning_tokens: num(completion.reasoning_tokens) },
    total_tokens: num(u.total_tokens) || input + output,
  };
}

/** The parts of a Response that echo the request. */
export function responseEnvelope(req: ResponsesRequest, meta: ResponseMeta): Json {
  return {
    id: meta.id,
    object: 'response',
    created_at: meta.createdAt,
    status: 'in_progress',
    error: null,
    incomplete_details: null,
    instructions: req.instructions ?? null,
    max_output_tokens: req.max_output_tokens ?? null,
    model: req.model,
    output: [],
    parallel_tool_calls: req.parallel_tool_calls ?? true,
    previous_response_id: req.previous_response_id ?? null,
    reasoning: { effort: req.reasoning?.effort ?? null, summary: null },
    store: meta.stored,
    temperature: req.temperature ?? 1,
    text: { format: req.text?.format ?? { type: 'text' } },
    tool_choice: req.tool_choice ?? 'auto',
    tools: req.tools ?? [],
    top_p: req.top_p ?? 1,
    usage: null,
    user: req.user ?? null,
    metadata: req.metadata ?? {},
  };
}

export const messageItem = (id: string, text: string, status = 'completed'): Json => ({
  type: 'message',
  id,
  status,
  role: 'assistant',
  content: [{ type: 'output_text', text, annotations: [] }],
});

export const functionCallItem = (
  id: string,
  call: { id: string; name: string; arguments: string },
  status = 'completed',
): Json => ({
  type: 'function_call',
  id,
  call_id: call.id,
  name: call.name,
  arguments: call.arguments,
  status,
});

/** `length` ends a Response as incomplete, like OpenAI's own. */
export function finalStatus(finishReason: unknown): Json {
  return finishReason === 'length'
    ? { status: 'incomplete', incomplete_details: { reason: 'max_output_tokens' } }
    : { status: 'completed' };
}

export function toResponse(chat: unknown, req: ResponsesRequest, meta: ResponseMeta): Json {
  const body = isObj(chat) ? chat : {};
  const choice = Array.isArray(body.choices) && isObj(body.choices[0]) ? body.choices[0] : {};
  const message = isObj(choice.message) ? choice.message : {};
  const output: Json[] = [];
  const suffix = meta.id.replace(/^resp_/, '');
  if (typeof message.content === 'string' && message.content !== '') {
    output.push(messageItem(`msg_${suffix}`, message.content));
  }
  const calls = Array.isArray(message.tool_calls) ? message.tool_calls : [];
  calls.forEach((call, i) => {
    if (!isObj(call) || !isObj(call.function)) return;
    output.push(
      functionCallItem(`fc_${suffix}_${i}`, {
        id: String(call.id ?? `call_${suffix}_${i}`),
        name: String(call.function.name ?? ''),
        arguments: String(call.function.arguments ?? ''),
      }),
    );
  });
  return {
    ...responseEnvelope(req, meta),
    ...finalStatus(choice.finish_reason),
    model: typeof body.model === 'string' ? body.model : req.model,
    output,
    usage: responseUsage(body.usage),
  };
}

/** The concatenated `output_text` of a Response's message items. */
export function outputText(output: unknown): string {
  if (!Array.isArray(output)) return '';
  return output
    .filter((item) => isObj(item) && item.type === 'message' && Array.isArray(item.content))
    .flatMap((item) => (item as { content: unknown[] }).content)
    .map((part) => (isObj(part) && part.type === 'output_text' ? String(part.text ?? '') : ''))
    .join('');
}

export function chatFromResponse(response: unknown): Json {
  const r = isObj(response) ? response : {};
  const usage = isObj(r.usage) ? r.usage : {};
  const inputDetails = isObj(usage.input_tokens_details) ? usage.input_tokens_details : {};
  const outputDetails = isObj(usage.output_tokens_details) ? usage.output_tokens_details : {};
  const calls = (Array.isArray(r.output) ? r.output : [])
    .filter((item): item is Json => isObj(item) && item.type === 'function_call')
    .map((item) => ({
      id: item.call_id,
      type: 'function',
      function: { name: item.name, arguments: item.arguments },
    }));
  const incomplete = r.status === 'incomplete';
  return {
    id: r.id,
    object: 'chat.completion',
    created: num(r.created_at),
    model: r.model,
    choices: [
      {
        index: 0,
        message: {
          role: 'assistant',
          content: outputText(r.output),
          ...(calls.length > 0 ? { tool_calls: calls } : {}),
        },
        finish_reason: incomplete ? 'length' : calls.length > 0 ? 'tool_calls' : 'stop',
      },
    ],
    usage: {
      prompt_tokens: num(usage.input_tokens),
      completion_tokens: num(usage.output_tokens),
      total_tokens: num(usage.total_tokens),
      prompt_tokens_details: { cached_tokens: num(inputDetails.cached_tokens) },
      completion_tokens_details: { reasoning_tokens: num(outputDetails.reasoning_tokens) },
    },
  };
}

/** A Response's output as input items (for a follow-up's `previous_response_id`). */
export function outputAsInput(output: unknown): InputItem[] {
  if (!Array.isArray(output)) return [];
  const items: InputItem[] = [];
  for (const item of output) {
    if (!isObj(item)) continue;
    if (item.type === 'message') {
      items.push({ role: 'assistant', content: outputText([item]) });
    } else if (item.type === 'function_call') {
      items.push({
        type: 'function_call',
        call_id: String(item.call_id),
        name: String(item.name),
        arguments: String(item.arguments ?? ''),
      });
    }
  }
  return items;
}
