/**
 * The proxy: plan the targets of a model, dispatch with retries and fallback, then answer
 * the client (JSON, or a relayed SSE stream) and write the request log line. A request in
 * another format (`native`, ./native.ts) goes as it is to targets that take it, translated to
 * the others.
 * Contract: `proxy(c, request)` returns the client response or throws a GatewayError (with
 * `x-gateway-provider` / `x-gateway-attempts` already set on the context).
 */
import type { Context } from 'hono';
import { assembleFromChunks, lookupCache } from '../cache/index.ts';
import { answerText, captureAnswer, capturePrompt } from '../capture/index.ts';
import type { ModelConfig } from '../config/index.ts';
import { type AppEnv, waitUntil } from '../context.ts';
import { RequestGuard } from '../guardrails/index.ts';
import { admit } from '../limits/index.ts';
import { annotateRequestLog, deferRequestLog } from '../observability/index.ts';
import { type PlannedTarget, routeRequest, tripsCircuit } from '../routing/index.ts';
import type { Endpoint } from '../schemas/openai.ts';
import { SSE_HEADERS, type StoredEvent } from '../sse/index.ts';
import { type AttemptSpan, answerFacts, requestTrace } from '../telemetry/index.ts';
import { estimatedUsage, estimatePromptTokens } from '../usage/index.ts';
import { formatUsd } from '../usage/pricing.ts';
import { type AttemptFailure, attemptUpstream } from './attempt.ts';
import { DispatchError, dispatch } from './dispatch.ts';
import { edgeOf, factsOf } from './edge.ts';
import { answerFromCache } from './from-cache.ts';
import { type NativeExchange, nativeFor } from './native.ts';
import { relayFrames, relayStream, type StreamEnd } from './stream-relay.ts';

export interface ProxyRequest {
  endpoint: Endpoint;
  /** The request in OpenAI's shape (the translation, when `native` is set). */
  body: Record<string, unknown>;
  model: ModelConfig;
  /** The request in the client's own format, for targets that take it as is (./native.ts). */
  native?: NativeExchange;
}

/** The request through the guardrails that apply (src/guardrails), then to the upstream. */
export async function proxy(c: Context<AppEnv>, request: ProxyRequest): Promise<Response> {
  const guard = RequestGuard.for(c);
  if (!guard) return forward(c, request);
  annotateRequestLog(c, { model: String(request.body.model) });
  // the request's messages are final here (parsed, translated, rendered): checked once for
  // every ingress, before routing, the cache and dispatch see them
  await guard.checkRequest(request);
  return guard.guardAnswer(await forward(c, request), request);
}

