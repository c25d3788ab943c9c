/**
 * Anthropic Messages request -> the gateway's internal OpenAI chat request (pure): what
 * non-Anthropic targets get (Anthropic targets get the request as it came, see ./native.ts).
 * The inverse of src/providers/anthropic/request.ts for text, images, tools, tool results,
 * stop sequences and sampling. Fields with no OpenAI equivalent (cache_control, thinking,
 * citations) are dropped on this path.
 */
import { isObj, type Json } from '../providers/json.ts';
import type { AnthropicRequest } from './schema.ts';

function text(content: unknown): string {
  if (typeof content === 'string') return content;
  if (!Array.isArray(content)) return '';
  return content
    .filter((b) => isObj(b) && b.type === 'text')
    .map((b) => String((b as Json).text ?? ''))
    .join('');
}

function imageUrl(source: unknown): string {
  if (!isObj(source)) return '';
  if (source.type === 'base64') return `data:${source.media_type};base64,${source.data}`;
  return String(source.url ?? '');
}

function userMessages(content: AnthropicRequest['messages'][number]['content']): Json[] {
  if (typeof content === 'string') return [{ role: 'user', content }];
  const out: Json[] = [];
  const parts: Json[] = [];
  for (const b of content) {
    if (b.type === 'tool_result') {
      out.push({ role: 'tool', tool_call_id: b.tool_use_id, content: text(b.content) });
    } else if (b.type === 'text') parts.push({ type: 'text', text: b.text });
    else if (b.type === 'image')
      parts.push({ type: 'image_url', image_url: { url: imageUrl(b.source) } });
  }
  if (parts.length > 0) {
    const only = parts.length === 1 && parts[0]!.type === 'text';
    out.push({ role: 'user', content: only ? parts[0]!.text : parts });
  }
  return out;
}

function assistantMessage(content: AnthropicRequest['messages'][number]['content']): Json {
  if (typeof content === 'string') return { role: 'assistant', content };
  const calls = content
    .filter((b) => b.type === 'tool_use')
    .map((b) => ({
      id: b.id,
      type: 'function',
      function: { name: b.name, arguments: JSON.stringify(b.input ?? {}) },
    }));
  const said = text(content);
  return {
    role: 'assistant',
    content: said === '' && calls.length > 0 ? null : said,
    ...(calls.length > 0 ? { tool_calls: calls } : {}),
  };
}

export function toOpenAIRequest(req: AnthropicRequest): Json {
  const messages: Json[] = [];
  if (req.system !== undefined) messages.push({ role: 'system', content: text(req.system) });
  for (const m of req.messages) {
    if (m.role === 'user') messages.push(...userMessages(m.content));
    else messages.push(assistantMessage(m.content));
  }
  const out: Json = { model: req.model, messages, max_tokens: req.max_tokens };
  if (req.temperature !== undefined) out.temperature = req.temperature;
  if (req.top_p !== undefined) out.top_p = req.top_p;
  if (req.top_k !== undefined) out.top_k = req.top_k;
  if (req.stop_sequences && req.stop_sequences.length > 0) out.stop = req.stop_sequences;
  if (req.tools && req.tools.length > 0) {
    out.tools = req.tools.map((t) => ({
      type: 'function',
      function: {
        name: t.name,
        ...(t.description !== undefined ? { description: t.description } : {}),
        parameters: t.input_schema ?? { type: 'object', properties: {} },
      },
    }));
  }
  const choice = req.tool_choice;
  if (choice) {
    if (choice.type === 'auto') out.tool_choice = 'auto';
    else if (choice.type === 'any') out.tool_choice = 'required';
    else if (choice.type === 'none') out.tool_choice = 'none';
    else out.tool_choice = { type: 'function', function: { name: choice.name } };
    if (choice.disable_parallel_tool_use === true) out.parallel_tool_calls = false;
  }
  if (typeof req.metadata?.user_id === 'string') out.user = req.metadata.user_id;
  if (req.stream === true) {
    out.stream = true;
    out.stream_options = { include_usage: true };
  }
  return out;
}
