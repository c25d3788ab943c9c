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

/**
 * Cost of a finished request. Prompt tokens fall in four classes, each at its own price:
 * cache reads (`cachedInputPerMTok`), 5-minute cache writes (`cacheWriteInputPerMTok`), 1-hour
 * cache writes (`cacheWrite1hInputPerMTok`) and the rest (`inputPerMTok`). Counts are clamped
 * so a class never exceeds what is left of the prompt.
 */
export function costNanos(usage: Usage, price: Price | undefined): number {
  if (!price) return 0;
  let rest = usage.prompt_tokens;
  const take = (n: number | undefined) => {
    const t = Math.max(0, Math.min(n ?? 0, rest));
    rest -= t;
    return t;
  };
  const cached = take(usage.cached_tokens);
  const written = Math.min(usage.cache_write_tokens ?? 0, rest);
  const written1h = take(Math.min(usage.cache_write_1h_tokens ?? 0, written));
  const written5m = take(written - written1h);
  const writePrice = price.cacheWriteInputPerMTok ?? price.inputPerMTok;
  const usd =
    rest * price.inputPerMTok +
    cached * (price.cachedInputPerMTok ?? price.inputPerMTok) +
    written5m * writePrice +
    written1h * (price.cacheWrite1hInputPerMTok ?? writePrice) +
    usage.completion_tokens * price.outputPerMTok;
  return Math.round(usd * NANOS_PER_TOKEN_PER_USD_PER_MTOK);
}

/**
 * The most a request could cost: its token reservation at the dearest of its targets, every
 * prompt token at the dearest prompt price (a cache write can cost more than plain input).
 */
export function maxCostNanos(
  prices: readonly (Price | undefined)[],
  promptTokens: number,
  completionTokens: number,
): number {
  let worst = 0;
  for (const price of prices) {
    if (!price) continue;
    const promptPrice = Math.max(
      price.inputPerMTok,
      price.cacheWriteInputPerMTok ?? 0,
      price.cacheWrite1hInputPerMTok ?? 0,
    );
    const usd = promptTokens * promptPrice + completionTokens * price.outputPerMTok;
    worst = Math.max(worst, Math.round(usd * NANOS_PER_TOKEN_PER_USD_PER_MTOK));
  }
  return worst;
}

/** `0.000123` — at most 9 decimals, no trailing zeros. */
export function formatUsd(nanos: number): string {
  return (nanos / 1e9).toFixed(9).replace(/\.?0+$/, '') || '0';
}
