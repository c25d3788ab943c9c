/**
 * OpenAI chat request -> Bedrock Converse request (pure). The model id goes in the URL
 * (`/model/{modelId}/converse`), not the body. References (AWS Bedrock API reference):
 * https://docs.aws.amazon.com/bedrock/latest/APIReference/API_runtime_Converse.html (request
 * body: messages, system, inferenceConfig, toolConfig),
 * .../API_runtime_Message.html, .../API_runtime_ContentBlock.html (text, image, toolUse,
 * toolResult), .../API_runtime_ImageBlock.html (format png|jpeg|gif|webp, source.bytes: base64
 * in JSON), .../API_runtime_Tool.html + .../API_runtime_ToolSpecification.html (toolSpec with
 * inputSchema.json), .../API_runtime_ToolChoice.html (auto | any | tool{name}),
 * .../API_runtime_InferenceConfiguration.html (maxTokens, temperature, topP, stopSequences).
 */
import { errors } from '../../errors.ts';
import { contentText, parseArguments } from '../anthropic/request.ts';
import { isObj, type Json } from '../json.ts';

const IMAGE_FORMATS: Record<string, string> = {
  'image/png': 'png',
  'image/jpeg': 'jpeg',
  'image/jpg': 'jpeg',
  'image/gif': 'gif',
  'image/webp': 'webp',
};

/** A base64 data URL -> an ImageBlock. Converse takes bytes or S3 locations, not web URLs. */
function imageBlock(url: string): Json {
  const match = /^data:([^;,]+);base64,(.*)$/s.exec(url);
  const format = match ? IMAGE_FORMATS[match[1]!.toLowerCase()] : undefined;
  if (!match || !format) {
    throw errors.invalidField(
      'messages',
      'Bedrock accepts images only as base64 data URLs (png, jpeg, gif or webp).',
    );
  }
  return { image: { format, source: { bytes: match[2] } } };
}

function userBlocks(content: unknown): Json[] {
  if (typeof content === 'string') return content === '' ? [] : [{ text: content }];
  if (!Array.isArray(content)) return [];
  const blocks: Json[] = [];
  for (const part of content) {
    if (!isObj(part)) continue;
    if (part.type === 'text' && part.text) blocks.push({ text: String(part.text) });
    if (part.type === 'image_url') {
      const image = part.image_url;
      const url = typeof image === 'string' ? image : isObj(image) ? String(image.url ?? '') : '';
      blocks.push(imageBlock(url));
    }
  }
  return blocks;
}

function assistantBlocks(message: Json): Json[] {
  const blocks: Json[] = [];
  const text = contentText(message.content);
  if (text !== '') blocks.push({ text }); // Converse rejects blank text blocks
  for (const call of Array.isArray(message.tool_calls) ? (message.tool_calls as Json[]) : []) {
    const fn = isObj(call.function) ? call.function : {};
    blocks.push({
      toolUse: {
        toolUseId: String(call.id ?? ''),
        name: String(fn.name ?? ''),
        input: parseArguments(fn.arguments),
      },
    });
  }
  return blocks;
}

/** OpenAI messages -> Converse `system` blocks and alternating `messages` (same roles merged). */
export function toConverseMessages(messages: unknown[]): { system: Json[]; messages: Json[] } {
  const system: Json[] = [];
  const out: { role: string; content: Json[] }[] = [];
  const push = (role: string, blocks: Json[]) => {
    if (blocks.length === 0) return;
    const last = out.at(-1);
    if (last && last.role === role) last.content.push(...blocks);
    else out.push({ role, content: blocks });
  };
  for (const m of messages) {
    if (!isObj(m)) continue;
    if (m.role === 'system' || m.role === 'developer') {
      const text = contentText(m.content);
      if (text !== '') system.push({ text });
    } else if (m.role === 'assistant') push('assistant', assistantBlocks(m));
    else if (m.role === 'tool') {
      const text = contentText(m.content);
      push('user', [
        {
          toolResult: {
            toolUseId: String(m.tool_call_id ?? ''),
            content: [{ text: text === '' ? ' ' : text }],
          },
        },
      ]);
    } else push('user', userBlocks(m.content));
  }
  return { system, messages: out };
}

const hasToolBlocks = (messages: Json[]) =>
  messages.some(
    (m) =>
      Array.isArray(m.content) &&
      (m.content as Json[]).some((b) => isObj(b.toolUse) || isObj(b.toolResult)),
  );

/** The Converse body for an OpenAI chat body (`body.model` is the URL's model id). */
export function toConverseRequest(body: Json): Json {
  const { system, messages } = toConverseMessages(
    Array.isArray(body.messages) ? body.messages : [],
  );
  const out: Json = { messages };
  if (system.length > 0) out.system = system;

  const inference: Json = {};
  const max = body.max_completion_tokens ?? body.max_tokens;
  if (typeof max === 'number') inference.maxTokens = max;
  if (typeof body.temperature === 'number') inference.temperature = body.temperature;
  if (typeof body.top_p === 'number') inference.topP = body.top_p;
  const stop = typeof body.stop === 'string' ? [body.stop] : body.stop;
  if (Array.isArray(stop) && stop.length > 0) inference.stopSequences = stop;
  if (Object.keys(inference).length > 0) out.inferenceConfig = inference;

  const tools = Array.isArray(body.tools)
    ? (body.tools as Json[])
        .filter((t) => isObj(t.function))
        .map((t) => {
          const fn = t.function as Json;
          return {
            toolSpec: {
              name: fn.name,
              ...(fn.description !== undefined ? { description: fn.description } : {}),
              inputSchema: { json: fn.parameters ?? { type: 'object', properties: {} } },
            },
          };
        })
    : [];
  const choice = body.tool_choice;
  // Converse has no "none": leave the tools out, unless the history holds tool blocks (then
  // Converse requires toolConfig, and the model may still call a tool).
  const dropTools = choice === 'none' && !hasToolBlocks(messages);
  if (tools.length > 0 && !dropTools) {
    const toolConfig: Json = { tools };
    if (choice === 'auto') toolConfig.toolChoice = { auto: {} };
    else if (choice === 'required') toolConfig.toolChoice = { any: {} };
    else if (isObj(choice) && isObj(choice.function)) {
      toolConfig.toolChoice = { tool: { name: String(choice.function.name ?? '') } };
    }
    out.toolConfig = toolConfig;
  }
  return out;
}
