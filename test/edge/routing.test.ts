import { Redis } from '@upstash/redis/cloudflare';
import { beforeAll, describe, expect, it } from 'vitest';
import { createGateway } from '../../src/app.ts';
import { loadConfig } from '../../src/config/index.ts';
import {
  ADMIN_TOKEN,
  createKey,
  eventually,
  gateway,
  hello,
  openaiAt,
  REDIS,
  type Scenario,
  scenario,
  UPSTREAM_KEY,
} from './helpers.ts';

type Region = 'us-east' | 'eu-central' | 'eu-west' | 'ap-south';
const REGIONS = {
  'us-east': { zone: 'us', continents: ['NA', 'SA'], location: { lat: 39, lon: -77.5 } },
  'eu-central': { zone: 'eu', countries: ['DE', 'CH', 'AT'], location: { lat: 50.1, lon: 8.7 } },
  'eu-west': { zone: 'eu', continents: ['EU', 'AF'], location: { lat: 53.3, lon: -6.3 } },
  'ap-south': { zone: 'apac', continents: ['AS', 'OC'], location: { lat: 19.1, lon: 72.9 } },
};
const ZONE: Record<Region, string> = {
  'us-east': 'us',
  'eu-central': 'eu',
  'eu-west': 'eu',
  'ap-south': 'apac',
};

// The expectations, written out by hand (not computed by the code under test):
// each country's cf fields and home region, and each region's neighbours by distance.
const COUNTRIES: Record<string, { continent: string; eu: boolean; home: Region }> = {
  US: { continent: 'NA', eu: false, home: 'us-east' },
  CA: { continent: 'NA', eu: false, home: 'us-east' },
  BR: { continent: 'SA', eu: false, home: 'us-east' },
  DE: { continent: 'EU', eu: true, home: 'eu-central' },
  FR: { continent: 'EU', eu: true, home: 'eu-west' },
  IE: { continent: 'EU', eu: true, home: 'eu-west' },
  GB: { continent: 'EU', eu: false, home: 'eu-west' },
  CH: { continent: 'EU', eu: false, home: 'eu-central' },
  IN: { continent: 'AS', eu: false, home: 'ap-south' },
  JP: { continent: 'AS', eu: false, home: 'ap-south' },
  SG: { continent: 'AS', eu: false, home: 'ap-south' },
  AU: { continent: 'OC', eu: false, home: 'ap-south' },
  ZA: { continent: 'AF', eu: false, home: 'eu-west' },
};
const NEAREST: Record<Region, Region[]> = {
  'us-east': ['us-east', 'eu-west', 'eu-central', 'ap-south'],
  'eu-central': ['eu-central', 'eu-west', 'us-east', 'ap-south'],
  'eu-west': ['eu-west', 'eu-central', 'us-east', 'ap-south'],
  'ap-south': ['ap-south', 'eu-central', 'eu-west', 'us-east'],
};
const HEALTH = ['all healthy', 'home region down', 'home zone down'] as const;
const KEY_ZONES = ['none', 'eu', 'us'] as const;

function downRegions(state: (typeof HEALTH)[number], home: Region): Set<Region> {
  if (state === 'all healthy') return new Set();
  if (state === 'home region down') return new Set([home]);
  return new Set((Object.keys(ZONE) as Region[]).filter((r) => ZONE[r] === ZONE[home]));
}

function expected(home: Region, zone: string, down: Set<Region>): Region | 'all-down' {
  const allowed = NEAREST[home].filter((r) => zone === 'none' || ZONE[r] === zone);
  return allowed.find((r) => !down.has(r)) ?? 'all-down';
}

const keys: Record<string, string> = {};
beforeAll(async () => {
  const admin = gateway({ auth: { enabled: true }, regions: REGIONS, providers: {}, models: {} });
  for (const zone of KEY_ZONES) keys[zone] = (await createKey(admin, { residency: zone })).key;
});

