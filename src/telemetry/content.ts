/**
 * Opt-in content on attempt spans (a tenant's `traceContent`; off by default): the request's
 * messages and the answer's text in the GenAI conventions' shapes, JSON strings of
 * `{ role, parts }` (`gen_ai.input.messages`, `gen_ai.system_instructions`,
 * `gen_ai.output.messages`). Every text is redacted of the gateway's secrets and the texts of
 * one attribute share MAX_CONTENT_BYTES, each cut with a marker, so the JSON stays whole. Pure.
 */
import type { Attributes } from '@opentelemetry/api';
import { keepText } from '../capture/payload.ts';
import { GEN_AI } from './semconv.ts';

/** Bytes of text one content attribute carries at most (its texts share it). */
export const MAX_CONTENT_BYTES = 8 * 1024;
/** A text's share never goes below this, however many parts an attribute has. */
const MIN_PART_BYTES = 256;

/** Redacts and cuts one text to `maxBytes`. */
export type ContentKeeper = (text: string, maxBytes: number) => string;

/** Whether `tenant`'s config opts in to content on its spans. */
export function tracesContent(
  tenants: Readonly<Record<string, { traceContent: boolean }>>,
  tenant: string | undefined,
): boolean {
  return tenant !== undefined && Object.hasOwn(tenants, tenant) && tenants[tenant]!.traceContent;
}

export function contentKeeper(secrets: readonly string[]): ContentKeeper {
  return (text, maxBytes) => keepText(text, maxBytes, secrets).text;
}

type Part =
  | { type: 'text'; content: string }
  | { type: 'tool_call'; id?: unknown; name?: unknown; arguments: string }
  | { type: 'tool_call_response'; id?: unknown; response: string };
interface Message {
  role: string;
  parts: Part[];
  finish_reason?: string;
}
type Json = Record<string, unknown>;

function textOf(content: unknown): string[] {
  if (typeof content === 'string') return [content];
  if (!Array.isArray(content)) return [];
  return (content as Json[]).flatMap((p) => (typeof p?.text === 'string' ? [p.text] : []));
}

function partsOf(message: Json): Part[] {
  if (message.role === 'tool') {
    const response = textOf(message.content).join('');
    return [{ type: 'tool_call_response', id: message.tool_call_id, response }];
  }
  const parts: Part[] = textOf(message.content).map((content) => ({ type: 'text', content }));
  for (const call of Array.isArray(message.tool_calls) ? (message.tool_calls as Json[]) : []) {
    const fn = (call.function ?? {}) as Json;
    const args = typeof fn.arguments === 'string' ? fn.arguments : JSON.stringify(fn.arguments);
    parts.push({ type: 'tool_call', id: call.id, name: fn.name, arguments: args ?? '' });
  }
  return parts;
}

/** `parts`' texts redacted, each cut to its share of MAX_CONTENT_BYTES (in place). */
function keepParts(parts: Part[], keep: ContentKeeper): Part[] {
  const share = Math.max(MIN_PART_BYTES, Math.floor(MAX_CONTENT_BYTES / Math.max(1, parts.length)));
  for (const part of parts) {
    if (part.type === 'text') part.content = keep(part.content, share);
    else if (part.type === 'tool_call') part.arguments = keep(part.arguments, share);
    else part.response = keep(part.response, share);
  }
  return parts;
}

/** `messages` as JSON, their texts kept (`keepParts`). */
function kept(messages: Message[], keep: ContentKeeper): string {
  keepParts(
    messages.flatMap((m) => m.parts),
    keep,
  );
  return JSON.stringify(messages);
}

/** The request's content (chat messages, a completion's prompt, embeddings' input). */
export function inputContentAttributes(body: Json, keep: ContentKeeper): Attributes {
  const out: Attributes = {};
  if (!Array.isArray(body.messages)) {
    const prompt = body.prompt ?? body.input;
    if (prompt === undefined || prompt === null) return out;
    const content = typeof prompt === 'string' ? prompt : JSON.stringify(prompt);
    out[GEN_AI.inputMessages] = kept([{ role: 'user', parts: [{ type: 'text', content }] }], keep);
    return out;
  }
  const system: Message[] = [];
  const rest: Message[] = [];
  for (const m of body.messages as Json[]) {
    const role = typeof m?.role === 'string' ? m.role : 'user';
    const message = { role, parts: partsOf(m ?? {}) };
    (role === 'system' || role === 'developer' ? system : rest).push(message);
  }
  if (system.length > 0) {
    const parts = system.flatMap((m) => m.parts);
    out[GEN_AI.systemInstructions] = JSON.stringify(keepParts(parts, keep));
  }
  out[GEN_AI.inputMessages] = kept(rest, keep);
  return out;
}

/** The answer's content: its generated text (content, tool-call arguments) as one message. */
export function outputContentAttributes(
  text: string,
  finishReasons: readonly string[] | undefined,
  keep: ContentKeeper,
): Attributes {
  const message: Message = { role: 'assistant', parts: [{ type: 'text', content: text }] };
  if (finishReasons?.[0]) message.finish_reason = finishReasons[0];
  return { [GEN_AI.outputMessages]: kept([message], keep) };
}
