/**
 * Limits and budgets. Contract: `admit(deps, facts, request, edge)` runs before any upstream
 * call and either throws (429 `rate_limit_exceeded` / `budget_exceeded`; 503
 * `limits_unavailable` when Redis cannot be reached and `limits.failMode` is `closed`, or the
 * key's fail-open allowance (`limits.failOpen`, ./fail-open.ts) is spent; 500 when Redis
 * answers a check with an error) or returns an Admission whose `settle()` must be called once
 * when the request is over: it corrects the token reservation with the real usage (a
 * negative-rate refund), replaces the budget reservation with the real cost, and adds the
 * usage counters, all through `waitUntil`, batched per isolate (`writeBehind`: written a
 * few ms later, together with other requests' settlements, in one Redis request).
 */
import { errors as redisErrors } from '@upstash/redis/cloudflare';
import type { KeyRecord } from '../auth/index.ts';
import type { GatewayConfig, ModelConfig } from '../config/index.ts';
import type { Edge, GatewayDeps, RequestFacts } from '../context.ts';
import { errors, type GatewayError } from '../errors.ts';
import type { Endpoint } from '../schemas/openai.ts';
import { perClient, type Redis, writeBehind } from '../store/index.ts';
import { periods, recordUsage } from '../usage/counters.ts';
import { estimatePromptTokens, type Usage } from '../usage/index.ts';
import { costNanos, maxCostNanos, priceFor } from '../usage/pricing.ts';
import {
  budgetKeys,
  newReservationId,
  redisInteger,
  reserveBudget,
  settleBudget,
} from './budget.ts';
import { FailOpenAllowance } from './fail-open.ts';
import { rateLimitHeaders, retryAfterSeconds } from './headers.ts';
import { requestLimiter, tokenLimiter } from './ratelimit.ts';

export interface AdmissionRequest {
  endpoint: Endpoint;
  body: Record<string, unknown>;
  model: ModelConfig;
  /** Answered from the cache: tokens/min and budget apply only with `cache.chargeHits`. */
  cacheHit?: boolean;
}

export interface Settlement {
  usage: Usage | undefined;
  provider?: string;
  upstreamModel?: string;
}

export interface Admission {
  /** Cost in nano-USD of `usage` at the target that served it. */
  cost(settlement: Settlement): number;
  /** Charges the real usage. Idempotent: only the first call counts. */
  settle(settlement: Settlement): void;
}