/** One endpoint per region, each its own fake upstream; `down` ones answer 503. */
async function fourRegions(down: Set<Region>, extra: Record<string, unknown> = {}) {
  const suffix = crypto.randomUUID().slice(0, 8); // fresh ids: no circuit state shared between rows
  const fakes = {} as Record<Region, Scenario>;
  const providers: Record<string, unknown> = {};
  // Listed in an order unrelated to geography, so ordering comes from routing, not the config.
  for (const region of ['ap-south', 'us-east', 'eu-west', 'eu-central'] as Region[]) {
    fakes[region] = await scenario(down.has(region) ? { status: 503 } : { content: region });
    providers[`${region}-${suffix}`] = openaiAt(fakes[region], {
      region,
      retry: { maxAttempts: 1 },
    });
  }
  const gw = gateway({
    auth: { enabled: true },
    regions: REGIONS,
    providers,
    models: {
      m: { targets: Object.keys(providers).map((provider) => ({ provider, model: 'up' })) },
    },
    ...extra,
  });
  return { gw, fakes, suffix };
}

function cfOf(country: string) {
  const c = COUNTRIES[country]!;
  return { country, continent: c.continent, isEUCountry: c.eu ? '1' : '0', colo: 'TST' };
}

function ask(
  gw: ReturnType<typeof gateway>,
  country: string,
  zone: string,
  headers: Record<string, string> = {},
) {
  return gw.request('/v1/chat/completions', {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      authorization: `Bearer ${keys[zone]}`,
      ...headers,
    },
    body: JSON.stringify(hello),
    cf: cfOf(country),
  } as RequestInit);
}

describe('geo and residency routing: countries x key zones x health', () => {
  const rows = Object.keys(COUNTRIES).flatMap((country) =>
    KEY_ZONES.flatMap((zone) => HEALTH.map((health) => [country, zone, health] as const)),
  );

  it.each(rows)('%s, key zone %s, %s', async (country, zone, health) => {
    const home = COUNTRIES[country]!.home;
    const down = downRegions(health, home);
    const { gw, fakes } = await fourRegions(down);
    const res = await ask(gw, country, zone);
    const want = expected(home, zone, down);

    if (want === 'all-down') {
      expect(res.status).toBe(503);
    } else {
      expect(res.status).toBe(200);
      expect(res.headers.get('x-gateway-region')).toBe(want);
      const body = (await res.json()) as { choices: { message: { content: string } }[] };
      expect(body.choices[0]!.message.content).toBe(want);
    }
    // What the fakes actually received: nothing outside the key's zone, ever.
    for (const region of Object.keys(fakes) as Region[]) {
      const received = (await fakes[region].requests()).length;
      if (zone !== 'none' && ZONE[region] !== zone)
        expect(received, `${region} must see nothing`).toBe(0);
      if (want !== 'all-down' && region === want) expect(received).toBe(1);
    }
    const route = gw.logs.at(-1)!.route!;
    expect(route.zone).toBe(zone);
    expect(route.country).toBe(country);
  });
});

describe('routing details', () => {
  it('honours the region header within the zone, and ignores it (logged) outside', async () => {
    const { gw } = await fourRegions(new Set());
    const honoured = await ask(gw, 'US', 'none', { 'x-gateway-region': 'ap-south' });
    expect(honoured.headers.get('x-gateway-region')).toBe('ap-south');
    expect(gw.logs.at(-1)!.route).toMatchObject({ home: 'ap-south', home_reason: 'header' });

    const ignored = await ask(gw, 'US', 'eu', { 'x-gateway-region': 'us-east' });
    expect(ignored.status).toBe(200);
    expect(ignored.headers.get('x-gateway-region')).toBe('eu-west');
    expect(gw.logs.at(-1)!.route!.region_header_ignored).toContain('outside zone eu');

    const unknown = await ask(gw, 'DE', 'none', { 'x-gateway-region': 'mars-1' });
    expect(unknown.headers.get('x-gateway-region')).toBe('eu-central');
    expect(gw.logs.at(-1)!.route!.region_header_ignored).toContain('unknown region');
  });

  it('403 residency_blocked when the zone has no endpoint, and nothing is sent anywhere', async () => {
    const admin = gateway({ auth: { enabled: true }, regions: REGIONS, providers: {}, models: {} });
    const apac = await createKey(admin, { residency: 'apac' });
    const s = await scenario({});
    const gw = gateway({
      auth: { enabled: true },
      regions: REGIONS,
      providers: { us: openaiAt(s, { region: 'us-east' }), global: openaiAt(s) },
      models: {
        m: {
          targets: [
            { provider: 'us', model: 'a' },
            { provider: 'global', model: 'b' },
          ],
        },
      },
    });
    const res = await gw.chat(hello, apac.headers);
    expect(res.status).toBe(403);
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe(
      'residency_blocked',
    );
    expect(await s.requests()).toHaveLength(0);
    expect(gw.logs.at(-1)!.route!.dropped_by_residency).toEqual(['us', 'global']);
  });

  it('an EU-only deployment (forceZone) holds unrestricted keys to the EU', async () => {
    const { gw, fakes } = await fourRegions(new Set(), { routing: { forceZone: 'eu' } });
    const res = await ask(gw, 'US', 'none');
    expect(res.headers.get('x-gateway-region')).toBe('eu-west');
    expect(await fakes['us-east'].requests()).toHaveLength(0);
    expect((await ask(gw, 'US', 'us')).status).toBe(403);
  });
});

