/**
 * The Anthropic-shaped ingress, `POST /v1/messages`. Design: translate the Anthropic request
 * to the gateway's internal OpenAI chat shape, run it through the same `proxy()` as
 * /v1/chat/completions (auth, limits, routing, retries, fallback, usage, cost), and translate
 * the result back: a JSON body to an Anthropic Message, an SSE stream to Anthropic events
 * through a TransformStream. Any target serves it; for Anthropic targets the two
 * translations are inverses (see ./request.ts for what has no OpenAI equivalent).
 * Errors on this route are Anthropic-shaped (`anthropicErrorBody`, used by app.onError).
 */
import type { Context } from 'hono';
import type { AppEnv } from '../context.ts';
import { proxy } from '../proxy/index.ts';
import { parseBody, resolveModel } from '../routes/parse.ts';
import { toOpenAIRequest } from './request.ts';
import { toAnthropicMessage } from './response.ts';
import { anthropicRequestSchema } from './schema.ts';
import { toAnthropicStream } from './stream.ts';

export { anthropicErrorBody } from './response.ts';

export const MESSAGES_PATH = '/v1/messages';

export async function messagesHandler(c: Context<AppEnv>): Promise<Response> {
  const req = await parseBody(c, anthropicRequestSchema);
  const model = resolveModel(c, req.model, 'chat', MESSAGES_PATH);
  const res = await proxy(c, { endpoint: 'chat/completions', body: toOpenAIRequest(req), model });
  const headers = new Headers(res.headers);
  headers.delete('content-length');
  if (res.status !== 200 || !res.body) return res;
  if ((res.headers.get('content-type') ?? '').startsWith('text/event-stream')) {
    return new Response(toAnthropicStream(res.body, req.model), { status: 200, headers });
  }
  const message = toAnthropicMessage(await res.json(), req.model);
  return new Response(JSON.stringify(message), { status: 200, headers });
}
