import type { TargetConfig } from '../config/index.ts';
import type { Edge, GatewayDeps } from '../context.ts';
import { errors, GatewayError } from '../errors.ts';
import type { Provider, RequestMeta } from '../providers/index.ts';
import { tripsCircuit } from '../routing/index.ts';
import type { PlannedTarget } from '../routing/plan.ts';
import type { AttemptSpan, RequestTrace } from '../telemetry/index.ts';
import {
  type AttemptFailure,
  type AttemptResult,
  type AttemptSuccess,
  attemptUpstream,
} from './attempt.ts';
import { type NativeExchange, nativeFor } from './native.ts';
import { type ProxyRequest, upstreamBody } from './request.ts';
import { retryDelayMs } from './retry-policy.ts';

export type { PlannedTarget };

/** What the dispatch stage hands the answer stage: the attempt that served, and how. */
export interface Served {
  value: AttemptSuccess;
  provider: Provider;
  target: TargetConfig;
  /** The span of the attempt that served (telemetry on). */
  span: AttemptSpan | undefined;
  /** Served in the client's own format (./native.ts): its answer goes back untouched. */
  asIs: NativeExchange | undefined;
}

/**
 * The dispatch stage of the request path: the request to the planned targets (`dispatch`:
 * retries, fallback), one trace span per attempt, failures that say a target is unwell
 * counted toward its circuit; who served (or failed last) and after how many attempts goes
 * to the response headers and the log line. Throws DispatchError when every target failed.
 */