/** The admit stage of the request path (src/proxy). */
export async function admit(
  deps: Pick<GatewayDeps, 'config' | 'redis' | 'redisBackground'>,
  facts: Pick<RequestFacts, 'key' | 'requestId'>,
  request: AdmissionRequest,
  edge: Pick<Edge, 'note' | 'header' | 'waitUntil'>,
): Promise<Admission> {
  const { redis, redisBackground, config } = deps;
  const { key, requestId } = facts;
  const { body, model, endpoint } = request;
  const at = new Date();
  // A cache hit costs nothing upstream: tokens/min and budget see it only with chargeHits.
  const charged = !request.cacheHit || config.cache.chargeHits;
  const promptTokens = estimatePromptTokens(body);
  const completionReserve =
    endpoint === 'embeddings'
      ? 0
      : completionTokensReserved(body, config.limits.defaultCompletionReserve, model);
  const reserveTokens = redisInteger(promptTokens + completionReserve);
  const budget = key ? budgetKeys(key.id, periods(at).month) : undefined;
  const reservationId = newReservationId();

  let tokensReserved = 0;
  /** The budget reserve's answer never came: it may still run, so releases leave a tombstone. */
  let reserveUncertain = false;
  if (key && redis) {
    const { requestsPerMinute: rpm, tokensPerMinute: tpm } = keyLimits(key, config.limits);
    // An uncharged hit asks the bucket for nothing (rate 0): it gets the headers, never a 429.
    const tokenRate = charged ? reserveTokens : 0;
    const budgetNanos =
      charged && key.budget.monthlyUsd !== null ? redisInteger(key.budget.monthlyUsd * 1e9) : null;
    const worstCost = redisInteger(
      maxCostNanos(
        model.targets.map((t) => priceFor(config.prices, t.provider, t.model)),
        promptTokens,
        completionReserve,
      ),
    );
    // A bucket can never hold more than tpm tokens: waiting would not help.
    if (tpm && tokenRate > tpm) throw errors.exceedsTokenLimit(tpm, tokenRate);
    // The three checks run in parallel (one round trip of latency); whatever one of them
    // took is given back if another refuses the request.
    const [requests, tokens, reservation] = await Promise.all([
      rpm ? ask(() => requestLimiter(redis, rpm).limit(key.id)) : undefined,
      tpm ? ask(() => tokenLimiter(redis, tpm).limit(key.id, { rate: tokenRate })) : undefined,
      budgetNanos !== null && budget
        ? ask(() =>
            reserveBudget(redis, budget, budgetNanos, worstCost, reservationId, at.getTime()),
          )
        : undefined,
    ]);
    reserveUncertain = reservation?.outcome === 'unreachable';
    for (const [kind, answer] of [
      ['requests', requests],
      ['tokens', tokens],
    ] as const) {
      if (answer?.outcome !== 'answered') continue;
      edge.waitUntil(answer.value.pending);
      for (const [name, value] of Object.entries(rateLimitHeaders(kind, answer.value))) {
        edge.header(name, value);
      }
    }
    if (tokens?.outcome === 'answered' && tokens.value.success) tokensReserved = tokenRate;

    const giveBack = () => {
      const writer = redisBackground ?? redis;
      if (tokensReserved && tpm) {
        edge.waitUntil(tokenLimiter(writer, tpm).limit(key.id, { rate: -tokensReserved }));
      }
      const held = reservation?.outcome === 'answered' && reservation.value.admitted;
      if (budget && (held || reserveUncertain)) {
        edge.waitUntil(settleBudget(writer, budget, reservationId, 0, reserveUncertain));
      }
    };
    const answers = [requests, tokens, reservation];
    const broken = answers.find((a) => a?.outcome === 'failed');
    if (broken?.outcome === 'failed') {
      giveBack();
      throw limitsBroken(edge, requestId, broken.error);
    }
    // A definite refusal from a check that answered wins over one that could not be asked.
    const refusedBy = (a: Answer<{ success: boolean }> | undefined) =>
      a?.outcome === 'answered' && !a.value.success;
    if (
      refusedBy(requests) ||
      refusedBy(tokens) ||
      (reservation?.outcome === 'answered' && !reservation.value.admitted)
    ) {
      giveBack();
      if (requests?.outcome === 'answered' && refusedBy(requests)) {
        throw errors.rateLimited(
          'requests',
          retryAfterSeconds(requests.value.reset),
          `limit ${requests.value.limit}`,
        );
      }
      if (tokens?.outcome === 'answered' && refusedBy(tokens)) {
        throw errors.rateLimited(
          'tokens',
          retryAfterSeconds(tokens.value.reset),
          `limit ${tokens.value.limit}, requested ${reserveTokens}`,
        );
      }
      throw errors.budgetExceeded();
    }

    if (answers.some((a) => a?.outcome === 'unreachable')) {
      const mode = config.limits.failMode;
      const allowed = mode === 'open' && failOpenAllowance(redis, config).take(key.id, worstCost);
      noteUnreachable(edge, requestId, allowed ? 'failed_open' : 'failed_closed', answers);
      if (!allowed) {
        giveBack();
        throw errors.limitsUnavailable();
      }
    }
  }

  const cost = (s: Settlement) =>
    s.usage && s.provider && s.upstreamModel
      ? costNanos(s.usage, priceFor(config.prices, s.provider, s.upstreamModel))
      : 0;
  let settled = false;

  return {
    cost,
    settle(settlement) {
      const redis = redisBackground;
      if (settled || !redis) return;
      settled = true;
      const usage = settlement.usage ?? {
        prompt_tokens: 0,
        completion_tokens: 0,
        total_tokens: 0,
        source: 'estimated',
      };
      const nanos = cost(settlement);
      const tpm = tokensReserved && key ? keyLimits(key, config.limits).tokensPerMinute : undefined;
      // Batched with the settlements of other requests in this isolate (one Redis request
      // per few ms, see writeBehind); the counters go first, so once the spend shows, so
      // does the usage.
      const job = () => {
        const work: Promise<unknown>[] = [
          recordUsage(redis, {
            keyId: key?.id,
            tenant: key?.tenant,
            model: String(body.model),
            usage,
            costNanos: nanos,
            at,
          }),
        ];
        if (key && budget) {
          work.push(settleBudget(redis, budget, reservationId, nanos, reserveUncertain));
        }
        if (key && tpm && tokensReserved) {
          // Negative rate = refund of what was reserved but not used. A positive difference
          // (the estimate was low) is charged too, as far as the bucket still holds tokens.
          const delta = redisInteger(usage.total_tokens - tokensReserved);
          if (delta !== 0) work.push(tokenLimiter(redis, tpm).limit(key.id, { rate: delta }));
        }
        return Promise.allSettled(work).then((results) => warnIfFailed(requestId, results));
      };
      edge.waitUntil(writeBehind(redis, job));
    },
  };
}

