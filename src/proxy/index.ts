/**
 * The proxy: the request path as a pipeline of stages, each in its own module with narrow
 * inputs and a typed output, none of them holding the Hono context:
 *
 *   plan (src/routing) → cache (src/cache) → admit (src/limits) → dispatch (./dispatch.ts)
 *     → answer (./answer.ts, ./from-cache.ts), every answer settled by ./settle.ts
 *
 * This file is their edge: it takes the request's facts and the `Edge` the stages act through
 * (response headers, log line, waitUntil: ./edge.ts) from the context, and renders the answer.
 * A request in another format (`native`, ./native.ts) goes as it is to targets that take it,
 * translated to the others.
 * Contract: `proxy(c, request)` returns the client response or throws a GatewayError (with
 * `x-gateway-provider` / `x-gateway-attempts` already set on the context).
 */
import type { Context } from 'hono';
import { lookupCache } from '../cache/index.ts';
import { capturePrompt, secretsOf } from '../capture/index.ts';
import type { AppEnv, RequestFacts } from '../context.ts';
import { RequestGuard } from '../guardrails/index.ts';
import { admit } from '../limits/index.ts';
import { annotateRequestLog } from '../observability/index.ts';
import type { RequestMeta } from '../providers/index.ts';
import { routeRequest } from '../routing/index.ts';
import { contentKeeper, tracesContent } from '../telemetry/index.ts';
import { type Answer, answer } from './answer.ts';
import { DispatchError, dispatchRequest, type Served } from './dispatch.ts';
import { edgeOf, factsOf } from './edge.ts';
import { answerFromCache } from './from-cache.ts';
import { type ProxyRequest, streamOf } from './request.ts';
import type { EventStage } from './stream-relay.ts';

export type { ProxyRequest } from './request.ts';

/** The request through the guardrails that apply (src/guardrails), then to the upstream. */
export async function proxy(c: Context<AppEnv>, request: ProxyRequest): Promise<Response> {
  const guard = RequestGuard.for(c);
  if (!guard) return respond(c, await forward(c, request));
  annotateRequestLog(c, { model: String(request.body.model) });
  // the request's messages are final here (parsed, translated, rendered): checked once for
  // every ingress, before routing, the cache and dispatch see them
  await guard.checkRequest(request);
  return respond(
    c,
    await guard.guardAnswer(await forward(c, request, guard.streamStage(request)), request),
  );
}

/** `stage`: the answer's guard, for a stream the relay writes in the client's format. */
async function forward(
  c: Context<AppEnv>,
  request: ProxyRequest,
  stage?: () => EventStage,
): Promise<Answer> {
  const deps = c.get('deps');
  const trace = c.get('trace');
  const [facts, edge] = [factsOf(c), edgeOf(c)];
  const { endpoint, body, model, native } = request;
  const { stream, clientWantsUsage } = streamOf(request);
  edge.note({ model: String(body.model), stream });
  capturePrompt(c, body);
  if (trace && tracesContent(deps.config.tenants, facts.key?.tenant)) {
    trace.content = contentKeeper(secretsOf(deps));
  }

  // plan: the targets that may serve, in the order to try (residency, geo, health)
  const plan = await routeRequest(deps, facts, model, edge);
  // cache: HIT (an answer), MISS (where to store one) or BYPASS
  const cached = await lookupCache(deps, facts, request, edge);
  edge.header('x-gateway-cache', cached.status);
  edge.note({ cache: cached.status });
  // admit: requests/min, tokens/min and budget, or a 429 / 503
  const cacheHit = cached.status === 'HIT';
  const admission = await admit(deps, facts, { endpoint, body, model, cacheHit }, edge);
  const { startedAt } = facts;
  if (cached.status === 'HIT') {
    const { chargeHits } = deps.config.cache;
    const input = { stream, clientWantsUsage, native, chargeHits, admission, startedAt, stage };
    return answerFromCache(cached, input, edge);
  }

  // dispatch: retries and fallback until a target answers
  let served: Served;
  try {
    const input = { plan, request, stream, meta: metaOf(facts), signal: facts.signal, trace };
    served = await dispatchRequest(input, deps, edge);
  } catch (err) {
    if (!(err instanceof DispatchError)) throw err;
    admission.settle({ usage: undefined }); // gives back what admit reserved
    throw err.error;
  }
  // answer: JSON, or a relayed stream; settled when complete
  return answer(served, { request, clientWantsUsage, cached, admission, startedAt, stage }, edge);
}

function respond(c: Context<AppEnv>, { body, headers }: Answer): Response {
  return c.body(body, 200, headers);
}

/** What travels with the request to the upstream (the origin tier reads it). */
function metaOf(facts: RequestFacts): RequestMeta {
  return {
    requestId: facts.requestId,
    traceparent: facts.header('traceparent'),
    tenant: facts.key?.tenant,
    priority: facts.header('x-gateway-priority'),
  };
}
