/**
 * The local run's config (workers/gateway.dev.config.json) is validated by the production
 * schema and agrees with what tools/dev starts: every fake's provider, every origin, every
 * self-hosted model, and a zone-held route for each key zone.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/index.ts';
import { createProviders } from '../../src/providers/index.ts';
import { planRoute } from '../../src/routing/plan.ts';
import { FAKES, originVar, POOLS, REGIONS, SELF_HOSTED } from '../../tools/dev/topology.ts';
import devConfig from '../../workers/gateway.dev.config.json' with { type: 'json' };

const ROOT = join(import.meta.dirname, '..', '..');
const vars: Record<string, string> = {
  ORIGIN_SIGNING_KEY: 'dev-origin-signing-key-0123456789',
  UPSTASH_REDIS_REST_URL: 'http://127.0.0.1:1',
  UPSTASH_REDIS_REST_TOKEN: 't',
  ADMIN_TOKEN: 'dev-admin-token-change-me',
};
for (const region of REGIONS) vars[originVar(region)] = `http://127.0.0.1:9/${region}`;
for (const fake of FAKES) Object.assign(vars, fake.vars(`http://127.0.0.1:9/${fake.provider}`));
const config = loadConfig(devConfig, vars);
const providers = createProviders(config);

/** The providers a request held to `zone` from `home` may use for `model`, in order. */
function route(model: string, zone: string | null, home: string) {
  const others = REGIONS.filter((r) => r !== home);
  const plan = planRoute({
    targets: config.models[model]!.targets.map((target) => ({
      target,
      provider: providers.get(target.provider)!,
    })),
    regions: config.regions,
    regionOrder: [home, ...others].filter((r) => zone === null || config.regions[r]!.zone === zone),
    zone,
    unhealthy: new Set(),
  });
  return plan.targets.map((t) => t.provider.id);
}

describe('workers/gateway.dev.config.json', () => {
  it('passes the production schema, with a trusted country header and three zoned regions', () => {
    expect(config.routing.trustedCountryHeader).toBe('cf-ipcountry');
    expect(Object.fromEntries(Object.entries(config.regions).map(([r, c]) => [r, c.zone]))).toEqual(
      {
        'us-east': 'us',
        'eu-west': 'eu',
        'ap-south': 'apac',
      },
    );
  });

  it("runs on production's compatibility date and flags (wrangler.dev.toml = wrangler.toml)", () => {
    const setting = (file: string, name: string) =>
      new RegExp(`^${name} = (.+)$`, 'm').exec(readFileSync(file, 'utf8'))?.[1];
    for (const name of ['compatibility_date', 'compatibility_flags']) {
      expect(setting(join(ROOT, 'wrangler.dev.toml'), name), name).toBe(
        setting(join(ROOT, 'wrangler.toml'), name),
      );
      expect(setting(join(ROOT, 'wrangler.toml'), name), name).toBeDefined();
    }
  });

  it('names every provider the launcher fakes, and one origin per region', () => {
    for (const fake of FAKES) expect(config.providers[fake.provider], fake.provider).toBeDefined();
    for (const region of REGIONS) {
      expect(config.providers[`origin-${region}`]).toMatchObject({ kind: 'origin', region });
      expect(config.regions[region]!.origin).toBe(vars[originVar(region)]);
    }
  });

  it('serves each self-hosted model from every region, on the pool that has it', () => {
    for (const spec of POOLS) {
      const models = Object.entries(config.models).filter(([, m]) =>
        m.targets.some((t) => t.model === spec.model),
      );
      expect(models.length, spec.model).toBeGreaterThan(0);
      for (const [, m] of models) {
        const origins = m.targets.filter((t) => t.model === spec.model).map((t) => t.provider);
        expect(origins).toEqual(REGIONS.map((r) => `origin-${r}`));
      }
    }
    expect(config.models['bge-small-en-v1.5']!.type).toBe('embedding');
    expect(config.models['bge-small-en-v1.5']!.targets[0]!.model).toBe(SELF_HOSTED.bge);
  });

  it('gives an EU key EU-only options for chat, embeddings and Claude', () => {
    expect(route('gpt-4o-mini', 'eu', 'eu-west')).toEqual(['azure-eu', 'origin-eu-west']);
    expect(route('text-embedding-3-small', 'eu', 'eu-west')).toEqual(['azure-eu']);
    expect(route('bge-small-en-v1.5', 'eu', 'eu-west')).toEqual(['origin-eu-west']);
    expect(route('claude-sonnet-4-6', 'eu', 'eu-west')).toEqual(['bedrock-eu']);
    expect(route('gemini-2.5-flash', 'eu', 'eu-west')).toEqual([]);
  });

  it('falls back cloud → self-hosted, and Anthropic → Bedrock, for an unrestricted key', () => {
    expect(route('gpt-4o-mini', null, 'us-east')).toEqual([
      'openai',
      'origin-us-east',
      'azure-eu',
      'origin-eu-west',
      'origin-ap-south',
    ]);
    expect(route('claude-sonnet-4-6', null, 'us-east')).toEqual([
      'anthropic',
      'bedrock-us',
      'bedrock-eu',
    ]);
  });
});
