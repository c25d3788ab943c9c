/**
 * The edge of the request pipeline: the Hono context turned into what the stages take (the
 * request's facts, and the `Edge` they act through), once per request.
 */
import type { Context } from 'hono';
import { captureAnswer } from '../capture/index.ts';
import { type AppEnv, type Edge, type RequestFacts, waitUntil } from '../context.ts';
import { annotateRequestLog, deferRequestLog } from '../observability/index.ts';
import type { ClientGeo } from '../routing/geo.ts';

export function factsOf(c: Context<AppEnv>): RequestFacts {
  return {
    requestId: c.get('requestId'),
    startedAt: c.get('startedAt'),
    key: c.get('apiKey'),
    header: (name) => c.req.header(name),
    geo: ((c.req.raw as { cf?: ClientGeo }).cf ?? {}) as ClientGeo,
    signal: c.req.raw.signal,
  };
}

export function edgeOf(c: Context<AppEnv>): Edge {
  return {
    note: (fields) => annotateRequestLog(c, fields),
    header: (name, value) => c.header(name, value),
    waitUntil: (work) => waitUntil(c, work),
    deferLog: () => deferRequestLog(c),
    captureAnswer: (text) => captureAnswer(c, text),
  };
}