async function forward(c: Context<AppEnv>, request: ProxyRequest): Promise<Response> {
  const [deps, startedAt] = [c.get('deps'), c.get('startedAt')];
  const { endpoint, body, native } = request;
  const stream = body.stream === true && endpoint !== 'embeddings';
  const clientWantsUsage = stream && streamOptions(body).include_usage === true;
  const signal = c.req.raw.signal;
  annotateRequestLog(c, { model: String(body.model), stream });
  capturePrompt(c, body);
  const [facts, edge] = [factsOf(c), edgeOf(c)];
  const plan = await routeRequest(deps, facts, request.model, edge);
  const cached = await lookupCache(deps, facts, { endpoint, body, native }, edge);
  c.header('x-gateway-cache', cached.status);
  annotateRequestLog(c, { cache: cached.status });
  const admission = await admit(
    deps,
    facts,
    { endpoint, body, model: request.model, cacheHit: cached.status === 'HIT' },
    edge,
  );
  if (cached.status === 'HIT')
    return answerFromCache(c, cached, { stream, clientWantsUsage, admission, native });
  const meta = {
    requestId: c.get('requestId'),
    traceparent: c.req.header('traceparent'),
    tenant: c.get('apiKey')?.tenant,
    priority: c.req.header('x-gateway-priority'),
  };

  const trace = requestTrace(c);
  /** The span of the attempt that served (telemetry on). */
  let servedSpan: AttemptSpan | undefined;
  let attemptNo = 0;
  let outcome: Awaited<ReturnType<typeof dispatch>>;
  try {
    outcome = await dispatch(
      plan,
      async ({ provider, target }) => {
        const asIs = nativeFor(provider, native);
        const sent = upstreamBody(body, target.model, stream, provider.streamUsage);
        const upstream = asIs
          ? provider.native!.buildRequest({ ...asIs.body, model: target.model }, asIs.headers)
          : await provider.buildRequest(endpoint, sent, meta);
        const span = trace?.attempt({
          endpoint,
          body: sent,
          requestModel: String(body.model),
          providerKind: provider.kind,
          providerId: provider.id,
          region: provider.region,
          url: upstream.url,
          attempt: ++attemptNo,
        });
        // Every upstream (cloud or origin) continues the trace from this attempt's span; the
        // header is outside any signature (SigV4 and the origin's sign only their own list).
        if (span) upstream.headers.set('traceparent', span.traceparent);
        const result = await attemptUpstream(provider, upstream, stream, signal, !asIs);
        if (span && !result.ok) span.failed(result.failure);
        else if (span && result.ok) {
          if (result.value.kind !== 'json') span.firstByte();
          servedSpan = span;
        }
        return result;
      },
      { random: deps.random, signal },
    );
  } catch (err) {
    if (!(err instanceof DispatchError)) throw err;
    recordHealth(c, plan, err.failures);
    if (err.last) c.header('x-gateway-provider', err.last.provider.id);
    c.header('x-gateway-attempts', String(err.attempts));
    annotateRequestLog(c, {
      provider: err.last?.provider.id,
      upstream_model: err.last?.target.model,
      attempts: err.attempts,
      failures: err.failures.map((f) => f.message),
    });
    admission.settle({ usage: undefined });
    throw err.error;
  }

  const { value, attempts, failures } = outcome;
  const { provider, target } = outcome.served;
  const served = { provider: provider.id, upstreamModel: target.model };
  recordHealth(c, plan, failures);
  const region = provider.region ?? 'global';
  c.header('x-gateway-provider', provider.id);
  c.header('x-gateway-region', region);
  c.header('x-gateway-attempts', String(attempts));
  annotateRequestLog(c, { provider: provider.id, region, upstream_model: target.model, attempts });
  if (failures.length > 0) annotateRequestLog(c, { failures: failures.map((f) => f.message) });
  const promptEstimate = () => estimatePromptTokens(body);
  /** Served in the client's own format: its answer goes back untouched. */
  const asIs = nativeFor(provider, native);
  if (native) annotateRequestLog(c, { native: asIs ? 'pass-through' : 'translated' });

  if (value.kind === 'json') {
    const mapped = asIs ? asIs.toOpenAI(value.body) : provider.mapResponse(value.body);
    const usage = provider.extractUsage(mapped) ?? estimatedUsage(promptEstimate(), '');
    servedSpan?.succeeded(answerFacts(mapped), usage);
    const settlement = { usage, provider: provider.id, upstreamModel: target.model };
    const cost = admission.cost(settlement);
    admission.settle(settlement);
    captureAnswer(c, answerText(mapped));
    annotateRequestLog(c, { usage, cost_usd: cost / 1e9, ttfb_ms: Date.now() - startedAt });
    c.header('x-gateway-cost-usd', formatUsd(cost));
    if (cached.status === 'MISS') {
      cached.store({
        body: mapped as Record<string, unknown>,
        served,
        ...(asIs ? { native: { format: asIs.format, body: value.body } } : {}),
      });
    }
    // unchanged answers go back as the upstream wrote them (no re-serialization)
    if (asIs || (!native && provider.speaksOpenAI)) return c.body(value.text, 200, JSON_HEADERS);
    return c.json((native ? native.fromOpenAI.json(mapped) : mapped) as object, 200);
  }

  const ttfb = Date.now() - startedAt;
  const finishLog = deferRequestLog(c);
  const record: string[] | undefined = cached.status === 'MISS' ? [] : undefined;
  const nativeRecord: StoredEvent[] | undefined = asIs && record ? [] : undefined;
  const onEnd = (end: StreamEnd) => {
    if (cached.status === 'MISS' && record && end.reason === 'done') {
      const assembled = assembleFromChunks(record);
      const stored =
        asIs && nativeRecord ? { native: { format: asIs.format, events: nativeRecord } } : {};
      if (assembled) cached.store({ body: assembled, chunks: record, served, ...stored });
    }
    const usage = end.usage ?? estimatedUsage(promptEstimate(), end.completionText);
    servedSpan?.succeeded(end.answer, usage, { reason: end.reason });
    const settlement = { usage, provider: provider.id, upstreamModel: target.model };
    admission.settle(settlement);
    captureAnswer(c, end.completionText);
    finishLog({
      cost_usd: admission.cost(settlement) / 1e9,
      status: 200,
      usage,
      ttfb_ms: ttfb,
      stream_end: end.reason,
      ...(end.reason === 'done' ? {} : { error_code: end.reason }),
    });
  };
  const idleMs = provider.timeouts.idleMs;
  const readable =
    value.kind === 'frames'
      ? relayFrames(value, { clientWantsUsage, idleMs, record, onEnd })
      : relayStream(value, {
          mapEvent: asIs ? asIs.streamMapper() : provider.streamMapper(),
          clientWantsUsage,
          idleMs,
          record,
          ...(asIs
            ? {
                passthrough: {
                  errorEvent: asIs.errorEvent,
                  ...(nativeRecord ? { record: nativeRecord } : {}),
                },
              }
            : {}),
          onEnd,
        });
  return c.body(native && !asIs ? native.fromOpenAI.stream(readable) : readable, 200, SSE_HEADERS);
}

/** Failures that say a target is unwell count toward opening its circuit (shared via Redis). */
function recordHealth(c: Context<AppEnv>, plan: PlannedTarget[], failures: AttemptFailure[]): void {
  for (const failure of failures) {
    const planned = plan.find((p) => p.provider.id === failure.provider);
    if (planned && tripsCircuit(failure, planned.provider.kind)) {
      const id = planned.provider.id;
      const opened = c.get('deps').health.recordFailure(id);
      waitUntil(
        c,
        opened.then((yes) => yes && requestTrace(c)?.circuitOpened(id)),
      );
    }
  }
}

/**
 * The body sent upstream: the client's body (unknown fields included) with the upstream model
 * name and, for streams, `stream_options.include_usage` forced on so usage is always known.
 */
const JSON_HEADERS = { 'content-type': 'application/json' } as const;

export function upstreamBody(
  body: Record<string, unknown>,
  model: string,
  stream: boolean,
  askUsage: boolean,
): Record<string, unknown> {
  const out: Record<string, unknown> = { ...body, model };
  if (stream && askUsage) out.stream_options = { ...streamOptions(body), include_usage: true };
  return out;
}

function streamOptions(body: Record<string, unknown>): Record<string, unknown> {
  const options = body.stream_options;
  return options && typeof options === 'object' ? (options as Record<string, unknown>) : {};
}
