/**
 * A fake Google Gemini API upstream. TEST FIXTURE (not a model). Wire shapes follow the public
 * reference https://ai.google.dev/api/generate-content:
 * - `POST /v1beta/models/{model}:generateContent` and `:streamGenerateContent?alt=sse` with the
 *   `x-goog-api-key` header; request `contents[].parts[]` (text, inlineData, fileData,
 *   functionCall, functionResponse), `systemInstruction`, `generationConfig`, `tools`;
 * - response GenerateContentResponse: `candidates[].content.parts`, `finishReason` (STOP,
 *   MAX_TOKENS, SAFETY...), `promptFeedback.blockReason`, `usageMetadata` (promptTokenCount,
 *   candidatesTokenCount, totalTokenCount, cachedContentTokenCount, thoughtsTokenCount),
 *   `modelVersion`, `responseId`;
 * - streaming: SSE `data: {GenerateContentResponse}` per chunk, `\r\n\r\n` separated, no [DONE];
 * - errors (https://ai.google.dev/gemini-api/docs/troubleshooting): `{"error":{"code","message",
 *   "status"}}`, e.g. 400 INVALID_ARGUMENT (API_KEY_INVALID in details), 403 PERMISSION_DENIED,
 *   404 NOT_FOUND, 429 RESOURCE_EXHAUSTED, 500 INTERNAL, 503 UNAVAILABLE, 504 DEADLINE_EXCEEDED.
 * Token counts are deterministic (ceil(chars / 4)).
 *
 * Scenarios: see ./scenario-server.ts. CLI: `node tools/fakes/gemini.ts --port 8791`.
 */
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import {
  type BaseStep,
  type FakeServer,
  hex,
  isObj,
  type Reply,
  startScenarioServer,
  textTokens,
} from './scenario-server.ts';

export type { FakeServer, RecordedRequest } from './scenario-server.ts';

export interface GeminiStep extends BaseStep {
  content?: string;
  toolCall?: { name: string; args: Record<string, unknown> };
  finishReason?: string; // default STOP
  blockReason?: string; // promptFeedback.blockReason, no candidates
  cachedTokens?: number; // usageMetadata.cachedContentTokenCount (part of promptTokenCount)
  thoughtsTokens?: number;
  errorStatus?: string; // google.rpc status for `status` (default by code)
  errorReason?: string; // ErrorInfo reason in details (e.g. API_KEY_INVALID)
}

export const DEFAULT_REPLY = 'Hello! This is the fake Gemini upstream.';

const STATUS: Record<number, [string, string]> = {
  400: ['INVALID_ARGUMENT', 'Request contains an invalid argument.'],
  403: ['PERMISSION_DENIED', 'The caller does not have permission.'],
  404: ['NOT_FOUND', 'models/x is not found for API version v1beta.'],
  429: ['RESOURCE_EXHAUSTED', 'Resource has been exhausted (e.g. check quota).'],
  500: ['INTERNAL', 'An internal error has occurred.'],
  503: ['UNAVAILABLE', 'The model is overloaded. Please try again later.'],
  504: ['DEADLINE_EXCEEDED', 'Deadline exceeded.'],
};

function error(code: number, status: string, message: string, reason?: string): Reply {
  const details = reason
    ? [{ '@type': 'type.googleapis.com/google.rpc.ErrorInfo', reason, domain: 'googleapis.com' }]
    : undefined;
  return {
    status: code,
    body: { error: { code, message, status, ...(details ? { details } : {}) } },
  };
}

function scriptedError(step: GeminiStep): Reply {
  const code = step.status ?? 500;
  if (step.errorBody !== undefined) return { status: code, body: step.errorBody };
  const [status, message] = STATUS[code] ?? ['UNKNOWN', `Scripted ${code}.`];
  return error(code, step.errorStatus ?? status, message, step.errorReason);
}

const partsText = (parts: unknown): string =>
  Array.isArray(parts)
    ? parts.map((p) => (isObj(p) && typeof p.text === 'string' ? p.text : '')).join('')
    : '';

