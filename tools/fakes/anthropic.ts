/**
 * A fake Anthropic Messages API upstream. TEST FIXTURE (not a model; nothing here is part of the
 * gateway). Wire shapes follow Anthropic's public API reference:
 * - POST /v1/messages/count_tokens: https://docs.anthropic.com/en/api/messages-count-tokens
 *   (`{input_tokens}`; the same request without `max_tokens`);
 * - POST /v1/messages: https://docs.anthropic.com/en/api/messages (request: `model`,
 *   `max_tokens` required, `messages`, `system`, `tools`; response: the Message object with
 *   `content` blocks `text` / `tool_use`, `stop_reason`, `stop_sequence`, `usage` with
 *   `input_tokens`, `output_tokens`, `cache_creation_input_tokens`, `cache_read_input_tokens`);
 * - streaming: https://docs.anthropic.com/en/docs/build-with-claude/streaming (`event:` names
 *   message_start, content_block_start, ping, content_block_delta with text_delta /
 *   input_json_delta, content_block_stop, message_delta with cumulative usage, message_stop,
 *   and `event: error` mid-stream, e.g. overloaded_error);
 * - errors: https://docs.anthropic.com/en/api/errors (`{"type":"error","error":{"type",
 *   "message"},"request_id"}`; 400, 401, 403, 404, 413, 429, 500, 529 overloaded_error);
 * - headers: `x-api-key` (or `Authorization: Bearer`), `anthropic-version` (https://docs.anthropic.com/en/api/versioning),
 *   `request-id` on responses, `retry-after` on 429.
 * Token counts are deterministic (ceil(chars / 4)), not real.
 *
 * Scenarios: see ./scenario-server.ts. CLI: `node tools/fakes/anthropic.ts --port 8790`.
 */
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import {
  type BaseStep,
  type FakeServer,
  hex,
  INVALID_JSON,
  isObj,
  type Reply,
  startScenarioServer,
  textTokens,
} from './scenario-server.ts';

export type { FakeServer, RecordedRequest } from './scenario-server.ts';

export interface AnthropicStep extends BaseStep {
  content?: string; // reply text (default DEFAULT_REPLY)
  toolCall?: { name: string; input: Record<string, unknown> }; // reply with a tool_use block
  stopReason?: 'end_turn' | 'max_tokens' | 'stop_sequence' | 'tool_use' | 'refusal';
  stopSequence?: string;
  cacheReadTokens?: number; // usage.cache_read_input_tokens
  cacheWriteTokens?: number; // usage.cache_creation_input_tokens
  cacheWrite1hTokens?: number; // of those, written with a 1-hour TTL (usage.cache_creation)
  thinking?: string; // the thinking text when the request enables extended thinking
  streamErrorAfter?: number; // stream: after this many events send `event: error` and end
  streamErrorType?: string; // default overloaded_error
}

export const DEFAULT_REPLY = 'Hello! This is the fake Anthropic upstream.';

const ERRORS: Record<number, [string, string]> = {
  400: ['invalid_request_error', 'Invalid request (scripted by the fake upstream).'],
  401: ['authentication_error', 'invalid x-api-key'],
  403: ['permission_error', 'Your API key does not have permission to use the specified resource.'],
  404: ['not_found_error', 'The requested resource could not be found.'],
  413: ['request_too_large', 'Request exceeds the maximum allowed number of bytes.'],
  429: ['rate_limit_error', 'Number of request tokens has exceeded your per-minute rate limit.'],
  500: ['api_error', 'An unexpected error has occurred internal to our systems.'],
  529: ['overloaded_error', 'Overloaded'],
};

const error = (status: number, type: string, message: string): Reply => ({
  status,
  body: { type: 'error', error: { type, message }, request_id: `req_${hex(12)}` },
  headers: { 'request-id': `req_${hex(12)}` },
});

function scriptedError(step: AnthropicStep): Reply {
  const status = step.status ?? 500;
  if (step.errorBody !== undefined) return { status, body: step.errorBody };
  const [type, message] = ERRORS[status] ?? ['api_error', `Scripted ${status}.`];
  return error(status, type, message);
}

