/**
 * Routing. Contract: `routeRequest(deps, request, model, edge)` returns the ordered targets
 * one request may use — home region first (from `request.cf`, or
 * `routing.trustedCountryHeader` when set, or an allowed region header), then the other
 * allowed regions by proximity, global endpoints last, unhealthy targets at the very back —
 * or throws 403 `residency_blocked` when the request's zone allows none. It never returns a
 * target outside the zone, so failover (dispatch) cannot leave it either.
 * Policy lives in pure modules: geo.ts, residency.ts, plan.ts, targets.ts.
 */
import type { Context } from 'hono';
import type { KeyRecord } from '../auth/index.ts';
import type { GatewayConfig, ModelConfig } from '../config/index.ts';
import type { AppEnv, Edge, GatewayDeps, RequestFacts } from '../context.ts';
import { errors } from '../errors.ts';
import { geoFromCountry, homeRegion, regionsByProximity } from './geo.ts';
import { type PlannedTarget, planRoute } from './plan.ts';
import { effectiveZone, keyZone, regionAllowed } from './residency.ts';
import { orderTargets } from './targets.ts';

export { HealthBook, tripsCircuit } from './health.ts';
export type { PlannedTarget } from './plan.ts';
export { type ProbeResult, runProbes } from './probe.ts';

/** The zone this request is held to (null: unrestricted), from its key, its tenant's
 * default and the deployment's forced zone. */
export function requestZone(c: Context<AppEnv>): string | null | 'conflict' {
  return zoneOf(c.get('deps').config, c.get('apiKey'));
}

/** `requestZone` from the config and the key. Pure. */
export function zoneOf(
  config: Pick<GatewayConfig, 'tenants' | 'routing'>,
  key: KeyRecord | undefined,
): string | null | 'conflict' {
  return effectiveZone(
    keyZone(key?.residency, key?.tenant, config.tenants),
    config.routing.forceZone,
  );
}

/** The plan stage of the request path (src/proxy): the targets to try, in order. */
export async function routeRequest(
  deps: Pick<GatewayDeps, 'config' | 'providers' | 'health' | 'random'>,
  request: Pick<RequestFacts, 'key' | 'header' | 'geo'>,
  model: ModelConfig,
  edge: Pick<Edge, 'note'>,
): Promise<PlannedTarget[]> {
  const { config, providers, health, random } = deps;
  const { regions, routing } = config;
  const zone = zoneOf(config, request.key);
  if (zone === 'conflict') throw errors.residencyBlocked(routing.forceZone);

  const asked = request.header(routing.regionHeader);
  let requested: string | undefined;
  let headerIgnored: string | undefined;
  if (asked) {
    const region = Object.hasOwn(regions, asked) ? regions[asked] : undefined;
    if (!region) headerIgnored = `unknown region "${asked}"`;
    else if (!regionAllowed(region.zone, zone))
      headerIgnored = `region "${asked}" is outside zone ${zone}`;
    else requested = asked;
  }
  const fromHeader = routing.trustedCountryHeader
    ? geoFromCountry(request.header(routing.trustedCountryHeader))
    : undefined;
  const geo = fromHeader ?? request.geo;
  const home = homeRegion(regions, geo, { requested, defaultRegion: routing.defaultRegion });
  const regionOrder = home
    ? regionsByProximity(regions, home.region).filter((r) => regionAllowed(regions[r]!.zone, zone))
    : [];

  const candidates = orderTargets(model.targets, random).map((target) => ({
    target,
    provider: providers.get(target.provider)!,
  }));
  const unhealthy = await health.unhealthy([...new Set(candidates.map((t) => t.provider.id))]);
  const plan = planRoute({ targets: candidates, regions, regionOrder, zone, unhealthy });

  edge.note({
    route: {
      zone: zone ?? 'none',
      home: home?.region,
      home_reason: home?.reason,
      country: geo.country,
      ...(fromHeader ? { geo_from: routing.trustedCountryHeader } : {}),
      regions: regionOrder,
      dropped_by_residency: plan.droppedByResidency,
      demoted_by_health: plan.demotedByHealth,
      ...(headerIgnored ? { region_header_ignored: headerIgnored } : {}),
    },
  });
  if (plan.targets.length === 0) throw errors.residencyBlocked(zone ?? 'none');
  return plan.targets;
}
