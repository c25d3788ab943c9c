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

  it('bills cache writes at the write price, 1-hour writes at theirs, reads at the read price', () => {
    const claude = {
      inputPerMTok: 3,
      outputPerMTok: 15,
      cachedInputPerMTok: 0.3,
      cacheWriteInputPerMTok: 3.75,
      cacheWrite1hInputPerMTok: 6,
    };
    // 1000 prompt = 100 plain + 500 read + 400 written (of which 100 with a 1-hour lifetime)
    const u = {
      ...usage(1000, 10, 500),
      cache_write_tokens: 400,
      cache_write_1h_tokens: 100,
    };
    // 100*3 + 500*0.3 + 300*3.75 + 100*6 + 10*15 = 300 + 150 + 1125 + 600 + 150 = 2325 micro-$
    expect(costNanos(u, claude)).toBe(2_325_000);
    // no 1-hour price: those writes at the 5-minute write price
    const { cacheWrite1hInputPerMTok: _, ...no1h } = claude;
    expect(costNanos(u, no1h)).toBe(2_325_000 - 100 * (6 - 3.75) * 1000);
    // no write price known: writes at the input price, as before
    expect(costNanos(u, { inputPerMTok: 3, outputPerMTok: 15, cachedInputPerMTok: 0.3 })).toBe(
      (500 * 3 + 500 * 0.3 + 10 * 15) * 1000,
    );
  });

  it('never bills more prompt tokens than the prompt had', () => {
    const p = {
      inputPerMTok: 1,
      outputPerMTok: 0,
      cachedInputPerMTok: 1,
      cacheWriteInputPerMTok: 2,
    };
    const u = { ...usage(100, 0, 80), cache_write_tokens: 80 };
    // 80 read at 1, then only 20 tokens are left to be writes
    expect(costNanos(u, p)).toBe((80 * 1 + 20 * 2) * 1000);
  });

  it('reserves at the dearest prompt price (a cache write may cost more than input)', () => {
    const p = { inputPerMTok: 3, outputPerMTok: 15, cacheWrite1hInputPerMTok: 6 };
    expect(maxCostNanos([p], 100, 10)).toBe((100 * 6 + 10 * 15) * 1000);
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
