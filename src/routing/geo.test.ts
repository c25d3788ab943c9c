import { describe, expect, it } from 'vitest';
import type { RegionConfig } from '../config/index.ts';
import { geoFromCountry, haversineKm, homeRegion, regionsByProximity } from './geo.ts';

const region = (zone: string, extra: Partial<RegionConfig>): RegionConfig => ({
  zone,
  countries: [],
  continents: [],
  ...extra,
});
const regions: Record<string, RegionConfig> = {
  'us-east': region('us', { continents: ['NA', 'SA'], location: { lat: 39, lon: -77.5 } }),
  'eu-central': region('eu', { countries: ['DE', 'CH'], location: { lat: 50.1, lon: 8.7 } }),
  'eu-west': region('eu', { continents: ['EU', 'AF'], location: { lat: 53.3, lon: -6.3 } }),
  'ap-south': region('apac', { continents: ['AS', 'OC'], location: { lat: 19.1, lon: 72.9 } }),
};

describe('homeRegion', () => {
  it('prefers an asked-for region, then country, then EU membership, then continent, then the default', () => {
    expect(
      homeRegion(regions, { country: 'US', continent: 'NA' }, { requested: 'ap-south' }),
    ).toEqual({
      region: 'ap-south',
      reason: 'header',
    });
    expect(homeRegion(regions, { country: 'DE', continent: 'EU', isEUCountry: '1' })).toEqual({
      region: 'eu-central',
      reason: 'country',
    });
    // French Guiana: South America, but in the EU.
    expect(homeRegion(regions, { country: 'GF', continent: 'SA', isEUCountry: '1' })).toEqual({
      region: 'eu-west',
      reason: 'eu-country',
    });
    expect(homeRegion(regions, { country: 'JP', continent: 'AS' })).toEqual({
      region: 'ap-south',
      reason: 'continent',
    });
    expect(homeRegion(regions, { country: 'AQ', continent: 'AN' })).toEqual({
      region: 'us-east',
      reason: 'default',
    });
    expect(homeRegion(regions, {}, { defaultRegion: 'eu-west' })).toEqual({
      region: 'eu-west',
      reason: 'default',
    });
    expect(homeRegion({}, { country: 'US' })).toBeUndefined();
  });
});

describe('regionsByProximity', () => {
  it('orders the other regions by great-circle distance', () => {
    expect(regionsByProximity(regions, 'us-east')).toEqual([
      'us-east',
      'eu-west',
      'eu-central',
      'ap-south',
    ]);
    expect(regionsByProximity(regions, 'eu-west')).toEqual([
      'eu-west',
      'eu-central',
      'us-east',
      'ap-south',
    ]);
    expect(regionsByProximity(regions, 'ap-south')).toEqual([
      'ap-south',
      'eu-central',
      'eu-west',
      'us-east',
    ]);
  });
  it('keeps config order for regions without a location', () => {
    const plain = { a: region('x', {}), b: region('y', {}), c: region('z', {}) };
    expect(regionsByProximity(plain, 'b')).toEqual(['b', 'a', 'c']);
  });
  it('measures kilometres', () => {
    expect(Math.round(haversineKm({ lat: 0, lon: 0 }, { lat: 0, lon: 1 }))).toBe(111);
  });
});

describe('geoFromCountry', () => {
  it('gives the continent and EU membership of a country code, in request.cf terms', () => {
    expect(geoFromCountry('DE')).toEqual({ country: 'DE', continent: 'EU', isEUCountry: '1' });
    expect(geoFromCountry(' ch ')).toEqual({ country: 'CH', continent: 'EU', isEUCountry: '0' });
    expect(geoFromCountry('IN')).toEqual({ country: 'IN', continent: 'AS', isEUCountry: '0' });
    expect(geoFromCountry('BR')).toEqual({ country: 'BR', continent: 'SA', isEUCountry: '0' });
  });

  it('refuses what is not a known ISO code', () => {
    for (const bad of [undefined, '', 'XX', 'T1', 'DEU', 'germany', '__proto__']) {
      expect(geoFromCountry(bad)).toBeUndefined();
    }
  });
});
