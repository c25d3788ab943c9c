/**
 * What a fake does with requests outside `/s/<id>` (the ones `npm run dev` sends), shared by
 * every fake: the step they follow (default `{}`, success) and how many arrived per path, so a
 * person or a test can make a provider fail for a while and see who was asked, without
 * recording bodies forever. TEST FIXTURE. Control API (no auth, loopback only):
 * - `GET /__default`: `{step, requests, byRoute}`;
 * - `PUT /__default {step}`: every later default request follows `step` (e.g. `{"status": 529}`);
 *   `{}` or `DELETE /__default` restores success.
 */
export const DEFAULT_CONTROL_PATH = '/__default';

export class DefaultRoute<S extends object> {
  step = {} as S;
  /** By `METHOD path`, e.g. `POST /v1/chat/completions` (the cron probe's GETs apart). */
  readonly byRoute = new Map<string, number>();
  requests = 0;

  /** Counts one request and returns the step it follows. */
  take(method: string, path: string): S {
    const route = `${method} ${path}`;
    this.requests++;
    this.byRoute.set(route, (this.byRoute.get(route) ?? 0) + 1);
    return this.step;
  }

  /** Answers the control API; `body` is the parsed JSON body (or null). */
  control(method: string, body: unknown): { status: number; body: unknown } {
    if (method === 'PUT' || method === 'POST') {
      const step = (body as { step?: unknown } | null)?.step;
      if (typeof step !== 'object' || step === null || Array.isArray(step)) {
        return { status: 400, body: { error: 'send {"step": {...}}' } };
      }
      this.step = step as S;
    } else if (method === 'DELETE') {
      this.step = {} as S;
    } else if (method !== 'GET') {
      return { status: 405, body: { error: `${method} ${DEFAULT_CONTROL_PATH}` } };
    }
    return {
      status: 200,
      body: { step: this.step, requests: this.requests, byRoute: Object.fromEntries(this.byRoute) },
    };
  }
}
