import type { ModelConfig } from '../config/index.ts';

/**
 * Readiness policy: the public models none of whose targets is usable, given the providers
 * known to be down (open circuit or failed probe). Unknown health counts as usable. Pure.
 */
export function modelsWithoutTarget(
  models: Record<string, ModelConfig>,
  down: ReadonlySet<string>,
): string[] {
  return Object.entries(models)
    .filter(([, model]) => model.targets.every((t) => down.has(t.provider)))
    .map(([name]) => name);
}
