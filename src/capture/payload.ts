/**
 * A captured request payload: the prompt and the answer's text, redacted of secrets and cut
 * to a byte budget, with the UTC day it expires on (the partition it is stored and dropped
 * in). Pure.
 */
import { redactSecrets } from '../observability/redact.ts';

export interface RequestPayload {
  /** YYYY-MM-DD: the request's UTC day + the tenant's retentionDays. The payload's partition
   * of `request_payloads` is dropped at the start of that day. */
  expires_on: string;
  prompt: string | null;
  answer: string | null;
  prompt_truncated: boolean;
  answer_truncated: boolean;
}

export interface CaptureSettings {
  retentionDays: number;
  maxBytes: number;
}

/** Beyond the budget, the text redaction also reads, so a secret that starts before the cut
 * is recognised whole (and not left half there). */
const REDACT_MARGIN = 8_192;

/** The prompt of an OpenAI-shaped request: `messages` (chat), `prompt` (completions) or
 * `input` (embeddings), as JSON unless it is a plain string. */
export function promptText(body: Record<string, unknown>): string | null {
  const prompt = body.messages ?? body.prompt ?? body.input;
  if (prompt === undefined || prompt === null) return null;
  return typeof prompt === 'string' ? prompt : JSON.stringify(prompt);
}

/** The generated text of an OpenAI-shaped answer (content, refusals, tool-call arguments,
 * completions' text), as a stream's relay gathers it; null when there is none (embeddings). */
export function answerText(body: unknown): string | null {
  const choices = (body as { choices?: unknown } | null)?.choices;
  if (!Array.isArray(choices)) return null;
  let text = '';
  for (const choice of choices as Record<string, unknown>[]) {
    if (typeof choice?.text === 'string') text += choice.text;
    const message = choice?.message as Record<string, unknown> | undefined;
    if (!message) continue;
    const content = message.content;
    if (typeof content === 'string') text += content;
    else if (Array.isArray(content)) {
      for (const part of content as { text?: unknown }[]) {
        if (typeof part?.text === 'string') text += part.text;
      }
    }
    if (typeof message.refusal === 'string') text += message.refusal;
    for (const call of (message.tool_calls as { function?: { arguments?: unknown } }[]) ?? []) {
      if (typeof call?.function?.arguments === 'string') text += call.function.arguments;
    }
  }
  return text;
}

/** Bytes of one UTF-16 code unit once written as JSON in UTF-8 (a surrogate pair: 2 + 2). */
function jsonCost(code: number): number {
  if (code === 0x22 || code === 0x5c) return 2; // \" \\
  if (code < 0x20) return code === 0x0a || code === 0x0d || code === 0x09 ? 2 : 6;
  if (code < 0x80) return 1;
  if (code < 0x800) return 2;
  if (code >= 0xd800 && code <= 0xdfff) return 2;
  return 3;
}

/** The UTF-8 bytes of `text` inside a JSON string (what it weighs in a queue message). */
export function jsonBytes(text: string): number {
  let bytes = 0;
  for (let i = 0; i < text.length; i++) bytes += jsonCost(text.charCodeAt(i));
  return bytes;
}

/** `text` redacted of secrets and cut to `maxBytes` (as JSON, UTF-8), marker included. */
export function keepText(
  text: string,
  maxBytes: number,
  secrets: readonly string[],
): { text: string; truncated: boolean } {
  const clean = redactSecrets(text.slice(0, maxBytes + REDACT_MARGIN), secrets);
  const marker = `…[truncated: ${text.length} chars in all]`;
  const whole = text.length <= maxBytes + REDACT_MARGIN;
  if (whole && jsonBytes(clean) <= maxBytes) return { text: clean, truncated: false };
  const budget = maxBytes - jsonBytes(marker);
  let bytes = 0;
  let end = 0;
  while (end < clean.length) {
    const cost = jsonCost(clean.charCodeAt(end));
    if (bytes + cost > budget) break;
    bytes += cost;
    end++;
  }
  // Never end on the first half of a surrogate pair.
  const last = clean.charCodeAt(end - 1);
  if (end > 0 && last >= 0xd800 && last <= 0xdbff) end--;
  return { text: clean.slice(0, end) + marker, truncated: true };
}

/** The UTC day `days` after the day of `at`. */
export function expiresOn(at: number, days: number): string {
  const d = new Date(at);
  d.setUTCHours(0, 0, 0, 0);
  d.setUTCDate(d.getUTCDate() + days);
  return d.toISOString().slice(0, 10);
}

export function buildPayload(
  parts: { prompt: string | null; answer: string | null },
  at: number,
  settings: CaptureSettings,
  secrets: readonly string[],
): RequestPayload {
  const prompt = parts.prompt === null ? null : keepText(parts.prompt, settings.maxBytes, secrets);
  const answer = parts.answer === null ? null : keepText(parts.answer, settings.maxBytes, secrets);
  return {
    expires_on: expiresOn(at, settings.retentionDays),
    prompt: prompt?.text ?? null,
    answer: answer?.text ?? null,
    prompt_truncated: prompt?.truncated ?? false,
    answer_truncated: answer?.truncated ?? false,
  };
}
