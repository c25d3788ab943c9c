import { errors, GatewayError } from '../errors.ts';
import type { PlannedTarget } from '../routing/plan.ts';
import type { AttemptFailure, AttemptResult, AttemptSuccess } from './attempt.ts';
import { retryDelayMs } from './retry-policy.ts';

export type { PlannedTarget };

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