const blockText = (c: unknown): string =>
  typeof c === 'string'
    ? c
    : Array.isArray(c)
      ? c
          .map((b) => (isObj(b) ? String(b.text ?? (b.content ? blockText(b.content) : '')) : ''))
          .join('')
      : '';

function inputTokens(body: Record<string, unknown>): number {
  const messages = body.messages as unknown[];
  const text =
    blockText(body.system) + messages.map((m) => (isObj(m) ? blockText(m.content) : '')).join('');
  return textTokens(text) + 3 * messages.length;
}

function sse(type: string, data: Record<string, unknown>): string {
  return `event: ${type}\ndata: ${JSON.stringify({ type, ...data })}\n\n`;
}

/** The tool input JSON in a few pieces, as the API streams it. */
function jsonPieces(input: unknown): string[] {
  const json = JSON.stringify(input);
  const size = Math.max(1, Math.ceil(json.length / 3));
  const out = [''];
  for (let i = 0; i < json.length; i += size) out.push(json.slice(i, i + size));
  return out;
}

/** What every request must carry: a key, a version, a JSON body with model and messages. */
function refused(body: unknown, headers: Record<string, unknown>): Reply | undefined {
  // `x-api-key`, or `Authorization: Bearer` (what @anthropic-ai/sdk >= 1 sends for apiKey)
  if (!headers['x-api-key'] && !String(headers.authorization ?? '').startsWith('Bearer '))
    return error(401, 'authentication_error', 'x-api-key header is required');
  if (!headers['anthropic-version']) {
    return error(400, 'invalid_request_error', 'anthropic-version: header is required');
  }
  if (body === INVALID_JSON || !isObj(body)) {
    return error(
      400,
      'invalid_request_error',
      'There was an error parsing the body of your request.',
    );
  }
  if (typeof body.model !== 'string')
    return error(400, 'invalid_request_error', 'model: Field required');
  if (!Array.isArray(body.messages) || body.messages.length === 0) {
    return error(400, 'invalid_request_error', 'messages: Field required');
  }
  return undefined;
}

/** POST /v1/messages/count_tokens (https://docs.anthropic.com/en/api/messages-count-tokens). */
function countTokens(body: unknown, headers: Record<string, unknown>): Reply {
  const problem = refused(body, headers);
  if (problem) return problem;
  if ((body as Record<string, unknown>).max_tokens !== undefined) {
    return error(400, 'invalid_request_error', 'max_tokens: Extra inputs are not permitted');
  }
  return { status: 200, body: { input_tokens: inputTokens(body as Record<string, unknown>) } };
}

