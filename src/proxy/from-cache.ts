import type { Context } from 'hono';
import { type CacheEntry, chunksFromBody } from '../cache/index.ts';
import { answerText, captureAnswer } from '../capture/index.ts';
import type { AppEnv } from '../context.ts';
import type { Admission } from '../limits/index.ts';
import { annotateRequestLog, deferRequestLog } from '../observability/index.ts';
import { SSE_HEADERS } from '../sse/index.ts';
import { usageFromOpenAI } from '../usage/index.ts';
import { formatUsd } from '../usage/pricing.ts';
import type { NativeExchange } from './native.ts';
import { replayStream, type StreamEnd } from './stream-relay.ts';

/**
 * Answers from a cache hit, in the shape the client asked for: a stored stream replays
 * chunk for chunk; a stored response becomes a stream when asked; a stored stream answers a
 * non-streaming request with the response assembled from it. The usage in the answer is the
 * original one; what is charged is the config's choice (`cache.chargeHits`, default nothing).
 */
export function answerFromCache(
  c: Context<AppEnv>,
  hit: { entry: CacheEntry; ageSeconds: number; tier: string },
  options: {
    stream: boolean;
    clientWantsUsage: boolean;
    admission: Admission;
    native?: NativeExchange | undefined;
  },
): Response {
  const { entry } = hit;
  const { admission, native } = options;
  // The stored native answer, when it is in the client's format, in either shape (else: the
  // OpenAI one, turned into the format).
  const stored = native && entry.native?.format === native.format ? entry.native : undefined;
  c.header('age', String(hit.ageSeconds));
  const settlement = {
    usage: usageFromOpenAI(entry.body.usage),
    ...(c.get('deps').config.cache.chargeHits && entry.served ? entry.served : {}),
  };
  const cost = admission.cost(settlement);
  admission.settle(settlement);
  annotateRequestLog(c, { cache_tier: hit.tier, usage: settlement.usage, cost_usd: cost / 1e9 });
  captureAnswer(c, answerText(entry.body));

  if (!options.stream) {
    c.header('x-gateway-cost-usd', formatUsd(cost));
    annotateRequestLog(c, { ttfb_ms: Date.now() - c.get('startedAt') });
    const body =
      stored && (stored.body ?? (stored.events && native?.bodyFromEvents(stored.events)));
    if (body) return c.json(body as object, 200);
    return c.json((native ? native.fromOpenAI.json(entry.body) : entry.body) as object, 200);
  }
  const finishLog = deferRequestLog(c);
  const ttfb = Date.now() - c.get('startedAt');
  const onEnd = (end: StreamEnd) =>
    finishLog({ status: 200, ttfb_ms: ttfb, stream_end: end.reason });
  const events = stored && (stored.events ?? native?.eventsFromBody(stored.body));
  if (native && events && events.length > 0) {
    const readable = replayStream(events, {
      clientWantsUsage: true,
      mapEvent: native.streamMapper(),
      passthrough: { errorEvent: native.errorEvent },
      onEnd,
    });
    return c.body(readable, 200, SSE_HEADERS);
  }
  const readable = replayStream(entry.chunks ?? chunksFromBody(entry.body), {
    clientWantsUsage: options.clientWantsUsage,
    onEnd,
  });
  return c.body(native ? native.fromOpenAI.stream(readable) : readable, 200, SSE_HEADERS);
}
