import { assembleFromChunks, type CacheLookup } from '../cache/index.ts';
import { answerText } from '../capture/index.ts';
import type { Edge } from '../context.ts';
import type { Admission } from '../limits/index.ts';
import { SSE_HEADERS, type StoredEvent } from '../sse/index.ts';
import { answerFacts } from '../telemetry/index.ts';
import { estimatedUsage, estimatePromptTokens } from '../usage/index.ts';
import { formatUsd } from '../usage/pricing.ts';
import type { Served } from './dispatch.ts';
import type { ProxyRequest } from './request.ts';
import { settle } from './settle.ts';
import { type EventStage, relayFrames, relayStream, type StreamEnd } from './stream-relay.ts';

/** What the client gets (status 200): the body and the headers of its own. */
export interface Answer {
  body: string | ReadableStream<Uint8Array>;
  headers: Readonly<Record<string, string>>;
}

export const JSON_HEADERS = { 'content-type': 'application/json' } as const;

/**
 * The answer stage of the request path: the served attempt's answer in the client's shape, a
 * JSON body or a relayed stream, settled (./settle.ts) when it is complete: a JSON answer
 * now, a stream when it ends. On a cache MISS a complete answer is stored.
 */
export function answer(
  served: Served,
  input: {
    request: Pick<ProxyRequest, 'body' | 'native'>;
    clientWantsUsage: boolean;
    cached: Exclude<CacheLookup, { status: 'HIT' }>;
    admission: Admission;
    startedAt: number;
    /** The event stage of a stream relayed in the client's format (guardrails). */
    stage?: (() => EventStage) | undefined;
  },
  edge: Pick<Edge, 'note' | 'deferLog' | 'captureAnswer'>,
): Answer {
  const { value, provider, target, span, asIs } = served;
  const { request, clientWantsUsage, cached, admission, startedAt } = input;
  const { body, native } = request;
  /** Who served: the prices charged, and what a cache entry remembers. */
  const servedBy = { provider: provider.id, upstreamModel: target.model };

  if (value.kind === 'json') {
    const mapped = asIs ? asIs.toOpenAI(value.body) : provider.mapResponse(value.body);
    const usage = provider.extractUsage(mapped) ?? estimatedUsage(estimatePromptTokens(body), '');
    const ending = {
      usage,
      priced: servedBy,
      answerText: answerText(mapped),
      span: span && { span, answer: answerFacts(mapped) },
      log: { ttfb_ms: Date.now() - startedAt },
    };
    const cost = settle(ending, admission, edge, edge.note);
    if (cached.status === 'MISS') {
      cached.store({
        body: mapped as Record<string, unknown>,
        served: servedBy,
        ...(asIs ? { native: { format: asIs.format, body: value.body } } : {}),
      });
    }
    const headers = { ...JSON_HEADERS, 'x-gateway-cost-usd': formatUsd(cost) };
    // unchanged answers go back as the upstream wrote them (no re-serialization)
    if (asIs || (!native && provider.speaksOpenAI)) return { body: value.text, headers };
    return { body: JSON.stringify(native ? native.fromOpenAI.json(mapped) : mapped), headers };
  }

  const ttfb = Date.now() - startedAt;
  const finishLog = edge.deferLog();
  const record: string[] | undefined = cached.status === 'MISS' ? [] : undefined;
  const nativeRecord: StoredEvent[] | undefined = asIs && record ? [] : undefined;
  const onEnd = (end: StreamEnd) => {
    if (cached.status === 'MISS' && record && end.reason === 'done') {
      const assembled = assembleFromChunks(record);
      const events =
        asIs && nativeRecord ? { native: { format: asIs.format, events: nativeRecord } } : {};
      if (assembled) cached.store({ body: assembled, chunks: record, served: servedBy, ...events });
    }
    const ending = {
      usage: end.usage ?? estimatedUsage(estimatePromptTokens(body), end.completionText),
      priced: servedBy,
      answerText: end.completionText,
      span: span && { span, answer: end.answer, reason: end.reason },
      log: {
        status: 200,
        ttfb_ms: ttfb,
        stream_end: end.reason,
        ...(end.reason === 'done' ? {} : { error_code: end.reason }),
      },
    };
    settle(ending, admission, edge, finishLog);
  };
  const idleMs = provider.timeouts.idleMs;
  const stage = native && !asIs ? undefined : input.stage?.();
  const readable =
    value.kind === 'frames'
      ? relayFrames(value, { clientWantsUsage, idleMs, record, onEnd, stage })
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
          stage,
        });
  const out = native && !asIs ? native.fromOpenAI.stream(readable) : readable;
  return { body: out, headers: SSE_HEADERS };
}
