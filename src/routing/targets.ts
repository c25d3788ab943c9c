import type { TargetConfig } from '../config/index.ts';

/**
 * The order in which a model's targets are tried. Lower `priority` first (default: list
 * position, so the config list is the fallback order); targets that share a priority are
 * load-balanced: a weighted random order (Efraimidis–Spirakis keys, u^(1/w)), so a target
 * with weight 3 comes first three times as often as one with weight 1, and the others still
 * follow as fallbacks. Pure: `random` is injected so tests can pin it.
 */
export function orderTargets(
  targets: readonly TargetConfig[],
  random: () => number = Math.random,
): TargetConfig[] {
  return targets
    .map((target, index) => ({
      target,
      priority: target.priority ?? index,
      key: random() ** (1 / target.weight),
    }))
    .sort((a, b) => a.priority - b.priority || b.key - a.key)
    .map((entry) => entry.target);
}
