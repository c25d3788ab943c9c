/**
 * OpenAI chat request -> Anthropic Messages request (pure).
 * Reference: https://docs.anthropic.com/en/api/messages (request body), "Tool use" guide
 * (tools, tool_choice, tool_use / tool_result blocks), "Vision" guide (image sources).
 */
import { isObj, type Json } from '../json.ts';

/** Text of an OpenAI content value: a string, or the text parts of an array. */
export function contentText(content: unknown): string {
  if (typeof content === 'string') return content;
  if (!Array.isArray(content)) return '';
  return content
    .filter((p) => isObj(p) && p.type === 'text')
    .map((p) => String((p as Json).text ?? ''))
    .join('');
}

/** `data:image/png;base64,AAA` -> base64 source; any other URL -> url source. */
export function imageSource(url: string): Json {
  const match = /^data:([^;,]+);base64,(.*)$/s.exec(url);
  if (match) return { type: 'base64', media_type: match[1], data: match[2] };
  return { type: 'url', url };
}

function userBlocks(content: unknown): Json[] {
  if (typeof content === 'string') return [{ type: 'text', text: content }];
  if (!Array.isArray(content)) return [];
  const blocks: Json[] = [];
  for (const part of content) {
    if (!isObj(part)) continue;
    if (part.type === 'text') blocks.push({ type: 'text', text: String(part.text ?? '') });
    if (part.type === 'image_url') {
      const image = part.image_url;
      const url = typeof image === 'string' ? image : isObj(image) ? String(image.url ?? '') : '';
      blocks.push({ type: 'image', source: imageSource(url) });
    }
  }
  return blocks;
}

export function parseArguments(args: unknown): unknown {
  if (typeof args !== 'string' || args.trim() === '') return {};
  try {
    return JSON.parse(args);
  } catch {
    return {};
  }
}

function assistantBlocks(message: Json): Json[] {
  const blocks: Json[] = [];
  const text = contentText(message.content);
  if (text !== '') blocks.push({ type: 'text', text });
  if (Array.isArray(message.tool_calls)) {
    for (const call of message.tool_calls as Json[]) {
      const fn = isObj(call.function) ? call.function : {};
      blocks.push({
        type: 'tool_use',
        id: String(call.id ?? ''),
        name: String(fn.name ?? ''),
        input: parseArguments(fn.arguments),
      });
    }
  }
  return blocks;
}

/** OpenAI messages -> Anthropic `system` and alternating `messages` (same roles merged). */
export function toAnthropicMessages(messages: unknown[]): { system?: string; messages: Json[] } {
  const system: string[] = [];
  const out: { role: string; content: Json[] }[] = [];
  const push = (role: string, blocks: Json[]) => {
    const last = out.at(-1);
    if (last && last.role === role) last.content.push(...blocks);
    else out.push({ role, content: blocks });
  };
  for (const m of messages) {
    if (!isObj(m)) continue;
    if (m.role === 'system' || m.role === 'developer') system.push(contentText(m.content));
    else if (m.role === 'assistant') push('assistant', assistantBlocks(m));
    else if (m.role === 'tool') {
      push('user', [
        {
          type: 'tool_result',
          tool_use_id: String(m.tool_call_id ?? ''),
          content: contentText(m.content),
        },
      ]);
    } else push('user', userBlocks(m.content));
  }
  // A lone text block is sent as a plain string: the common shape, and byte-identical to what
  // an Anthropic client sent through /v1/messages when it used a string.
  const shaped = out.map(({ role, content }) =>
    content.length === 1 && content[0]!.type === 'text' && Object.keys(content[0]!).length === 2
      ? { role, content: content[0]!.text }
      : { role, content },
  );
  return { ...(system.length > 0 ? { system: system.join('\n\n') } : {}), messages: shaped };
}

function toolChoice(choice: unknown, parallel: unknown): Json | undefined {
  let out: Json | undefined;
  if (choice === 'auto') out = { type: 'auto' };
  else if (choice === 'required') out = { type: 'any' };
  else if (choice === 'none') out = { type: 'none' };
  else if (isObj(choice) && isObj(choice.function)) {
    out = { type: 'tool', name: String(choice.function.name ?? '') };
  }
  if (parallel === false) out = { ...(out ?? { type: 'auto' }), disable_parallel_tool_use: true };
  return out;
}

/** The Messages API body for an OpenAI chat body (model already the upstream's). */
export function toAnthropicRequest(body: Json, defaultMaxTokens: number): Json {
  const { system, messages } = toAnthropicMessages(
    Array.isArray(body.messages) ? body.messages : [],
  );
  const out: Json = {
    model: body.model,
    max_tokens: body.max_completion_tokens ?? body.max_tokens ?? defaultMaxTokens,
    ...(system !== undefined ? { system } : {}),
    messages,
  };
  if (typeof body.temperature === 'number') out.temperature = Math.min(1, body.temperature);
  if (typeof body.top_p === 'number') out.top_p = body.top_p;
  if (typeof body.top_k === 'number') out.top_k = body.top_k;
  const stop = typeof body.stop === 'string' ? [body.stop] : body.stop;
  if (Array.isArray(stop) && stop.length > 0) out.stop_sequences = stop;
  if (body.stream === true) out.stream = true;
  if (Array.isArray(body.tools) && body.tools.length > 0) {
    out.tools = (body.tools as Json[])
      .filter((t) => isObj(t.function))
      .map((t) => {
        const fn = t.function as Json;
        return {
          name: fn.name,
          ...(fn.description !== undefined ? { description: fn.description } : {}),
          input_schema: fn.parameters ?? { type: 'object', properties: {} },
        };
      });
  }
  const choice = toolChoice(body.tool_choice, body.parallel_tool_calls);
  if (choice) out.tool_choice = choice;
  if (typeof body.user === 'string') out.metadata = { user_id: body.user };
  return out;
}
