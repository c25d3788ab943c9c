/**
 * A Responses API request as a chat completions request, for targets that do not take the
 * Responses API (OpenAI-compatible hosts, origins, Anthropic, Gemini, Bedrock). Pure.
 * `history` is the conversation a `previous_response_id` names (its input and output items),
 * replayed before this request's input. Built-in tools (web search, file search...) exist only
 * at OpenAI: they are left out here.
 */
import { isObj, type Json } from '../providers/json.ts';
import type { InputItem, ResponsesRequest } from './schema.ts';

type ChatMessage = Json & { role: string };

export function toChatRequest(req: ResponsesRequest, history: readonly InputItem[] = []): Json {
  const messages: ChatMessage[] = [];
  if (req.instructions) messages.push({ role: 'system', content: req.instructions });
  const input: InputItem[] =
    typeof req.input === 'string' ? [{ role: 'user', content: req.input }] : req.input;
  for (const item of [...history, ...input]) appendItem(messages, item);

  const out: Json = { model: req.model, messages };
  if (req.stream) out.stream = true;
  if (req.max_output_tokens) out.max_tokens = req.max_output_tokens;
  for (const name of ['temperature', 'top_p', 'parallel_tool_calls', 'user'] as const) {
    if (req[name] !== undefined && req[name] !== null) out[name] = req[name];
  }
  const tools = (req.tools ?? []).filter((t) => t.type === 'function');
  if (tools.length > 0) {
    out.tools = tools.map((t) => ({
      type: 'function',
      function: {
        name: t.name,
        ...(t.description ? { description: t.description } : {}),
        ...(t.parameters ? { parameters: t.parameters } : {}),
        ...(typeof t.strict === 'boolean' ? { strict: t.strict } : {}),
      },
    }));
    const choice = req.tool_choice;
    if (typeof choice === 'string') out.tool_choice = choice;
    else if (choice?.type === 'function' && typeof choice.name === 'string') {
      out.tool_choice = { type: 'function', function: { name: choice.name } };
    }
  }
  const format = req.text?.format;
  if (format?.type === 'json_schema') {
    out.response_format = {
      type: 'json_schema',
      json_schema: {
        name: format.name,
        schema: format.schema,
        ...(typeof format.strict === 'boolean' ? { strict: format.strict } : {}),
        ...(format.description ? { description: format.description } : {}),
      },
    };
  } else if (format?.type === 'json_object') out.response_format = { type: 'json_object' };
  if (req.reasoning?.effort) out.reasoning_effort = req.reasoning.effort;
  return out;
}

function appendItem(messages: ChatMessage[], item: InputItem): void {
  const type = (item as { type?: string }).type ?? 'message';
  if (type === 'message' && 'role' in item) {
    const role = String(item.role);
    messages.push({ role, content: messageContent(role, item.content as string | Json[]) });
  } else if (type === 'function_call' && 'call_id' in item && 'name' in item) {
    const call = {
      id: item.call_id,
      type: 'function',
      function: { name: item.name, arguments: item.arguments },
    };
    const last = messages.at(-1);
    // Parallel calls are one assistant message with several tool_calls.
    if (last?.role === 'assistant' && Array.isArray(last.tool_calls)) last.tool_calls.push(call);
    else messages.push({ role: 'assistant', content: null, tool_calls: [call] });
  } else if (type === 'function_call_output' && 'output' in item) {
    messages.push({
      role: 'tool',
      tool_call_id: item.call_id,
      content: typeof item.output === 'string' ? item.output : textOf(item.output as unknown[]),
    });
  }
  // reasoning and item_reference items have no chat equivalent.
}

function messageContent(role: string, content: string | Json[]): unknown {
  if (typeof content === 'string') return content;
  if (role !== 'user') return textOf(content);
  return content.map((part) => {
    if (part.type === 'input_image') {
      const url = typeof part.image_url === 'string' ? part.image_url : undefined;
      return {
        type: 'image_url',
        image_url: { url, ...(part.detail ? { detail: part.detail } : {}) },
      };
    }
    return { type: 'text', text: typeof part.text === 'string' ? part.text : '' };
  });
}

function textOf(parts: readonly unknown[]): string {
  return parts.map((p) => (isObj(p) && typeof p.text === 'string' ? p.text : '')).join('');
}