function messages(step: AnthropicStep, body: unknown, headers: Record<string, unknown>): Reply {
  const problem = refused(body, headers);
  if (problem) return problem;
  if (!isObj(body) || typeof body.max_tokens !== 'number') {
    return error(400, 'invalid_request_error', 'max_tokens: Field required');
  }
  const id = `msg_${hex(12)}`;
  const model = body.model;
  const text = step.toolCall ? '' : (step.content ?? DEFAULT_REPLY);
  const stopReason = step.stopReason ?? (step.toolCall ? 'tool_use' : 'end_turn');
  const stopSequence = stopReason === 'stop_sequence' ? (step.stopSequence ?? '###') : null;
  const usage = {
    input_tokens: inputTokens(body),
    cache_creation_input_tokens: step.cacheWriteTokens ?? 0,
    cache_read_input_tokens: step.cacheReadTokens ?? 0,
    // https://docs.anthropic.com/en/docs/build-with-claude/prompt-caching (1-hour cache duration)
    cache_creation: {
      ephemeral_5m_input_tokens: (step.cacheWriteTokens ?? 0) - (step.cacheWrite1hTokens ?? 0),
      ephemeral_1h_input_tokens: step.cacheWrite1hTokens ?? 0,
    },
  };
  const toolUse = step.toolCall
    ? {
        type: 'tool_use',
        id: `toolu_${hex(12)}`,
        name: step.toolCall.name,
        input: step.toolCall.input,
      }
    : undefined;
  // Extended thinking (https://docs.anthropic.com/en/docs/build-with-claude/extended-thinking):
  // only when the request enables it, a `thinking` block with its `signature` comes first.
  const thinking =
    isObj(body.thinking) && body.thinking.type === 'enabled'
      ? {
          type: 'thinking',
          thinking: step.thinking ?? 'The user greets me; I greet back.',
          signature: `sig_${hex(24)}`,
        }
      : undefined;
  const output =
    textTokens(text) +
    (toolUse ? textTokens(JSON.stringify(toolUse.input)) + 5 : 0) +
    (thinking ? textTokens(thinking.thinking) : 0);
  const base = { id, type: 'message', role: 'assistant', model };

  if (body.stream !== true) {
    const content = [...(thinking ? [thinking] : []), toolUse ?? { type: 'text', text }];
    return {
      status: 200,
      body: {
        ...base,
        content,
        stop_reason: stopReason,
        stop_sequence: stopSequence,
        usage: { ...usage, output_tokens: output },
      },
      headers: { 'request-id': `req_${hex(12)}` },
    };
  }
  const frames: string[] = [
    sse('message_start', {
      message: {
        ...base,
        content: [],
        stop_reason: null,
        stop_sequence: null,
        usage: { ...usage, output_tokens: 1 },
      },
    }),
  ];
  let index = 0;
  if (thinking) {
    const block = { type: 'thinking', thinking: '', signature: '' };
    frames.push(sse('content_block_start', { index, content_block: block }));
    frames.push(
      sse('content_block_delta', {
        index,
        delta: { type: 'thinking_delta', thinking: thinking.thinking },
      }),
    );
    frames.push(
      sse('content_block_delta', {
        index,
        delta: { type: 'signature_delta', signature: thinking.signature },
      }),
    );
    frames.push(sse('content_block_stop', { index }));
    index++;
  }
  if (toolUse) {
    frames.push(sse('content_block_start', { index, content_block: { ...toolUse, input: {} } }));
    frames.push(sse('ping', {}));
    for (const partial_json of jsonPieces(toolUse.input)) {
      frames.push(
        sse('content_block_delta', { index, delta: { type: 'input_json_delta', partial_json } }),
      );
    }
  } else {
    frames.push(sse('content_block_start', { index, content_block: { type: 'text', text: '' } }));
    frames.push(sse('ping', {}));
    for (const piece of text.match(/\S+\s*|\s+/g) ?? []) {
      frames.push(
        sse('content_block_delta', { index, delta: { type: 'text_delta', text: piece } }),
      );
    }
  }
  frames.push(sse('content_block_stop', { index }));
  frames.push(
    sse('message_delta', {
      delta: { stop_reason: stopReason, stop_sequence: stopSequence },
      usage: { output_tokens: output },
    }),
  );
  frames.push(sse('message_stop', {}));
  if (step.streamErrorAfter !== undefined) {
    const type = step.streamErrorType ?? 'overloaded_error';
    frames.splice(step.streamErrorAfter);
    frames.push(
      sse('error', {
        error: { type, message: type === 'overloaded_error' ? 'Overloaded' : 'Scripted.' },
      }),
    );
  }
  return {
    frames,
    contentType: 'text/event-stream; charset=utf-8',
    headers: { 'request-id': `req_${hex(12)}`, 'cache-control': 'no-cache' },
  };
}

export function startFakeAnthropic(
  opts: { port?: number; host?: string } = {},
): Promise<FakeServer> {
  return startScenarioServer<AnthropicStep>({
    ...opts,
    scriptedError,
    route: ({ step, method, path, body, headers }) => {
      if (method === 'GET' && path === '/v1/models') {
        return {
          status: 200,
          body: {
            data: [{ type: 'model', id: 'claude-sonnet-4-5', display_name: 'Claude Sonnet 4.5' }],
            has_more: false,
          },
        };
      }
      if (method === 'POST' && path === '/v1/messages') return messages(step, body, headers);
      if (method === 'POST' && path === '/v1/messages/count_tokens')
        return countTokens(body, headers);
      return error(404, 'not_found_error', `Not found: ${method} ${path}`);
    },
  });
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const { values } = parseArgs({
    options: { port: { type: 'string', default: '8790' }, host: { type: 'string' } },
  });
  const fake = await startFakeAnthropic({ port: Number(values.port), host: values.host });
  console.log(`fake-anthropic listening on ${fake.url}`);
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => void fake.close().then(() => process.exit(0)));
  }
}
