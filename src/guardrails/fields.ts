/**
 * Where the text of a request or an answer is, in every format the gateway speaks (OpenAI
 * chat, completions, embeddings, Anthropic Messages, Responses): strings under the keys that
 * hold prose or tool arguments, at any depth (messages, content parts, system prompts,
 * instructions, tool call arguments and results, a tool_use's input). Ids, roles, types,
 * model names, images and other binary payloads are not text. Pure.
 */

const TEXT_KEYS = new Set([
  'content',
  'text',
  'arguments',
  'prompt',
  'input',
  'system',
  'instructions',
  'output',
  'refusal',
  'partial_json',
  'thinking',
  'delta',
]);

/** Subtrees that are never text (images, audio, files, cache hints, signatures). */
const SKIP_KEYS = new Set([
  'image_url',
  'source',
  'cache_control',
  'signature',
  'data',
  'file_data',
  'image',
  'input_audio',
  'audio',
  'tools',
  'response_format',
  'metadata',
  'usage',
]);

/**
 * `value` with `rewrite` applied to each text string; unchanged subtrees are the same
 * objects (copy on write), so an untouched body is returned as is.
 */
export function mapText(value: unknown, rewrite: (text: string) => string): unknown {
  return walk(value, 'no', rewrite);
}

/** The text strings of `value`, in document order. */
export function textsOf(value: unknown): string[] {
  const out: string[] = [];
  mapText(value, (text) => {
    out.push(text);
    return text;
  });
  return out;
}

/** no: not text; yes: strings here are text, objects start over; all: everything below is
 * text (a tool_use's `input`, an object of arguments). */
type Mode = 'no' | 'yes' | 'all';

function walk(value: unknown, mode: Mode, rewrite: (text: string) => string): unknown {
  if (typeof value === 'string') return mode === 'no' ? value : rewrite(value);
  if (Array.isArray(value)) {
    let out: unknown[] | undefined;
    value.forEach((item, i) => {
      const next = walk(item, mode, rewrite);
      if (next === item) return;
      out ??= [...value];
      out[i] = next;
    });
    return out ?? value;
  }
  if (value === null || typeof value !== 'object') return value;
  let out: Record<string, unknown> | undefined;
  for (const [key, item] of Object.entries(value)) {
    if (SKIP_KEYS.has(key)) continue;
    const child: Mode =
      mode === 'all'
        ? 'all'
        : key === 'input' && item !== null && typeof item === 'object' && !Array.isArray(item)
          ? 'all'
          : TEXT_KEYS.has(key)
            ? 'yes'
            : 'no';
    const next = walk(item, child, rewrite);
    if (next === item) continue;
    out ??= { ...(value as Record<string, unknown>) };
    out[key] = next;
  }
  return out ?? value;
}
