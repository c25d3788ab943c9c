import { describe, expect, it } from 'vitest';
import type { TargetConfig } from '../config/index.ts';
import { orderTargets } from './targets.ts';

const t = (provider: string, extra: Partial<TargetConfig> = {}): TargetConfig => ({
  provider,
  model: 'm',
  weight: 1,
  ...extra,
});

/** A small deterministic PRNG (mulberry32) so distributions are reproducible. */
function seeded(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let x = Math.imul(a ^ (a >>> 15), 1 | a);
    x = (x + Math.imul(x ^ (x >>> 7), 61 | x)) ^ x;
    return ((x ^ (x >>> 14)) >>> 0) / 4294967296;
  };
}

describe('orderTargets', () => {
  it('keeps the configured order as the fallback order by default', () => {
    const order = orderTargets([t('a'), t('b'), t('c')], seeded(1)).map((x) => x.provider);
    expect(order).toEqual(['a', 'b', 'c']);
  });

  it('puts lower priority first', () => {
    const order = orderTargets([t('a', { priority: 2 }), t('b', { priority: 1 })], seeded(1));
    expect(order.map((x) => x.provider)).toEqual(['b', 'a']);
  });

  it('load-balances equal priorities by weight, keeping the others as fallbacks', () => {
    const random = seeded(42);
    const targets = [
      t('a', { priority: 0, weight: 3 }),
      t('b', { priority: 0, weight: 1 }),
      t('c'),
    ];
    const first = { a: 0, b: 0, c: 0 };
    for (let i = 0; i < 4000; i++) {
      const order = orderTargets(targets, random);
      expect(order).toHaveLength(3);
      expect(order[2]!.provider).toBe('c');
      first[order[0]!.provider as 'a' | 'b']++;
    }
    expect(first.c).toBe(0);
    expect(first.a / 4000).toBeGreaterThan(0.7);
    expect(first.a / 4000).toBeLessThan(0.8);
  });
});
