import { describe, expect, it } from 'vitest';
import { costNanos, formatUsd, maxCostNanos, priceFor } from './pricing.ts';

const price = { inputPerMTok: 0.15, outputPerMTok: 0.6, cachedInputPerMTok: 0.075 };
const usage = (p: number, c: number, cached?: number) => ({
  prompt_tokens: p,
  completion_tokens: c,
  total_tokens: p + c,
  ...(cached !== undefined ? { cached_tokens: cached } : {}),
  source: 'upstream' as const,
});

describe('pricing', () => {
  it('prefers a provider-specific price', () => {
    const prices = {
      'gpt-4o-mini': price,
      'azure/gpt-4o-mini': { inputPerMTok: 1, outputPerMTok: 2 },
    };
    expect(priceFor(prices, 'azure', 'gpt-4o-mini')!.inputPerMTok).toBe(1);
    expect(priceFor(prices, 'openai', 'gpt-4o-mini')).toBe(price);
    expect(priceFor(prices, 'openai', 'other')).toBeUndefined();
  });

  it('bills prompt, cached prompt and completion tokens at their prices, in nano-dollars', () => {
    // 1000 prompt (400 cached) + 500 completion:
    // 600*0.15 + 400*0.075 + 500*0.6 = 90 + 30 + 300 = 420 micro-dollars = 420 000 nanos
    expect(costNanos(usage(1000, 500, 400), price)).toBe(420_000);
    expect(costNanos(usage(10, 0), price)).toBe(1_500);
    expect(costNanos(usage(10, 10), undefined)).toBe(0);
  });

  it('charges cached tokens at the input price when no cached price is known', () => {
    expect(costNanos(usage(100, 0, 100), { inputPerMTok: 1, outputPerMTok: 0 })).toBe(100_000);
  });

  it('takes the dearest target for a reservation', () => {
    const cheap = { inputPerMTok: 1, outputPerMTok: 1 };
    const dear = { inputPerMTok: 10, outputPerMTok: 30 };
    expect(maxCostNanos([cheap, undefined, dear], 100, 10)).toBe((100 * 10 + 10 * 30) * 1000);
    expect(maxCostNanos([undefined], 100, 10)).toBe(0);
  });

  it('formats USD', () => {
    expect(formatUsd(420_000)).toBe('0.00042');
    expect(formatUsd(0)).toBe('0');
    expect(formatUsd(2_500_000_000)).toBe('2.5');
  });
});
