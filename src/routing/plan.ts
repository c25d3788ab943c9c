import type { RegionConfig, TargetConfig } from '../config/index.ts';
import type { Provider } from '../providers/index.ts';
import { endpointAllowed, regionAllowed } from './residency.ts';

export interface PlannedTarget {
  provider: Provider;
  target: TargetConfig;
}

export interface RoutePlan {
  /** In the order to try. Empty when residency left nothing. */
  targets: PlannedTarget[];
  /** Provider ids dropped because the request's zone does not allow them. */
  droppedByResidency: string[];
  /** Provider ids moved to the back because their circuit is open or a probe failed. */
  demotedByHealth: string[];
}

/**
 * Orders a model's targets (already in priority/weight order) for one request: targets the
 * zone does not allow are dropped; the rest are grouped by region in `regionOrder` (home
 * first, then by proximity), global endpoints (no region) after every region, keeping the
 * priority order inside a group; unhealthy targets go last (tried only if all else fails).
 * Pure.
 */
export function planRoute(input: {
  targets: readonly PlannedTarget[];
  regions: Record<string, RegionConfig>;
  regionOrder: readonly string[];
  zone: string | null;
  unhealthy: ReadonlySet<string>;
}): RoutePlan {
  const { targets, regions, regionOrder, zone, unhealthy } = input;
  const droppedByResidency: string[] = [];
  const rank = (p: Provider) => {
    if (!p.region) return regionOrder.length;
    const i = regionOrder.indexOf(p.region);
    return i === -1 ? regionOrder.length : i;
  };
  const allowed = targets.filter(({ provider }) => {
    const regionOk = !provider.region || regionAllowed(regions[provider.region]!.zone, zone);
    const ok = regionOk && endpointAllowed(provider.zones, zone);
    if (!ok) droppedByResidency.push(provider.id);
    return ok;
  });
  const ordered = allowed
    .map((t, index) => ({ t, index, rank: rank(t.provider), down: unhealthy.has(t.provider.id) }))
    .sort((a, b) => Number(a.down) - Number(b.down) || a.rank - b.rank || a.index - b.index);
  return {
    targets: ordered.map((o) => o.t),
    droppedByResidency: unique(droppedByResidency),
    demotedByHealth: unique(ordered.filter((o) => o.down).map((o) => o.t.provider.id)),
  };
}

function unique(ids: string[]): string[] {
  return [...new Set(ids)];
}