describe('target health', () => {
  const circuitConfig = (s: { a: Scenario; b: Scenario }, suffix: string) => ({
    auth: { enabled: true },
    regions: REGIONS,
    routing: {
      circuit: { failureThreshold: 2, windowMs: 5_000, cooldownMs: 400 },
      healthCacheMs: 0,
    },
    providers: {
      [`a-${suffix}`]: openaiAt(s.a, { region: 'us-east', retry: { maxAttempts: 1 } }),
      [`b-${suffix}`]: openaiAt(s.b, { region: 'eu-west' }),
    },
    models: {
      m: {
        targets: [
          { provider: `a-${suffix}`, model: 'x' },
          { provider: `b-${suffix}`, model: 'y' },
        ],
      },
    },
  });

  it('opens a circuit after repeated failures, shared by every isolate, and closes it after the cooldown', async () => {
    const suffix = crypto.randomUUID().slice(0, 8);
    const s = { a: await scenario({ status: 500 }), b: await scenario({}) };
    const config = circuitConfig(s, suffix);
    const isolate1 = gateway(config);
    const isolate2 = gateway(config);
    for (let i = 0; i < 2; i++) expect((await ask(isolate1, 'US', 'none')).status).toBe(200);
    expect(await s.a.requests()).toHaveLength(2); // tried and failed twice: circuit now open
    const redis = new Redis({ url: REDIS.url, token: REDIS.token });
    await eventually(async () => expect(await redis.get(`gw:circuit:a-${suffix}`)).not.toBeNull());

    const res = await ask(isolate2, 'US', 'none'); // another isolate: reads the shared state
    expect(res.headers.get('x-gateway-attempts')).toBe('1');
    expect(await s.a.requests()).toHaveLength(2);
    expect(isolate2.logs.at(-1)!.route!.demoted_by_health).toEqual([`a-${suffix}`]);

    await new Promise((r) => setTimeout(r, 500)); // cooldown over: a is tried first again
    await ask(isolate2, 'US', 'none');
    expect(await s.a.requests()).toHaveLength(3);
  });

  it("the cron probe's verdict reorders routing", async () => {
    const suffix = crypto.randomUUID().slice(0, 8);
    const s = { a: await scenario({ status: 503 }), b: await scenario({}) };
    const config = loadConfig(
      { ...circuitConfig(s, suffix), redis: REDIS, admin: { tokens: { tester: ADMIN_TOKEN } } },
      {},
    );
    const gw = createGateway({ config, log: () => undefined });
    const results = await gw.probe();
    expect(results).toContainEqual(
      expect.objectContaining({ target: `a-${suffix}`, ok: false, status: 503 }),
    );
    expect(results).toContainEqual(
      expect.objectContaining({ target: `b-${suffix}`, ok: true, status: 200 }),
    );
    const probe = (await s.a.requests())[0]!;
    expect(probe.method).toBe('GET');
    expect(probe.path).toBe(`/s/${s.a.id}/v1/models`);
    expect(probe.headers.authorization).toBe(`Bearer ${UPSTREAM_KEY}`);

    const res = await gw.app.request('http://gateway.test/v1/chat/completions', {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${keys.none}` },
      body: JSON.stringify(hello),
      cf: cfOf('US'),
    } as RequestInit);
    expect(res.headers.get('x-gateway-provider')).toBe(`b-${suffix}`);
    expect(res.headers.get('x-gateway-attempts')).toBe('1');
    expect((await s.a.requests()).filter((r) => r.method === 'POST')).toHaveLength(0);
  });
});

describe('tenant residency defaults', () => {
  it("holds a key with residency 'tenant' to its tenant's zone", async () => {
    const admin = gateway({ auth: { enabled: true }, regions: REGIONS, providers: {}, models: {} });
    const key = await createKey(admin, { tenant: 'eu-customer' });
    const record = (await (await admin.admin('GET', `/keys/${key.id}`)).json()) as {
      residency: string;
    };
    expect(record.residency).toBe('tenant');
    const { gw, fakes } = await fourRegions(new Set(), {
      tenants: { 'eu-customer': { residency: 'eu' } },
    });
    const res = await gw.request('/v1/chat/completions', {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...key.headers },
      body: JSON.stringify(hello),
      cf: cfOf('US'),
    } as RequestInit);
    expect(res.headers.get('x-gateway-region')).toBe('eu-west');
    expect(await fakes['us-east'].requests()).toHaveLength(0);
    expect(gw.logs.at(-1)!.route!.zone).toBe('eu');
  });
});

describe('trusted country header (routing.trustedCountryHeader)', () => {
  const viaHeader = (gw: ReturnType<typeof gateway>, zone: string, country: string) =>
    gw.request('/v1/chat/completions', {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        authorization: `Bearer ${keys[zone]}`,
        'x-client-country': country,
      },
      body: JSON.stringify(hello),
      cf: cfOf('US'), // the proxy's own location: the header must win over it
    } as RequestInit);

  it('moves the home region by the header when configured, with residency unchanged', async () => {
    const { gw, fakes } = await fourRegions(new Set(), {
      routing: { trustedCountryHeader: 'x-client-country' },
    });
    // Each row's home region written out by hand from REGIONS: DE is listed by eu-central;
    // FR is an EU member on the EU continent (eu-west); IN is in Asia; ZA in Africa.
    for (const [country, home] of [
      ['DE', 'eu-central'],
      ['FR', 'eu-west'],
      ['IN', 'ap-south'],
      ['ZA', 'eu-west'],
      ['us', 'us-east'],
    ] as const) {
      const res = await viaHeader(gw, 'none', country);
      expect(res.headers.get('x-gateway-region'), country).toBe(home);
      expect(gw.logs.at(-1)!.route).toMatchObject({ geo_from: 'x-client-country' });
    }
    // An EU key asking as if from India still stays in the EU.
    const eu = await viaHeader(gw, 'eu', 'IN');
    expect(eu.headers.get('x-gateway-region')).toBe('eu-central');
    expect(await fakes['ap-south'].requests()).toHaveLength(1); // only the unrestricted IN row
    // Malformed or unknown codes fall back to request.cf (US here).
    for (const bogus of ['XX', 'T1', 'germany', '']) {
      expect((await viaHeader(gw, 'none', bogus)).headers.get('x-gateway-region')).toBe('us-east');
    }
  });

  it('is ignored unless configured', async () => {
    const { gw } = await fourRegions(new Set());
    const res = await viaHeader(gw, 'none', 'IN');
    expect(res.headers.get('x-gateway-region')).toBe('us-east');
    expect(gw.logs.at(-1)!.route).not.toHaveProperty('geo_from');
  });
});

describe('/health/ready', () => {
  it('is 503 naming the models whose every target is down, 200 once one is back', async () => {
    const suffix = crypto.randomUUID().slice(0, 8);
    const s = { a: await scenario({ status: 503 }), b: await scenario({}) };
    const config = loadConfig(
      {
        auth: { enabled: true },
        redis: REDIS,
        routing: { healthCacheMs: 0 },
        providers: {
          [`a-${suffix}`]: openaiAt(s.a),
          [`b-${suffix}`]: openaiAt(s.b),
        },
        models: {
          solo: { targets: [{ provider: `a-${suffix}`, model: 'x' }] },
          both: {
            targets: [
              { provider: `a-${suffix}`, model: 'x' },
              { provider: `b-${suffix}`, model: 'y' },
            ],
          },
        },
      },
      {},
    );
    const gw = createGateway({ config, log: () => undefined });
    const ready = () => gw.app.request('http://gateway.test/health/ready');
    expect((await ready()).status).toBe(200);

    await gw.probe(); // a answers 503: its probe verdict marks it down for every isolate
    const down = await ready();
    expect(down.status).toBe(503);
    expect(await down.json()).toEqual({
      status: 'not_ready',
      models_without_target: ['solo'],
      down: [`a-${suffix}`],
    });

    const redis = new Redis({ url: REDIS.url, token: REDIS.token });
    await redis.del(`gw:probe:a-${suffix}`);
    expect((await ready()).status).toBe(200);
  });
});
