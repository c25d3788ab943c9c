/**
 * OpenAI chat <-> Gemini generateContent (pure). References:
 * https://ai.google.dev/api/generate-content (request: contents/parts, systemInstruction,
 * generationConfig, tools.functionDeclarations, toolConfig; response: candidates,
 * finishReason, promptFeedback.blockReason, usageMetadata) and
 * https://ai.google.dev/gemini-api/docs/troubleshooting (error statuses).
 */
import { contentText, parseArguments } from '../anthropic/request.ts';
import { isObj, type Json, num, parseJson } from '../json.ts';
import type { ProviderError } from '../types.ts';

function userParts(content: unknown): Json[] {
  if (typeof content === 'string') return [{ text: content }];
  if (!Array.isArray(content)) return [];
  const parts: Json[] = [];
  for (const p of content) {
    if (!isObj(p)) continue;
    if (p.type === 'text') parts.push({ text: String(p.text ?? '') });
    if (p.type === 'image_url') {
      const url = isObj(p.image_url) ? String(p.image_url.url ?? '') : String(p.image_url ?? '');
      const m = /^data:([^;,]+);base64,(.*)$/s.exec(url);
      const ext = /\.(png|gif|webp)(\?|$)/i.exec(url)?.[1]?.toLowerCase();
      parts.push(
        m
          ? { inlineData: { mimeType: m[1], data: m[2] } }
          : { fileData: { mimeType: ext ? `image/${ext}` : 'image/jpeg', fileUri: url } },
      );
    }
  }
  return parts;
}

export function toGeminiRequest(body: Json): Json {
  const system: string[] = [];
  const contents: { role: string; parts: Json[] }[] = [];
  const names = new Map<string, string>(); // tool_call_id -> function name
  const push = (role: string, parts: Json[]) => {
    const last = contents.at(-1);
    if (last && last.role === role) last.parts.push(...parts);
    else contents.push({ role, parts });
  };
  for (const m of Array.isArray(body.messages) ? (body.messages as Json[]) : []) {
    if (m.role === 'system' || m.role === 'developer') system.push(contentText(m.content));
    else if (m.role === 'assistant') {
      const parts: Json[] = [];
      const text = contentText(m.content);
      if (text !== '') parts.push({ text });
      for (const call of Array.isArray(m.tool_calls) ? (m.tool_calls as Json[]) : []) {
        const fn = isObj(call.function) ? call.function : {};
        names.set(String(call.id), String(fn.name));
        parts.push({ functionCall: { name: fn.name, args: parseArguments(fn.arguments) } });
      }
      push('model', parts);
    } else if (m.role === 'tool') {
      const name = names.get(String(m.tool_call_id)) ?? String(m.tool_call_id);
      const output = contentText(m.content);
      const parsed = parseArguments(output);
      const response = isObj(parsed) && output.trim().startsWith('{') ? parsed : { output };
      push('user', [{ functionResponse: { name, response } }]);
    } else push('user', userParts(m.content));
  }
  const config: Json = {};
  const max = body.max_completion_tokens ?? body.max_tokens;
  if (typeof max === 'number') config.maxOutputTokens = max;
  if (typeof body.temperature === 'number') config.temperature = body.temperature;
  if (typeof body.top_p === 'number') config.topP = body.top_p;
  if (typeof body.top_k === 'number') config.topK = body.top_k;
  if (typeof body.n === 'number') config.candidateCount = body.n;
  const stop = typeof body.stop === 'string' ? [body.stop] : body.stop;
  if (Array.isArray(stop) && stop.length > 0) config.stopSequences = stop;
  const out: Json = { contents };
  if (system.length > 0) out.systemInstruction = { parts: [{ text: system.join('\n\n') }] };
  if (Object.keys(config).length > 0) out.generationConfig = config;
  if (Array.isArray(body.tools) && body.tools.length > 0) {
    const functionDeclarations = (body.tools as Json[])
      .filter((t) => isObj(t.function))
      .map((t) => {
        const fn = t.function as Json;
        return { name: fn.name, description: fn.description, parameters: fn.parameters };
      });
    out.tools = [{ functionDeclarations }];
  }
  const choice = body.tool_choice;
  if (choice === 'auto') out.toolConfig = { functionCallingConfig: { mode: 'AUTO' } };
  if (choice === 'required') out.toolConfig = { functionCallingConfig: { mode: 'ANY' } };
  if (choice === 'none') out.toolConfig = { functionCallingConfig: { mode: 'NONE' } };
  if (isObj(choice) && isObj(choice.function)) {
    out.toolConfig = {
      functionCallingConfig: { mode: 'ANY', allowedFunctionNames: [choice.function.name] },
    };
  }
  return out;
}

const FILTERED = [
  'SAFETY',
  'RECITATION',
  'BLOCKLIST',
  'PROHIBITED_CONTENT',
  'SPII',
  'IMAGE_SAFETY',
];

export function finishReason(reason: unknown, sawCall: boolean): string | null {
  if (typeof reason !== 'string' || reason === 'FINISH_REASON_UNSPECIFIED') return null;
  if (reason === 'MAX_TOKENS') return 'length';
  if (FILTERED.includes(reason)) return 'content_filter';
  return sawCall ? 'tool_calls' : 'stop';
}

