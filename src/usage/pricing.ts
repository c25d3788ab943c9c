import type { Price } from '../config/index.ts';
import type { Usage } from './index.ts';

/**
 * Cost accounting in integer nano-dollars (1e-9 USD): exact to add in Redis (HINCRBY) and
 * fine enough that a 10-token request at $0.15 per million tokens still costs something.
 * Pure functions.
 */

/** Nano-dollars per token for a $/million-tokens price: $/MTok * 1e9 / 1e6. */
const NANOS_PER_TOKEN_PER_USD_PER_MTOK = 1_000;

/** The price of `model` at `provider`: `provider/model` first, then `model`. */
export function priceFor(
  prices: Record<string, Price>,
  provider: string,
  model: string,
): Price | undefined {
  return prices[`${provider}/${model}`] ?? prices[model];
}

/** Cost of a finished request. Cached prompt tokens are billed at the cached price. */
export function costNanos(usage: Usage, price: Price | undefined): number {
  if (!price) return 0;
  const cached = Math.min(usage.cached_tokens ?? 0, usage.prompt_tokens);
  const cachedPrice = price.cachedInputPerMTok ?? price.inputPerMTok;
  const usd =
    (usage.prompt_tokens - cached) * price.inputPerMTok +
    cached * cachedPrice +
    usage.completion_tokens * price.outputPerMTok;
  return Math.round(usd * NANOS_PER_TOKEN_PER_USD_PER_MTOK);
}

/** The most a request could cost: its token reservation at the dearest of its targets. */
export function maxCostNanos(
  prices: readonly (Price | undefined)[],
  promptTokens: number,
  completionTokens: number,
): number {
  let worst = 0;
  for (const price of prices) {
    if (!price) continue;
    const usd = promptTokens * price.inputPerMTok + completionTokens * price.outputPerMTok;
    worst = Math.max(worst, Math.round(usd * NANOS_PER_TOKEN_PER_USD_PER_MTOK));
  }
  return worst;
}

/** `0.000123` — at most 9 decimals, no trailing zeros. */
export function formatUsd(nanos: number): string {
  return (nanos / 1e9).toFixed(9).replace(/\.?0+$/, '') || '0';
}
