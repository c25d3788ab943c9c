/**
 * Limits and budgets. Contract: `admit(c, request)` runs before any upstream call and either
 * throws (429 `rate_limit_exceeded` / `budget_exceeded`, 503 when Redis is down and
 * `limits.failMode` is `closed`) or returns an Admission whose `settle()` must be called once
 * when the request is over: it corrects the token reservation with the real usage (a
 * negative-rate refund), replaces the budget reservation with the real cost, and adds the
 * usage counters, all through `waitUntil`, batched per isolate (`writeBehind`: written a
 * few ms later, together with other requests' settlements, in one Redis request).
 */
import type { Context } from 'hono';
import type { KeyRecord } from '../auth/index.ts';
import type { GatewayConfig, ModelConfig } from '../config/index.ts';
import { type AppEnv, waitUntil } from '../context.ts';
import { errors } from '../errors.ts';
import { annotateRequestLog } from '../observability/index.ts';
import type { Endpoint } from '../schemas/openai.ts';
import { writeBehind } from '../store/index.ts';
import { periods, recordUsage } from '../usage/counters.ts';
import { estimatePromptTokens, type Usage } from '../usage/index.ts';
import { costNanos, maxCostNanos, priceFor } from '../usage/pricing.ts';
import { budgetKeys, reserveBudget, settleBudget } from './budget.ts';
import { type LimitState, rateLimitHeaders, retryAfterSeconds } from './headers.ts';
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

export async function admit(c: Context<AppEnv>, request: AdmissionRequest): Promise<Admission> {
  const { deps, apiKey: key, requestId } = c.var;
  const { redis, redisBackground, config } = deps;
  const { body, model, endpoint } = request;
  const at = new Date();
  const promptTokens = estimatePromptTokens(body);
  const completionReserve =
    endpoint === 'embeddings'
      ? 0
      : completionTokensReserved(body, config.limits.defaultCompletionReserve);
  const reserveTokens = promptTokens + completionReserve;
  const budget = key ? budgetKeys(key.id, periods(at).month) : undefined;

  let tokensReserved = 0;
  if (key && redis) {
    const { requestsPerMinute: rpm, tokensPerMinute: tpm } = keyLimits(key, config.limits);
    const budgetNanos =
      key.budget.monthlyUsd === null ? null : Math.round(key.budget.monthlyUsd * 1e9);
    const worstCost = maxCostNanos(
      model.targets.map((t) => priceFor(config.prices, t.provider, t.model)),
      promptTokens,
      completionReserve,
    );
    // The three checks run in parallel (one round trip of latency); whatever one of them
    // took is given back if another refuses the request.
    const [requests, tokens, reservation] = await Promise.all([
      rpm ? guard(c, () => requestLimiter(redis, rpm).limit(key.id)) : undefined,
      tpm
        ? guard(c, () => tokenLimiter(redis, tpm).limit(key.id, { rate: reserveTokens }))
        : undefined,
      budgetNanos !== null && budget
        ? guard(c, () =>
            reserveBudget(redis, budget, budgetNanos, worstCost, requestId, at.getTime()),
          )
        : undefined,
    ]);
    for (const [kind, result] of [
      ['requests', requests],
      ['tokens', tokens],
    ] as const) {
      if (!result) continue;
      waitUntil(c, result.pending);
      for (const [name, value] of Object.entries(rateLimitHeaders(kind, result as LimitState))) {
        c.header(name, value);
      }
    }
    if (tokens?.success) tokensReserved = reserveTokens;

    const refused =
      requests?.success === false || tokens?.success === false || reservation?.admitted === false;
    if (refused) {
      const writer = redisBackground ?? redis;
      if (tokensReserved && tpm) {
        waitUntil(c, tokenLimiter(writer, tpm).limit(key.id, { rate: -tokensReserved }));
      }
      if (reservation?.admitted && budget) waitUntil(c, settleBudget(writer, budget, requestId, 0));
      if (requests && !requests.success) {
        throw errors.rateLimited(
          'requests',
          retryAfterSeconds(requests.reset),
          `limit ${requests.limit}`,
        );
      }
      if (tokens && !tokens.success) {
        throw errors.rateLimited(
          'tokens',
          retryAfterSeconds(tokens.reset),
          `limit ${tokens.limit}, requested ${reserveTokens}`,
        );
      }
      throw errors.budgetExceeded();
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
        if (key && budget) work.push(settleBudget(redis, budget, requestId, nanos));
        if (key && tpm && tokensReserved) {
          // Negative rate = refund of what was reserved but not used. A positive difference
          // (the estimate was low) is charged too, as far as the bucket still holds tokens.
          const delta = usage.total_tokens - tokensReserved;
          if (delta !== 0) work.push(tokenLimiter(redis, tpm).limit(key.id, { rate: delta }));
        }
        return Promise.allSettled(work).then((results) => warnIfFailed(c, results));
      };
      waitUntil(c, writeBehind(redis, job));
    },
  };
}

/** max_completion_tokens, else max_tokens, else the configured reserve; times `n`. */
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

export function completionTokensReserved(body: Record<string, unknown>, fallback: number): number {
  const positive = (v: unknown) => (typeof v === 'number' && v > 0 ? v : undefined);
  const perChoice = positive(body.max_completion_tokens) ?? positive(body.max_tokens) ?? fallback;
  return perChoice * (positive(body.n) ?? 1);
}

/**
 * Runs a Redis-backed check. If Redis fails or times out: `failMode: open` lets the request
 * through, `closed` answers 503; either way one warning line per request says so.
 */
async function guard<T>(c: Context<AppEnv>, check: () => Promise<T>): Promise<T | undefined> {
  try {
    return await check();
  } catch (err) {
    const mode = c.var.deps.config.limits.failMode;
    if (!c.var.logRecord.limits) {
      annotateRequestLog(c, { limits: mode === 'open' ? 'failed_open' : 'failed_closed' });
      console.warn(
        JSON.stringify({
          level: 'warn',
          msg: `limits unavailable: failing ${mode}`,
          request_id: c.var.requestId,
          error: err instanceof Error ? err.name : 'unknown',
        }),
      );
    }
    if (mode === 'closed') throw errors.limitsUnavailable();
    return undefined;
  }
}

function warnIfFailed(c: Context<AppEnv>, results: PromiseSettledResult<unknown>[]): void {
  const failed = results.filter((r) => r.status === 'rejected').length;
  if (failed === 0) return;
  console.warn(
    JSON.stringify({
      level: 'warn',
      msg: 'usage settlement failed',
      request_id: c.var.requestId,
      failed,
    }),
  );
}
