import { type CacheEntry, chunksFromBody } from '../cache/index.ts';
import { answerText } from '../capture/index.ts';
import type { Edge } from '../context.ts';
import type { Admission } from '../limits/index.ts';
import { SSE_HEADERS } from '../sse/index.ts';
import { usageFromOpenAI } from '../usage/index.ts';
import { formatUsd } from '../usage/pricing.ts';
import { type Answer, JSON_HEADERS } from './answer.ts';
import type { NativeExchange } from './native.ts';
import { settle } from './settle.ts';
import { type EventStage, replayStream, type StreamEnd } from './stream-relay.ts';

/**
 * The answer stage for a cache hit, in the shape the client asked for: a stored stream
 * replays chunk for chunk; a stored response becomes a stream when asked; a stored stream
 * answers a non-streaming request with the response assembled from it. The usage in the
 * answer is the original one; what is charged is the config's choice (`cache.chargeHits`,
 * default nothing). Settled (./settle.ts) before the answer goes.
 */
export function answerFromCache(
  hit: { entry: CacheEntry; ageSeconds: number; tier: string },
  input: {
    stream: boolean;
    clientWantsUsage: boolean;
    native?: NativeExchange | undefined;
    chargeHits: boolean;
    admission: Admission;
    startedAt: number;
    /** The event stage of a stream replayed in the client's format (guardrails). */
    stage?: (() => EventStage) | undefined;
  },
  edge: Pick<Edge, 'note' | 'deferLog' | 'captureAnswer'>,
): Answer {
  const { entry } = hit;
  const { native, startedAt } = input;
  // The stored native answer, when it is in the client's format, in either shape (else: the
  // OpenAI one, turned into the format).
  const stored = native && entry.native?.format === native.format ? entry.native : undefined;
  const ending = {
    usage: usageFromOpenAI(entry.body.usage),
    priced: input.chargeHits ? entry.served : undefined,
    answerText: answerText(entry.body),
    log: { cache_tier: hit.tier, ...(input.stream ? {} : { ttfb_ms: Date.now() - startedAt }) },
  };
  const cost = settle(ending, input.admission, edge, edge.note);
  const age = String(hit.ageSeconds);

  if (!input.stream) {
    const headers = { ...JSON_HEADERS, age, 'x-gateway-cost-usd': formatUsd(cost) };
    const body =
      stored && (stored.body ?? (stored.events && native?.bodyFromEvents(stored.events)));
    if (body) return { body: JSON.stringify(body), headers };
    const openAI = native ? native.fromOpenAI.json(entry.body) : entry.body;
    return { body: JSON.stringify(openAI), headers };
  }
  const headers = { ...SSE_HEADERS, age };
  const finishLog = edge.deferLog();
  const ttfb = Date.now() - startedAt;
  const onEnd = (end: StreamEnd) =>
    finishLog({ status: 200, ttfb_ms: ttfb, stream_end: end.reason });
  const events = stored && (stored.events ?? native?.eventsFromBody(stored.body));
  if (native && events && events.length > 0) {
    const readable = replayStream(events, {
      clientWantsUsage: true,
      mapEvent: native.streamMapper(),
      passthrough: { errorEvent: native.errorEvent },
      onEnd,
      stage: input.stage?.(),
    });
    return { body: readable, headers };
  }
  const readable = replayStream(entry.chunks ?? chunksFromBody(entry.body), {
    clientWantsUsage: input.clientWantsUsage,
    onEnd,
    stage: native ? undefined : input.stage?.(),
  });
  return { body: native ? native.fromOpenAI.stream(readable) : readable, headers };
}
