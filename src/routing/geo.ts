import { countries, type TCountryCode } from 'countries-list';
import type { RegionConfig } from '../config/index.ts';

/**
 * Where a request is at home, from what Cloudflare says about its client (`request.cf`),
 * and which regions come next. Pure functions.
 */

/** The parts of `request.cf` routing reads. */
export interface ClientGeo {
  country?: string;
  continent?: string;
  /** Cloudflare sends "1" for EU member states. */
  isEUCountry?: string;
  colo?: string;
}

/** EU member states (what Cloudflare's `isEUCountry` marks), for a country named by a header. */
const EU_MEMBERS = new Set(
  'AT BE BG CY CZ DE DK EE ES FI FR GR HR HU IE IT LT LU LV MT NL PL PT RO SE SI SK'.split(' '),
);

/**
 * What a trusted front proxy's country header (`cf-ipcountry` style: an ISO 3166-1 alpha-2
 * code) says, in `request.cf`'s terms: the continent from the countries-list table, EU
 * membership from the list above. Undefined for a missing, malformed or unknown code (`XX`,
 * `T1`), so the caller falls back to `request.cf`.
 */
export function geoFromCountry(value: string | undefined): ClientGeo | undefined {
  const country = value?.trim().toUpperCase();
  if (!country || !/^[A-Z]{2}$/.test(country) || !Object.hasOwn(countries, country)) return;
  return {
    country,
    continent: countries[country as TCountryCode].continent,
    isEUCountry: EU_MEMBERS.has(country) ? '1' : '0',
  };
}

export type HomeReason = 'header' | 'country' | 'eu-country' | 'continent' | 'default';

export interface Home {
  region: string;
  reason: HomeReason;
}

/**
 * The home region: a region asked for by name (already vetted by the caller), else the one
 * that lists the client's country, else, for an EU member state, a region serving the EU
 * continent (this catches EU territories on other continents), else the one serving its
 * continent, else `defaultRegion` (default: the first region).
 */
export function homeRegion(
  regions: Record<string, RegionConfig>,
  geo: ClientGeo,
  options: { requested?: string; defaultRegion?: string } = {},
): Home | undefined {
  const entries = Object.entries(regions);
  if (entries.length === 0) return undefined;
  if (options.requested && options.requested in regions)
    return { region: options.requested, reason: 'header' };
  const country = geo.country?.toUpperCase();
  const byCountry = country && entries.find(([, r]) => r.countries.includes(country));
  if (byCountry) return { region: byCountry[0], reason: 'country' };
  if (geo.isEUCountry === '1') {
    const eu = entries.find(([, r]) => r.continents.includes('EU'));
    if (eu) return { region: eu[0], reason: 'eu-country' };
  }
  const continent = geo.continent?.toUpperCase();
  const byContinent =
    continent && entries.find(([, r]) => (r.continents as string[]).includes(continent));
  if (byContinent) return { region: byContinent[0], reason: 'continent' };
  return { region: options.defaultRegion ?? entries[0]![0], reason: 'default' };
}

/** All regions, `from` first, then the rest by great-circle distance from it (regions
 * without a location keep their config order, after those with one). */
export function regionsByProximity(regions: Record<string, RegionConfig>, from: string): string[] {
  const origin = regions[from]?.location;
  const others = Object.keys(regions).filter((id) => id !== from);
  const distance = (id: string) => {
    const at = regions[id]!.location;
    return origin && at ? haversineKm(origin, at) : Number.POSITIVE_INFINITY;
  };
  const ranked = others.map((id, index) => ({ id, index, km: distance(id) }));
  ranked.sort((a, b) => a.km - b.km || a.index - b.index);
  return [from, ...ranked.map((r) => r.id)];
}

export function haversineKm(
  a: { lat: number; lon: number },
  b: { lat: number; lon: number },
): number {
  const rad = Math.PI / 180;
  const dLat = (b.lat - a.lat) * rad;
  const dLon = (b.lon - a.lon) * rad;
  const h =
    Math.sin(dLat / 2) ** 2 +
    Math.cos(a.lat * rad) * Math.cos(b.lat * rad) * Math.sin(dLon / 2) ** 2;
  return 2 * 6371 * Math.asin(Math.sqrt(h));
}
