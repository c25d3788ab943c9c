/**
 * Exact-match response cache. Contract: `lookupCache(deps, facts, request, edge)` says BYPASS, HIT (with the
 * entry and its age) or MISS (with `store(answer)` to call when the upstream answered in
 * full). Keys: ./key.ts; when to cache: ./policy.ts; tiers: ./store.ts; stream <-> response
 * conversion: ./assemble.ts.
 */
import type { Edge, GatewayDeps, RequestFacts } from '../context.ts';
import { homeRegion } from '../routing/geo.ts';
import { zoneOf } from '../routing/index.ts';
import type { Endpoint } from '../schemas/openai.ts';
import { cacheKey } from './key.ts';
import { cacheDecision } from './policy.ts';
import type { CacheEntry, Tiers } from './store.ts';

export { assembleFromChunks, chunksFromBody } from './assemble.ts';
export { type CacheEntry, ResponseCache } from './store.ts';

export type CacheLookup =
  | { status: 'BYPASS' }
  | { status: 'HIT'; entry: CacheEntry; ageSeconds: number; tier: 'local' | 'redis' }
  | {
      status: 'MISS';
      store: (answer: Omit<CacheEntry, 'v' | 'createdAt'>) => void;
    };

/**
 * A request in another format (`native`) is keyed on the client's own body, under its format:
 * two requests that translate alike but differ in a field the translation drops (`thinking`,
 * `cache_control`) never share an entry.
 */
export async function lookupCache(
  deps: Pick<GatewayDeps, 'config' | 'cache' | 'redis'>,
  facts: Pick<RequestFacts, 'key' | 'header' | 'geo'>,
  request: {
    endpoint: Endpoint;
    body: Record<string, unknown>;
    native?: { format: string; body: Record<string, unknown> } | undefined;
  },
  edge: Pick<Edge, 'note' | 'waitUntil'>,
): Promise<CacheLookup> {
  const { config, cache } = deps;
  const model = String(request.body.model);
  const body = request.native?.body ?? request.body;
  const decision = cacheDecision({
    config: config.cache,
    model,
    endpoint: request.endpoint,
    body,
    header: facts.header('x-gateway-cache'),
    ttlHeader: facts.header('x-gateway-cache-ttl'),
  });
  if (!decision.use) return { status: 'BYPASS' };

  const tiers = allowedTiers(deps, facts);
  const scope = scopeOf(config, facts.key, model);
  const key = await cacheKey({
    scope,
    endpoint: request.native ? `${request.native.format}:${request.endpoint}` : request.endpoint,
    body,
    generations: await cache.generations(scope, model),
  });
  const hit = await cache.get(key, tiers);
  if (hit) {
    if (hit.tier === 'redis' && tiers.local)
      edge.waitUntil(cache.put(key, hit.entry, decision.ttlSeconds, { local: true, redis: false }));
    const ageSeconds = Math.max(0, Math.floor((Date.now() - hit.entry.createdAt) / 1000));
    return { status: 'HIT', entry: hit.entry, ageSeconds, tier: hit.tier };
  }
  return {
    status: 'MISS',
    store: (answer) => {
      const entry: CacheEntry = { v: 1, createdAt: Date.now(), ...answer };
      if (JSON.stringify(entry).length > config.cache.maxEntryBytes) {
        edge.note({ cache_write: 'too_large' });
        return;
      }
      edge.note({ cache_write: 'stored' });
      edge.waitUntil(cache.put(key, entry, decision.ttlSeconds, tiers));
    },
  };
}

/** Whose requests share entries: the key's tenant (default), the key itself, or everyone. */
function scopeOf(config: GatewayDeps['config'], key: RequestFacts['key'], model: string): string {
  const { cache } = config;
  const scope = cache.models[model]?.scope ?? cache.scope;
  if (scope === 'global') return 'global';
  if (scope === 'key') return `key:${key?.id ?? 'anonymous'}`;
  return `tenant:${key?.tenant ?? 'anonymous'}`;
}

/**
 * Residency for cached answers: an unrestricted request may use both tiers. A zoned one uses
 * the colo-local tier only when the client is at home in its zone (the colo is near the
 * client), and the shared Redis only if `cache.redisZones` says that Redis may hold the zone.
 */
function allowedTiers(
  { config, redis }: Pick<GatewayDeps, 'config' | 'redis'>,
  { key, geo }: Pick<RequestFacts, 'key' | 'geo'>,
): Tiers {
  const zone = zoneOf(config, key);
  if (zone === null) return { local: true, redis: redis !== undefined };
  if (zone === 'conflict') return { local: false, redis: false };
  const home = homeRegion(config.regions, geo, { defaultRegion: config.routing.defaultRegion });
  const local =
    config.routing.forceZone === zone ||
    (home !== undefined && config.regions[home.region]?.zone === zone);
  return { local, redis: redis !== undefined && config.cache.redisZones.includes(zone) };
}
