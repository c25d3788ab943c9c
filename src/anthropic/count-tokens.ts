/**
 * `POST /v1/messages/count_tokens` (https://docs.anthropic.com/en/api/messages-count-tokens),
 * which Claude Code and other Anthropic clients call before they send. The request is routed
 * like a message (auth, model access, residency): the first planned target that takes
 * Anthropic requests counts it exactly with its own endpoint; with none, or when that call
 * fails, the gateway estimates and says so (`x-gateway-estimated: true`). Nothing is charged.
 */
import type { Context } from 'hono';
import type { AppEnv } from '../context.ts';
import { annotateRequestLog } from '../observability/index.ts';
import { edgeOf, factsOf } from '../proxy/edge.ts';
import { parseBody, resolveModel } from '../routes/parse.ts';
import { routeRequest } from '../routing/index.ts';
import { estimatePromptTokens } from '../usage/index.ts';
import { forwardedHeaders } from './native.ts';
import { toOpenAIRequest } from './request.ts';
import { countTokensRequestSchema } from './schema.ts';

export const COUNT_TOKENS_PATH = '/v1/messages/count_tokens';

export async function countTokensHandler(c: Context<AppEnv>): Promise<Response> {
  const req = await parseBody(c, countTokensRequestSchema);
  const model = resolveModel(c, req.model, 'chat', COUNT_TOKENS_PATH);
  const plan = await routeRequest(c.get('deps'), factsOf(c), model, edgeOf(c));
  const counter = plan.find(
    ({ provider }) => provider.native?.format === 'anthropic' && provider.native.countTokensRequest,
  );
  if (counter) {
    const { provider, target } = counter;
    const request = provider.native!.countTokensRequest!(
      { ...req, model: target.model },
      forwardedHeaders(c.req.raw.headers),
    );
    const counted = await upstreamCount(request, provider.timeouts.firstByteMs);
    annotateRequestLog(c, { provider: provider.id, upstream_model: target.model });
    if (counted !== undefined) {
      c.header('x-gateway-provider', provider.id);
      return c.json({ input_tokens: counted });
    }
  }
  c.header('x-gateway-estimated', 'true');
  const translated = toOpenAIRequest({ ...req, max_tokens: req.max_tokens ?? 1 });
  return c.json({ input_tokens: estimatePromptTokens(translated) });
}

async function upstreamCount(
  request: { url: string; headers: Headers; body: string },
  timeoutMs: number,
): Promise<number | undefined> {
  try {
    const res = await fetch(request.url, {
      method: 'POST',
      headers: request.headers,
      body: request.body,
      signal: AbortSignal.timeout(timeoutMs),
    });
    if (!res.ok) {
      await res.body?.cancel();
      return undefined;
    }
    const body = (await res.json()) as { input_tokens?: unknown };
    return typeof body.input_tokens === 'number' ? body.input_tokens : undefined;
  } catch {
    return undefined;
  }
}
