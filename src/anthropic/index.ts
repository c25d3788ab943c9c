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
import { proxy } from '../proxy/index.ts';
import { parseBody, resolveModel } from '../routes/parse.ts';
import { anthropicExchange } from './native.ts';
import { toOpenAIRequest } from './request.ts';
import { anthropicRequestSchema } from './schema.ts';

export { COUNT_TOKENS_PATH, countTokensHandler } from './count-tokens.ts';
export { anthropicErrorBody } from './response.ts';

export const MESSAGES_PATH = '/v1/messages';

export async function messagesHandler(c: Context<AppEnv>): Promise<Response> {
  const req = await parseBody(c, anthropicRequestSchema);
  const model = resolveModel(c, req.model, 'chat', MESSAGES_PATH);
  return proxy(c, {
    endpoint: 'chat/completions',
    body: toOpenAIRequest(req),
    model,
    native: anthropicExchange(req, c.req.raw.headers),
  });
}