export async function dispatchRequest(
  input: {
    plan: readonly PlannedTarget[];
    request: ProxyRequest;
    stream: boolean;
    meta: RequestMeta;
    signal: AbortSignal;
    trace: RequestTrace | undefined;
  },
  deps: Pick<GatewayDeps, 'health' | 'random'>,
  edge: Pick<Edge, 'note' | 'header' | 'waitUntil'>,
): Promise<Served> {
  const { plan, request, stream, meta, signal, trace } = input;
  const { endpoint, body, native } = request;
  let span: AttemptSpan | undefined;
  let attemptNo = 0;
  let outcome: DispatchOutcome;
  try {
    outcome = await dispatch(
      plan,
      async ({ provider, target }) => {
        const asIs = nativeFor(provider, native);
        const sent = upstreamBody(body, target.model, stream, provider.streamUsage);
        const upstream = asIs
          ? provider.native!.buildRequest({ ...asIs.body, model: target.model }, asIs.headers)
          : await provider.buildRequest(endpoint, sent, meta);
        const attemptSpan = trace?.attempt({
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
        if (attemptSpan) upstream.headers.set('traceparent', attemptSpan.traceparent);
        const result = await attemptUpstream(provider, upstream, stream, signal, !asIs);
        if (attemptSpan && !result.ok) attemptSpan.failed(result.failure);
        else if (attemptSpan && result.ok) {
          if (result.value.kind !== 'json') attemptSpan.firstByte();
          span = attemptSpan;
        }
        return result;
      },
      { random: deps.random, signal },
    );
  } catch (err) {
    if (!(err instanceof DispatchError)) throw err;
    recordHealth(deps.health, trace, plan, err.failures, edge);
    if (err.last) edge.header('x-gateway-provider', err.last.provider.id);
    edge.header('x-gateway-attempts', String(err.attempts));
    edge.note({
      provider: err.last?.provider.id,
      upstream_model: err.last?.target.model,
      attempts: err.attempts,
      failures: err.failures.map((f) => f.message),
    });
    throw err;
  }

  const { value, attempts, failures } = outcome;
  const { provider, target } = outcome.served;
  recordHealth(deps.health, trace, plan, failures, edge);
  const region = provider.region ?? 'global';
  edge.header('x-gateway-provider', provider.id);
  edge.header('x-gateway-region', region);
  edge.header('x-gateway-attempts', String(attempts));
  edge.note({ provider: provider.id, region, upstream_model: target.model, attempts });
  if (failures.length > 0) edge.note({ failures: failures.map((f) => f.message) });
  const asIs = nativeFor(provider, native);
  if (native) edge.note({ native: asIs ? 'pass-through' : 'translated' });
  return { value, provider, target, span, asIs };
}

/** Failures that say a target is unwell count toward opening its circuit (shared via Redis). */
function recordHealth(
  health: GatewayDeps['health'],
  trace: RequestTrace | undefined,
  plan: readonly PlannedTarget[],
  failures: readonly AttemptFailure[],
  edge: Pick<Edge, 'waitUntil'>,
): void {
  for (const failure of failures) {
    const planned = plan.find((p) => p.provider.id === failure.provider);
    if (planned && tripsCircuit(failure, planned.provider.kind)) {
      const id = planned.provider.id;
      const opened = health.recordFailure(id);
      edge.waitUntil(opened.then((yes) => yes && trace?.circuitOpened(id)));
    }
  }
}

export interface DispatchOutcome {
  value: AttemptSuccess;
  served: PlannedTarget;
  attempts: number;
  failures: AttemptFailure[];
}

export interface DispatchOptions {
  random?: () => number;
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
  signal?: AbortSignal;
}

/** Thrown when dispatch gives up; carries what happened for the request log. */
export class DispatchError extends Error {
  override name = 'DispatchError';
  readonly error: GatewayError;
  readonly attempts: number;
  readonly failures: AttemptFailure[];
  readonly last: PlannedTarget | undefined;

  constructor(
    error: GatewayError,
    attempts: number,
    failures: AttemptFailure[],
    last: PlannedTarget | undefined,
  ) {
    super(error.message);
    this.error = error;
    this.attempts = attempts;
    this.failures = failures;
    this.last = last;
  }
}

/**
 * Tries the planned targets in order: each up to its `retry.maxAttempts`, with backoff between
 * attempts, falling back to the next target when retries run out or the failure says another
 * target may do better. Nothing has been sent to the client while this runs, which is what
 * makes retrying safe.
 */
export async function dispatch(
  plan: readonly PlannedTarget[],
  attempt: (planned: PlannedTarget) => Promise<AttemptResult>,
  options: DispatchOptions = {},
): Promise<DispatchOutcome> {
  const { random = Math.random, sleep = abortableSleep, signal } = options;
  const failures: AttemptFailure[] = [];
  let attempts = 0;
  let last: PlannedTarget | undefined;

  for (const planned of plan) {
    last = planned;
    const policy = planned.provider.retry;
    for (let n = 1; n <= policy.maxAttempts; n++) {
      attempts++;
      const result = await attempt(planned);
      if (result.ok) return { value: result.value, served: planned, attempts, failures };
      const failure = { ...result.failure, provider: planned.provider.id };
      failures.push(failure);
      if (failure.action === 'reject') {
        throw new DispatchError(rejectionError(failure), attempts, failures, planned);
      }
      if (failure.action === 'fallback' || n === policy.maxAttempts) break;
      const delay = retryDelayMs(n, policy, failure.retryAfterMs, random);
      if (delay === undefined) break;
      await sleep(delay, signal);
      if (signal?.aborted) {
        // The client left during the backoff: the same outcome as leaving during an attempt.
        failures.push({
          reason: 'client_abort',
          action: 'reject',
          message: 'client disconnected',
          provider: planned.provider.id,
        });
        throw new DispatchError(errors.clientClosed(), attempts, failures, planned);
      }
    }
  }
  throw new DispatchError(exhaustedError(failures), attempts, failures, last);
}

/** The upstream refused the request itself: hand its error back with its status. */
function rejectionError(failure: AttemptFailure): GatewayError {
  if (failure.reason === 'client_abort') return errors.clientClosed();
  const status = failure.status ?? 400;
  const upstream = failure.upstreamError;
  return new GatewayError(
    status,
    upstream?.message ?? `The upstream provider answered ${status}.`,
    {
      type: upstream?.type ?? 'invalid_request_error',
      code: upstream?.code ?? null,
      param: upstream?.param ?? null,
    },
  );
}

/**
 * Every target failed: 504 when the last failure was a timeout, 503 (with the shortest
 * `retry-after` seen) when every failure was the upstream saying it is busy (429/503),
 * 502 otherwise.
 */
export function exhaustedError(failures: readonly AttemptFailure[]): GatewayError {
  const lastFailure = failures.at(-1);
  if (lastFailure?.reason === 'timeout') return errors.upstreamTimeout();
  const busy = failures.length > 0 && failures.every((f) => f.status === 429 || f.status === 503);
  if (busy) {
    const waits = failures.map((f) => f.retryAfterMs).filter((ms) => ms !== undefined);
    const seconds = waits.length > 0 ? Math.max(1, Math.ceil(Math.min(...waits) / 1000)) : 1;
    return errors.upstreamUnavailable(seconds);
  }
  return errors.upstreamFailed();
}

function abortableSleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (ms <= 0 || signal?.aborted) return resolve();
    const timer = setTimeout(done, ms);
    signal?.addEventListener('abort', done, { once: true });
    function done() {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    }
  });
}
