import type { Context, MiddlewareHandler } from 'hono';
import { type AppEnv, waitUntil } from '../context.ts';
import { type RequestEnding, RequestTrace } from './request.ts';

/** Starts the request's trace when telemetry is on (after `requestId` and `gatewayContext`). */
export function tracing(): MiddlewareHandler<AppEnv> {
  return async function tracing(c, next) {
    const telemetry = c.get('deps').telemetry;
    if (telemetry) {
      c.set(
        'trace',
        new RequestTrace(telemetry, c.req.raw.headers, {
          method: c.req.method,
          path: c.req.path,
          requestId: c.get('requestId'),
        }),
      );
    }
    await next();
  };
}

export function requestTrace(c: Context<AppEnv>): RequestTrace | undefined {
  return c.get('trace');
}

/** Ends the request's trace (called once, where the request log line is written) and sends
 * its spans after the response. */
export function endRequestTrace(c: Context<AppEnv>, ending: RequestEnding): void {
  const trace = c.get('trace');
  if (!trace) return;
  trace.end(ending);
  waitUntil(c, trace.telemetry.afterRequest());
}
