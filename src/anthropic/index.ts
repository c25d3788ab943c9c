/**
 * The Anthropic-shaped ingress, `POST /v1/messages`. The request runs through the same
 * `proxy()` as /v1/chat/completions (auth, limits, routing, retries, fallback, usage, cost,
 * cache) as a native exchange (./native.ts): Anthropic targets get the client's request as it
 * is (cache_control, thinking, citations, beta features and fields added later all survive)
 * and their answer goes back untouched; other targets get the OpenAI translation
 * (./request.ts) and their answer is translated back (./response.ts, ./stream.ts).
 * Errors on this route are Anthropic-shaped (`anthropicErrorBody`, used by app.onError).
 */
import type { Context } from 'hono';
import type { AppEnv } from '../context.ts';
import { errors } from '../errors.ts';
import { proxy } from '../proxy/index.ts';
import { parseBody, resolveModel } from '../routes/parse.ts';
import { renderPrompt } from '../templates/index.ts';
import { anthropicExchange } from './native.ts';
import { toOpenAIRequest } from './request.ts';
import {
  type AnthropicRequest,
  type MessagesCreateRequest,
  messagesCreateSchema,
} from './schema.ts';

export { COUNT_TOKENS_PATH, countTokensHandler } from './count-tokens.ts';
export { anthropicErrorBody } from './response.ts';

export const MESSAGES_PATH = '/v1/messages';

export async function messagesHandler(c: Context<AppEnv>): Promise<Response> {
  const req = await withPrompt(c, await parseBody(c, messagesCreateSchema));
  const model = resolveModel(c, req.model, 'chat', MESSAGES_PATH);
  return proxy(c, {
    endpoint: 'chat/completions',
    body: toOpenAIRequest(req),
    model,
    native: anthropicExchange(req, c.req.raw.headers),
  });
}

/** The request with its `prompt` rendered: the template's instructions and system/developer
 * messages go before the request's own `system` (Anthropic has no such message roles), its
 * user/assistant messages before the request's own; `prompt` never goes upstream. */
async function withPrompt(
  c: Context<AppEnv>,
  { prompt, ...req }: MessagesCreateRequest,
): Promise<AnthropicRequest> {
  if (!prompt) return { ...req, messages: req.messages ?? [] };
  const rendered = await renderPrompt(c, prompt);
  const system = [
    ...(rendered.instructions === undefined ? [] : [rendered.instructions]),
    ...rendered.messages
      .filter((m) => m.role === 'system' || m.role === 'developer')
      .map((m) => m.content),
  ];
  const messages = [
    ...rendered.messages
      .filter((m) => m.role === 'user' || m.role === 'assistant')
      .map((m) => ({ role: m.role as 'user' | 'assistant', content: m.content })),
    ...(req.messages ?? []),
  ];
  if (messages.length === 0) {
    throw errors.invalidField(
      'messages',
      'required: the template has no user or assistant messages',
    );
  }
  if (system.length === 0) return { ...req, messages };
  const own = req.system;
  return {
    ...req,
    messages,
    system:
      own === undefined || typeof own === 'string'
        ? [...system, ...(own ? [own] : [])].join('\n\n')
        : [{ type: 'text', text: system.join('\n\n') }, ...own],
  };
}