/** A key's own limits, or the config's `limits.keyDefaults` where it has none. Pure. */
export function keyLimits(
  key: Pick<KeyRecord, 'limits'>,
  config: Pick<GatewayConfig['limits'], 'keyDefaults'>,
): { requestsPerMinute: number | null; tokensPerMinute: number | null } {
  return {
    requestsPerMinute: key.limits.requestsPerMinute ?? config.keyDefaults.requestsPerMinute,
    tokensPerMinute: key.limits.tokensPerMinute ?? config.keyDefaults.tokensPerMinute,
  };
}

/** max_completion_tokens, else max_tokens, else the configured reserve, at most the model's
 * output limit; times `n`. */
export function completionTokensReserved(
  body: Record<string, unknown>,
  fallback: number,
  model: Pick<ModelConfig, 'maxOutputTokens'>,
): number {
  const positive = (v: unknown) => (typeof v === 'number' && v > 0 ? v : undefined);
  const perChoice = positive(body.max_completion_tokens) ?? positive(body.max_tokens) ?? fallback;
  const choices = Math.min(Math.ceil(positive(body.n) ?? 1), 128);
  return Math.ceil(Math.min(perChoice, model.maxOutputTokens)) * choices;
}

/**
 * How one Redis check ended. `unreachable`: a timeout or a failed connection, the only
 * failures that fail open or closed. `failed`: Redis answered with an error (a script error,
 * a wrong type): a bug, never taken for an outage.
 */
type Answer<T> =
  | { outcome: 'answered'; value: T }
  | { outcome: 'unreachable'; error: unknown }
  | { outcome: 'failed'; error: unknown };

async function ask<T>(check: () => Promise<T>): Promise<Answer<T>> {
  try {
    return { outcome: 'answered', value: await check() };
  } catch (error) {
    return { outcome: isRedisReply(error) ? 'failed' : 'unreachable', error };
  }
}

/** An error Redis itself answered (the client got a reply that says so), as opposed to no
 * reply at all (fetch threw: timeout, abort, refused or reset connection) or one that is
 * not the REST protocol's JSON. */
function isRedisReply(error: unknown): boolean {
  return (
    error instanceof redisErrors.UpstashError &&
    !(error instanceof redisErrors.UpstashJSONParseError)
  );
}

function failOpenAllowance(redis: Redis, config: GatewayConfig): FailOpenAllowance {
  return perClient(redis, 'fail-open', () => new FailOpenAllowance(config.limits.failOpen));
}

/** One warning line per request when Redis could not be asked. */
function noteUnreachable(
  edge: Pick<Edge, 'note'>,
  requestId: string,
  limits: 'failed_open' | 'failed_closed',
  answers: (Answer<unknown> | undefined)[],
): void {
  edge.note({ limits });
  const failed = answers.find((a) => a?.outcome === 'unreachable');
  const error = failed && 'error' in failed ? failed.error : undefined;
  console.warn(
    JSON.stringify({
      level: 'warn',
      msg: `limits unavailable: failing ${limits === 'failed_open' ? 'open' : 'closed'}`,
      request_id: requestId,
      error: error instanceof Error ? error.name : 'unknown',
    }),
  );
}

/** Redis answered a limit check with an error: log it and refuse the request (500). */
function limitsBroken(edge: Pick<Edge, 'note'>, requestId: string, error: unknown): GatewayError {
  edge.note({ limits: 'error' });
  console.error(
    JSON.stringify({
      level: 'error',
      msg: 'limit check failed',
      request_id: requestId,
      error: error instanceof Error ? error.message.slice(0, 300) : 'unknown',
    }),
  );
  return errors.internal();
}

function warnIfFailed(requestId: string, results: PromiseSettledResult<unknown>[]): void {
  const failed = results.filter((r) => r.status === 'rejected').length;
  if (failed === 0) return;
  console.warn(
    JSON.stringify({
      level: 'warn',
      msg: 'usage settlement failed',
      request_id: requestId,
      failed,
    }),
  );
}
