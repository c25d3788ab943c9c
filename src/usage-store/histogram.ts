/**
 * Latency histograms kept in the rollups (sums of raw rows cannot give percentiles, sums of
 * histograms can). Bucket i counts values <= BOUNDS_MS[i]; the last counts the rest. A
 * percentile is read as the upper bound of the bucket it falls in. Pure.
 */
export const BOUNDS_MS = [
  1, 2, 5, 10, 20, 50, 100, 200, 500, 1_000, 2_000, 5_000, 10_000, 20_000, 60_000, 120_000,
] as const;

export function emptyHistogram(): number[] {
  return new Array<number>(BOUNDS_MS.length + 1).fill(0);
}

export function bucketOf(ms: number): number {
  const i = BOUNDS_MS.findIndex((bound) => ms <= bound);
  return i === -1 ? BOUNDS_MS.length : i;
}

export function addHistograms(a: readonly number[], b: readonly number[]): number[] {
  const out = emptyHistogram();
  for (let i = 0; i < out.length; i++) out[i] = (a[i] ?? 0) + (b[i] ?? 0);
  return out;
}

/** The value at quantile q (0..1): the upper bound of its bucket; null for no values. The
 * overflow bucket reads as the largest bound. */
export function quantile(histogram: readonly number[], q: number): number | null {
  const total = histogram.reduce((s, n) => s + n, 0);
  if (total === 0) return null;
  const rank = Math.max(1, Math.ceil(q * total));
  let seen = 0;
  for (let i = 0; i < histogram.length; i++) {
    seen += histogram[i] ?? 0;
    if (seen >= rank) return BOUNDS_MS[Math.min(i, BOUNDS_MS.length - 1)]!;
  }
  return BOUNDS_MS[BOUNDS_MS.length - 1]!;
}
