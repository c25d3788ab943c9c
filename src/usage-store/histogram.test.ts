import { describe, expect, it } from 'vitest';
import { addHistograms, BOUNDS_MS, bucketOf, emptyHistogram, quantile } from './histogram.ts';

describe('latency histograms', () => {
  it('bucket by upper bound, the rest in the overflow bucket', () => {
    expect(bucketOf(0)).toBe(0);
    expect(bucketOf(1)).toBe(0);
    expect(bucketOf(2)).toBe(1);
    expect(bucketOf(101)).toBe(BOUNDS_MS.indexOf(200));
    expect(bucketOf(10_000_000)).toBe(BOUNDS_MS.length);
  });

  it('percentiles read the upper bound of the bucket they fall in', () => {
    const h = emptyHistogram();
    for (let ms = 1; ms <= 100; ms++) h[bucketOf(ms)]! += 1; // 1..100 ms
    expect(quantile(h, 0.5)).toBe(50);
    expect(quantile(h, 0.95)).toBe(100);
    expect(quantile(emptyHistogram(), 0.5)).toBeNull();
  });

  it('summed histograms give the percentiles of the union', () => {
    const fast = emptyHistogram();
    const slow = emptyHistogram();
    for (let i = 0; i < 90; i++) fast[bucketOf(8)]! += 1;
    for (let i = 0; i < 10; i++) slow[bucketOf(1_500)]! += 1;
    const all = addHistograms(fast, slow);
    expect(quantile(all, 0.5)).toBe(10);
    expect(quantile(all, 0.95)).toBe(2_000);
  });
});
