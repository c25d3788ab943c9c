/**
 * The load-aware scheduler's choice, as a pure function of the candidates' state. Modelled on
 * the endpoint pickers of llm-d and the Gateway API Inference Extension (filters, then a
 * weighted sum of scorers, then the best score):
 *
 * 1. bounded load: drop endpoints whose load exceeds max(min + slack, mean × factor), so prefix
 *    affinity cannot pile requests onto one endpoint while others idle;
 * 2. score = w.prefix × (leading prompt blocks the endpoint likely has cached / prompt blocks)
 *          + w.queue  × (max − load) / (max − min)     (1 for all when loads are equal)
 *          + w.kv     × (1 − KV cache usage)           (unknown usage counts as the mean);
 * 3. the highest score wins; ties go to the lower load, then to `random`.
 */
import type { LoadEstimate } from './load.ts';

export interface Weights {
  prefix: number;
  queue: number;
  kv: number;
}

export interface LoadBound {
  factor: number;
  slack: number;
}

export interface Candidate {
  id: string;
  estimate: LoadEstimate;
  /** Leading blocks of the prompt this endpoint likely holds. */
  prefixBlocks: number;
}

export interface Scored {
  id: string;
  score: number;
  prefix: number;
  queue: number;
  kv: number;
}

/** Candidates inside the load bound (never empty when `candidates` is not). */
export function withinLoadBound(candidates: readonly Candidate[], bound: LoadBound): Candidate[] {
  if (candidates.length === 0) return [];
  const loads = candidates.map((c) => c.estimate.load);
  const min = Math.min(...loads);
  const mean = loads.reduce((a, b) => a + b, 0) / loads.length;
  const limit = Math.max(min + bound.slack, mean * bound.factor);
  return candidates.filter((c) => c.estimate.load <= limit);
}

export function scoreCandidates(
  candidates: readonly Candidate[],
  promptBlocks: number,
  weights: Weights,
): Scored[] {
  const loads = candidates.map((c) => c.estimate.load);
  const min = Math.min(...loads);
  const max = Math.max(...loads);
  const known = candidates
    .map((c) => c.estimate.kvUsage)
    .filter((k): k is number => k !== undefined);
  const meanKv = known.length > 0 ? known.reduce((a, b) => a + b, 0) / known.length : 0;
  return candidates.map((c) => {
    const prefix = promptBlocks > 0 ? Math.min(1, c.prefixBlocks / promptBlocks) : 0;
    const queue = max === min ? 1 : (max - c.estimate.load) / (max - min);
    const kv = 1 - Math.min(1, Math.max(0, c.estimate.kvUsage ?? meanKv));
    return {
      id: c.id,
      prefix,
      queue,
      kv,
      score: weights.prefix * prefix + weights.queue * queue + weights.kv * kv,
    };
  });
}

export function choose(
  candidates: readonly Candidate[],
  promptBlocks: number,
  cfg: { weights: Weights; loadBound: LoadBound },
  random: () => number = Math.random,
): string | undefined {
  const eligible = withinLoadBound(candidates, cfg.loadBound);
  if (eligible.length === 0) return undefined;
  const scored = scoreCandidates(eligible, promptBlocks, cfg.weights);
  const load = new Map(eligible.map((c) => [c.id, c.estimate.load]));
  let best: Scored[] = [];
  for (const s of scored) {
    const top = best[0];
    const EPS = 1e-9;
    if (!top || s.score > top.score + EPS) best = [s];
    else if (Math.abs(s.score - top.score) <= EPS) {
      const dl = load.get(s.id)! - load.get(top.id)!;
      if (dl < 0) best = [s];
      else if (dl === 0) best.push(s);
    }
  }
  return best[Math.floor(random() * best.length)]?.id;
}