function generate(
  step: GeminiStep,
  model: string,
  stream: boolean,
  body: unknown,
  key: unknown,
): Reply {
  if (!key) {
    return error(
      403,
      'PERMISSION_DENIED',
      "Method doesn't allow unregistered callers. Please use API Key.",
    );
  }
  if (!isObj(body) || !Array.isArray(body.contents) || body.contents.length === 0) {
    return error(
      400,
      'INVALID_ARGUMENT',
      '* GenerateContentRequest.contents: contents is not specified',
    );
  }
  const promptText =
    partsText(isObj(body.systemInstruction) ? body.systemInstruction.parts : undefined) +
    body.contents.map((c) => (isObj(c) ? partsText(c.parts) : '')).join('');
  const cached = step.cachedTokens ?? 0;
  const prompt = textTokens(promptText) + cached;
  const base = { modelVersion: model, responseId: hex(8) };
  const usage = (candidates: number) => ({
    promptTokenCount: prompt,
    candidatesTokenCount: candidates,
    totalTokenCount: prompt + candidates + (step.thoughtsTokens ?? 0),
    ...(cached ? { cachedContentTokenCount: cached } : {}),
    ...(step.thoughtsTokens ? { thoughtsTokenCount: step.thoughtsTokens } : {}),
  });
  if (step.blockReason) {
    const blocked = {
      promptFeedback: { blockReason: step.blockReason },
      usageMetadata: usage(0),
      ...base,
    };
    return stream ? sse([blocked]) : { status: 200, body: blocked };
  }
  const finishReason = step.finishReason ?? 'STOP';
  const candidate = (parts: unknown[], finish?: string) => ({
    content: { role: 'model', parts },
    ...(finish ? { finishReason: finish } : {}),
    index: 0,
  });
  if (step.toolCall) {
    const parts = [{ functionCall: { name: step.toolCall.name, args: step.toolCall.args } }];
    const out = textTokens(JSON.stringify(step.toolCall.args)) + 3;
    const whole = {
      candidates: [candidate(parts, finishReason)],
      usageMetadata: usage(out),
      ...base,
    };
    return stream ? sse([whole]) : { status: 200, body: whole };
  }
  const text = step.content ?? DEFAULT_REPLY;
  const total = textTokens(text);
  if (!stream) {
    return {
      status: 200,
      body: {
        candidates: [candidate([{ text }], finishReason)],
        usageMetadata: usage(total),
        ...base,
      },
    };
  }
  const pieces = text.match(/\S+\s*|\s+/g) ?? [''];
  let sent = '';
  return sse(
    pieces.map((piece, i) => {
      sent += piece;
      const last = i === pieces.length - 1;
      return {
        candidates: [candidate([{ text: piece }], last ? finishReason : undefined)],
        usageMetadata: usage(textTokens(sent)),
        ...base,
      };
    }),
  );
}

const sse = (events: unknown[]): Reply => ({
  frames: events.map((e) => `data: ${JSON.stringify(e)}\r\n\r\n`),
  contentType: 'text/event-stream',
});

export function startFakeGemini(opts: { port?: number; host?: string } = {}): Promise<FakeServer> {
  return startScenarioServer<GeminiStep>({
    ...opts,
    scriptedError,
    route: ({ step, method, path, query, headers, body }) => {
      const key = headers['x-goog-api-key'] ?? query.get('key');
      if (method === 'GET' && path === '/v1beta/models') {
        return { status: 200, body: { models: [{ name: 'models/gemini-2.5-flash' }] } };
      }
      const m = /^\/v1beta\/models\/([^/:]+):(generateContent|streamGenerateContent)$/.exec(path);
      if (method !== 'POST' || !m) return error(404, 'NOT_FOUND', `Not found: ${method} ${path}`);
      const stream = m[2] === 'streamGenerateContent';
      if (stream && query.get('alt') !== 'sse') {
        return error(400, 'INVALID_ARGUMENT', 'this fake only streams with alt=sse');
      }
      return generate(step, decodeURIComponent(m[1]!), stream, body, key);
    },
  });
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const { values } = parseArgs({
    options: { port: { type: 'string', default: '8791' }, host: { type: 'string' } },
  });
  const fake = await startFakeGemini({ port: Number(values.port), host: values.host });
  console.log(`fake-gemini listening on ${fake.url}`);
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => void fake.close().then(() => process.exit(0)));
  }
}
