/**
 * Realtime, `GET /v1/realtime?model=…` as a WebSocket
 * (https://platform.openai.com/docs/guides/realtime-websocket). Contract: the upgrade is
 * authenticated like any /v1 request (a header, or the `openai-insecure-api-key.<key>`
 * subprotocol browsers use), model access and residency are checked before anything is
 * opened upstream, and the session goes to the first planned target that speaks realtime
 * (OpenAI, Azure OpenAI). Frames are relayed both ways as they come, unbuffered. Each
 * client `response.create` is admitted like a request (requests/min, a tokens/min reservation,
 * the budget): refused, the client gets an `error` event and nothing goes upstream; each
 * `response.done` settles its admission with the usage it reports. Either side closing
 * closes the other.
 */
import type { Context } from 'hono';
import { KEY_SUBPROTOCOL } from '../auth/middleware.ts';
import type { AppEnv } from '../context.ts';
import { errors, toGatewayError } from '../errors.ts';
import { type Admission, admit } from '../limits/index.ts';
import { annotateRequestLog } from '../observability/index.ts';
import { isObj, num, parseJson } from '../providers/json.ts';
import { edgeOf, factsOf } from '../proxy/edge.ts';
import { resolveModel } from '../routes/parse.ts';
import { routeRequest } from '../routing/index.ts';
import type { Usage } from '../usage/index.ts';

export const REALTIME_PATH = '/v1/realtime';

/** Realtime `response.done` usage in the gateway's terms. Pure. */
export function realtimeUsage(usage: unknown): Usage | undefined {
  if (!isObj(usage) || typeof usage.input_tokens !== 'number') return undefined;
  const details = isObj(usage.input_token_details) ? usage.input_token_details : {};
  const input = num(usage.input_tokens);
  const output = num(usage.output_tokens);
  return {
    prompt_tokens: input,
    completion_tokens: output,
    total_tokens: num(usage.total_tokens) || input + output,
    ...(num(details.cached_tokens) > 0 ? { cached_tokens: num(details.cached_tokens) } : {}),
    source: 'upstream',
  };
}

export async function realtimeHandler(c: Context<AppEnv>): Promise<Response> {
  if (c.req.header('upgrade')?.toLowerCase() !== 'websocket') {
    throw errors.invalidField('upgrade', 'this endpoint takes a WebSocket upgrade');
  }
  const name = c.req.query('model') ?? '';
  const model = resolveModel(c, name, 'chat', REALTIME_PATH);
  const [facts, edge] = [factsOf(c), edgeOf(c)];
  const plan = await routeRequest(c.get('deps'), facts, model, edge);
  const planned = plan.find((p) => p.provider.realtimeRequest);
  if (!planned) throw errors.wrongEndpoint(name, REALTIME_PATH);
  const { provider, target } = planned;
  const request = provider.realtimeRequest!(target.model);
  request.headers.set('upgrade', 'websocket');
  const upstreamRes = await fetch(request.url, { headers: request.headers });
  const upstream = upstreamRes.webSocket;
  if (!upstream) {
    await upstreamRes.body?.cancel();
    annotateRequestLog(c, {
      provider: provider.id,
      failures: [`realtime upgrade answered ${upstreamRes.status}`],
    });
    throw errors.upstreamFailed();
  }
  upstream.accept();
  const [client, server] = Object.values(new WebSocketPair()) as [WebSocket, WebSocket];
  server.accept();
  annotateRequestLog(c, { provider: provider.id, upstream_model: target.model, realtime: true });
  c.header('x-gateway-provider', provider.id);

  // One admission per response.create sent upstream, in the order sent, each settled by the
  // response.done that ends it. A refused one is never sent, so it never waits for a done.
  const open: Admission[] = [];
  let closed = false;
  const settled = { provider: provider.id, upstreamModel: target.model };
  server.addEventListener('message', (event) => {
    const data = event.data;
    if (typeof data !== 'string' || !data.includes('"response.create"')) {
      upstream.send(data);
      return;
    }
    const parsed = parseJson(data);
    const body = isObj(parsed) && isObj(parsed.response) ? parsed.response : {};
    const maxTokens = body.max_output_tokens ?? body.max_response_output_tokens;
    const asked = {
      endpoint: 'chat/completions',
      body: { max_tokens: maxTokens },
      model,
    } as const;
    void admit(c.get('deps'), facts, asked, edge).then(
      (admission) => {
        if (closed) return admission.settle({ usage: undefined, ...settled });
        open.push(admission);
        upstream.send(data);
      },
      (err) => {
        if (closed) return;
        const e = toGatewayError(err).toBody().error;
        server.send(JSON.stringify({ type: 'error', event_id: crypto.randomUUID(), error: e }));
      },
    );
  });
  upstream.addEventListener('message', (event) => {
    const data = event.data;
    server.send(data);
    if (typeof data !== 'string' || !data.includes('"response.done"')) return;
    const parsed = parseJson(data);
    if (!isObj(parsed) || parsed.type !== 'response.done') return;
    const usage = realtimeUsage(isObj(parsed.response) ? parsed.response.usage : undefined);
    open.shift()?.settle({ usage, ...settled });
  });
  const closeBoth = (code: number, reason: string) => {
    closed = true;
    for (const ws of [server, upstream]) {
      try {
        ws.close(code === 1005 || code === 1006 ? 1000 : code, reason);
      } catch {
        // Already closed.
      }
    }
    for (const admission of open.splice(0)) admission.settle({ usage: undefined, ...settled });
  };
  server.addEventListener('close', (e) => closeBoth(e.code, e.reason));
  upstream.addEventListener('close', (e) => closeBoth(e.code, e.reason));
  server.addEventListener('error', () => closeBoth(1011, 'client error'));
  upstream.addEventListener('error', () => closeBoth(1011, 'upstream error'));

  const offered =
    c.req
      .header('sec-websocket-protocol')
      ?.split(',')
      .map((p) => p.trim()) ?? [];
  const chosen = offered.find((p) => p && !p.startsWith(KEY_SUBPROTOCOL));
  return new Response(null, {
    status: 101,
    webSocket: client,
    headers: chosen ? { 'sec-websocket-protocol': chosen } : {},
  });
}
