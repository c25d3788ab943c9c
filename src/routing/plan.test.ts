import { describe, expect, it } from 'vitest';
import type { RegionConfig } from '../config/index.ts';
import type { Provider } from '../providers/index.ts';
import { type PlannedTarget, planRoute } from './plan.ts';

const regions: Record<string, RegionConfig> = {
  us: { zone: 'us', countries: [], continents: [] },
  eu: { zone: 'eu', countries: [], continents: [] },
};
const target = (id: string, region: string | undefined, zones: string[]): PlannedTarget => ({
  provider: { id, kind: 'openai', region, zones } as unknown as Provider,
  target: { provider: id, model: 'm', weight: 1 },
});
const targets = [
  target('global', undefined, []),
  target('us-a', 'us', ['us']),
  target('eu-a', 'eu', ['eu']),
  target('eu-b', 'eu', ['eu']),
];
const ids = (plan: ReturnType<typeof planRoute>) => plan.targets.map((t) => t.provider.id);

describe('planRoute', () => {
  it('puts the home region first, then the others, global endpoints last, priority kept inside', () => {
    const plan = planRoute({
      targets,
      regions,
      regionOrder: ['eu', 'us'],
      zone: null,
      unhealthy: new Set(),
    });
    expect(ids(plan)).toEqual(['eu-a', 'eu-b', 'us-a', 'global']);
  });
  it('drops what the zone does not allow, untagged endpoints included', () => {
    const plan = planRoute({
      targets,
      regions,
      regionOrder: ['eu'],
      zone: 'eu',
      unhealthy: new Set(),
    });
    expect(ids(plan)).toEqual(['eu-a', 'eu-b']);
    expect(plan.droppedByResidency).toEqual(['global', 'us-a']);
  });
  it('moves unhealthy targets to the back, never out of the zone', () => {
    const plan = planRoute({
      targets,
      regions,
      regionOrder: ['eu'],
      zone: 'eu',
      unhealthy: new Set(['eu-a', 'us-a']),
    });
    expect(ids(plan)).toEqual(['eu-b', 'eu-a']);
    expect(plan.demotedByHealth).toEqual(['eu-a']);
  });
  it('leaves nothing when no endpoint keeps data in the zone', () => {
    const plan = planRoute({
      targets,
      regions,
      regionOrder: [],
      zone: 'apac',
      unhealthy: new Set(),
    });
    expect(plan.targets).toEqual([]);
  });
});