/** usageMetadata -> OpenAI usage; thinking tokens are billed as output, as Google bills them. */
export function openAIUsage(meta: unknown): Json | undefined {
  if (!isObj(meta)) return undefined;
  const prompt = num(meta.promptTokenCount);
  const completion = num(meta.candidatesTokenCount) + num(meta.thoughtsTokenCount);
  return {
    prompt_tokens: prompt,
    completion_tokens: completion,
    total_tokens:
      typeof meta.totalTokenCount === 'number' ? meta.totalTokenCount : prompt + completion,
    prompt_tokens_details: { cached_tokens: num(meta.cachedContentTokenCount) },
    ...(meta.thoughtsTokenCount
      ? { completion_tokens_details: { reasoning_tokens: num(meta.thoughtsTokenCount) } }
      : {}),
  };
}

/** The parts of a candidate as an OpenAI message (text and tool calls). */
export function candidateMessage(candidate: Json, callIds: () => string) {
  const parts =
    isObj(candidate.content) && Array.isArray(candidate.content.parts)
      ? (candidate.content.parts as Json[])
      : [];
  const text = parts
    .filter((p) => typeof p.text === 'string' && p.thought !== true)
    .map((p) => p.text as string)
    .join('');
  const calls = parts
    .filter((p) => isObj(p.functionCall))
    .map((p) => {
      const fc = p.functionCall as Json;
      return {
        id: typeof fc.id === 'string' ? fc.id : callIds(),
        type: 'function',
        function: { name: fc.name, arguments: JSON.stringify(fc.args ?? {}) },
      };
    });
  return { text, calls };
}

export function toOpenAIResponse(body: unknown, model: string): unknown {
  if (!isObj(body)) return body;
  let n = 0;
  const candidates = Array.isArray(body.candidates) ? (body.candidates as Json[]) : [];
  const blocked = isObj(body.promptFeedback) && body.promptFeedback.blockReason;
  const choices = candidates.map((c, i) => {
    const { text, calls } = candidateMessage(c, () => `call_${n++}`);
    return {
      index: typeof c.index === 'number' ? c.index : i,
      message: {
        role: 'assistant',
        content: text === '' && calls.length > 0 ? null : text,
        refusal: null,
        ...(calls.length > 0 ? { tool_calls: calls } : {}),
      },
      logprobs: null,
      finish_reason: finishReason(c.finishReason, calls.length > 0) ?? 'stop',
    };
  });
  if (choices.length === 0 && blocked) {
    const message = {
      role: 'assistant',
      content: null,
      refusal: `Blocked by Gemini safety filters (${blocked}).`,
    };
    choices.push({ index: 0, message, logprobs: null, finish_reason: 'content_filter' } as never);
  }
  return {
    id: typeof body.responseId === 'string' ? body.responseId : `gemini-${Date.now()}`,
    object: 'chat.completion',
    created: Math.floor(Date.now() / 1000),
    model: typeof body.modelVersion === 'string' ? body.modelVersion : model,
    choices,
    usage: openAIUsage(body.usageMetadata),
  };
}

/** google.rpc status -> [OpenAI type, code, status to report, action override]. */
const STATUSES: Record<string, [string, string | null, number?, ProviderError['action']?]> = {
  INVALID_ARGUMENT: ['invalid_request_error', null],
  FAILED_PRECONDITION: ['invalid_request_error', null],
  PERMISSION_DENIED: ['permission_error', null],
  UNAUTHENTICATED: ['authentication_error', 'invalid_api_key'],
  NOT_FOUND: ['invalid_request_error', 'model_not_found'],
  RESOURCE_EXHAUSTED: ['rate_limit_error', 'rate_limit_exceeded'],
  INTERNAL: ['server_error', null],
  UNAVAILABLE: ['server_error', 'service_unavailable'],
  DEADLINE_EXCEEDED: ['timeout_error', 'upstream_timeout'],
};

export function mapGeminiError(status: number, text: string): ProviderError | undefined {
  const parsed = parseJson(text);
  const root = Array.isArray(parsed) ? parsed[0] : parsed;
  const e = isObj(root) && isObj(root.error) ? root.error : undefined;
  if (!e || typeof e.message !== 'string') return undefined;
  const details = Array.isArray(e.details) ? (e.details as Json[]) : [];
  if (details.some((d) => d.reason === 'API_KEY_INVALID')) {
    return {
      status: 401,
      action: 'fallback',
      error: {
        message: e.message,
        type: 'authentication_error',
        param: null,
        code: 'invalid_api_key',
      },
    };
  }
  const [type, code] = STATUSES[String(e.status)] ?? [
    status >= 500 ? 'server_error' : 'invalid_request_error',
    null,
  ];
  const tooLong = status === 400 && /exceeds the maximum number of tokens/i.test(e.message);
  return {
    error: {
      message: e.message,
      type,
      param: null,
      code: tooLong ? 'context_length_exceeded' : code,
    },
  };
}
