import type { Edge } from '../context.ts';
import type { Admission } from '../limits/index.ts';
import type { RequestLogRecord } from '../observability/index.ts';
import type { AnswerFacts, AttemptSpan } from '../telemetry/index.ts';
import type { Usage } from '../usage/index.ts';

/** How an answer ended, whichever ending it was: a JSON answer, a stream's end, a cache hit. */
export interface Ending {
  /** Measured, else estimated (undefined: the cache entry held none). */
  usage: Usage | undefined;
  /** Whose prices the usage is charged at; absent: nothing is charged (an uncharged hit). */
  priced?: { provider: string; upstreamModel: string } | undefined;
  /** The answer's text, for payload capture and content on the span. */
  answerText: string | null;
  /** The span of the attempt that served (live answers, telemetry on), and what the answer
   * said of itself; `reason` for streams. */
  span?: { span: AttemptSpan; answer: AnswerFacts; reason?: string | undefined } | undefined;
  /** This ending's own fields of the log line (ttfb, how a stream ended, the cache tier). */
  log: Partial<RequestLogRecord>;
}

/**
 * The one settlement of every answer: ends the served attempt's span, charges the usage
 * (tokens/min, budget, usage counters: `Admission.settle`), notes the answer for capture and
 * hands the log line its usage and cost through `log` (a note on the line for answers the
 * log middleware writes, the line's writer for streams). Returns the cost in nano-USD.
 */
export function settle(
  ending: Ending,
  admission: Admission,
  edge: Pick<Edge, 'captureAnswer'>,
  log: (fields: Partial<RequestLogRecord>) => void,
): number {
  const { usage, span } = ending;
  const stream = span?.reason ? { reason: span.reason } : undefined;
  span?.span.succeeded(span.answer, usage, stream, ending.answerText);
  const settlement = { usage, ...ending.priced };
  const cost = admission.cost(settlement);
  admission.settle(settlement);
  edge.captureAnswer(ending.answerText);
  log({ usage, cost_usd: cost / 1e9, ...ending.log });
  return cost;
}
