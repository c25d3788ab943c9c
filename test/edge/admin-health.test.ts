/**
 * `GET /admin/health` (src/admin/health.ts): providers with their circuits and the cron
 * probe's verdicts from the shared HealthBook, and each region's origin asked for its pools
 * with a signed request: a real origin (origin/) over gpu-sim vLLM endpoints, started by
 * global-setup.ts, next to origins that hang or refuse, which show as error entries.
 */
import { env } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import { createGateway } from '../../src/app.ts';
import { loadConfig } from '../../src/config/index.ts';
import {
  ADMIN_TOKEN,
  eventually,
  FAULT_PROXY_URL,
  hello,
  openaiAt,
  REDIS,
  scenario,
  UPSTREAM_KEY,
} from './helpers.ts';

const bindings = env as unknown as Record<string, string>;
const ORIGIN_URL = bindings.ORIGIN_URL!;
const ORIGIN_KEY = { id: bindings.ORIGIN_KEY_ID!, secret: bindings.ORIGIN_SIGNING_KEY! };
const ENDPOINTS = JSON.parse(bindings.ORIGIN_ENDPOINTS!) as string[];
const ACME = 'acme-admin-token-0123456789abcdef';

interface Verdict {
  at: string;
  ok: boolean;
  status: number | null;
  latencyMs: number;
  error: string | null;
}
interface HealthJson {
  generatedAt: string;
  providers: {
    name: string;
    kind: string;
    region: string | null;
    zones: string[];
    healthy: boolean;
    circuit: { state: string; since: string | null; until: string | null };
    probes: Verdict[];
  }[];
  regions: {
    name: string;
    zone: string;
    origin: string | null;
    readiness: string;
    probes: Verdict[];
    pools: {
      name: string;
      engine: string;
      models: string[];
      queueDepth: number;
      endpoints: {
        id: string;
        healthy: boolean;
        ejected: boolean;
        kvCacheUsage: number | null;
        waiting: number | null;
      }[];
    }[];
    error?: string;
  }[];
}

async function hangingRoute(): Promise<string> {
  const res = await fetch(`${FAULT_PROXY_URL}/__routes`, {
    method: 'POST',
    body: JSON.stringify({ target: ORIGIN_URL }),
  });
  const { id, url } = (await res.json()) as { id: string; url: string };
  await fetch(`${FAULT_PROXY_URL}/__routes/${id}`, {
    method: 'POST',
    body: JSON.stringify({ mode: 'hang' }),
  });
  return url;
}

async function setup() {
  const sfx = crypto.randomUUID().slice(0, 8);
  const flakyScenario = await scenario({ status: 500 });
  const hang = await hangingRoute();
  const down = 'http://127.0.0.1:1';
  const originAt = (region: string, url: string) => ({
    kind: 'origin',
    region,
    baseUrl: `${url}/v1`,
    keyId: ORIGIN_KEY.id,
    signingKey: ORIGIN_KEY.secret,
    zones: [],
  });
  const names = {
    live: `live-${sfx}`,
    hang: `hang-${sfx}`,
    down: `down-${sfx}`,
    bare: `bare-${sfx}`,
    flaky: `flaky-${sfx}`,
  };
  const config = loadConfig(
    {
      auth: { enabled: true },
      redis: REDIS,
      admin: {
        tokens: { tester: ADMIN_TOKEN },
        tenantTokens: { 'acme-ops': { token: ACME, tenant: 'acme' } },
      },
      regions: {
        [names.live]: { zone: 'eu', origin: ORIGIN_URL },
        [names.hang]: { zone: 'us', origin: hang },
        [names.down]: { zone: 'ap', origin: down },
        [names.bare]: { zone: 'sa' },
      },
      providers: {
        [`origin-${names.live}`]: originAt(names.live, ORIGIN_URL),
        [`origin-${names.hang}`]: originAt(names.hang, hang),
        [`origin-${names.down}`]: originAt(names.down, down),
        [names.flaky]: openaiAt(flakyScenario, { region: names.bare }),
      },
      models: { m: { targets: [{ provider: names.flaky, model: 'up' }] } },
      routing: {
        circuit: { failureThreshold: 2, windowMs: 10_000, cooldownMs: 60_000 },
        healthCacheMs: 0,
        probeTimeoutMs: 400,
      },
      defaults: { retry: { maxAttempts: 2, baseDelayMs: 1, maxDelayMs: 10 } },
    },
    {},
  );
  const gw = createGateway({ config, log: () => undefined });
  const address = `198.51.100.30-${sfx}`;
  const request = (path: string, init: RequestInit = {}) => {
    const headers = new Headers(init.headers);
    headers.set('cf-connecting-ip', address);
    return gw.app.request(`http://gateway.test${path}`, { ...init, headers });
  };
  const health = async (token = ADMIN_TOKEN) => {
    const res = await request('/admin/health', { headers: { authorization: `Bearer ${token}` } });
    return { res, json: (await res.clone().json()) as HealthJson };
  };
  return { gw, request, health, names, flakyScenario };
}

const hostOf = (url: string) => new URL(url).host;

describe('GET /admin/health', () => {
  it('shows circuits, probe verdicts, and each region with its origin and pools', async () => {
    const { gw, request, health, names, flakyScenario } = await setup();

    // Two failed attempts (threshold 2) open the flaky provider's circuit.
    const before = Date.now();
    const key = await request('/admin/keys', {
      method: 'POST',
      headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'health test' }),
    });
    const { key: apiKey } = (await key.json()) as { key: string };
    const chat = await request('/v1/chat/completions', {
      method: 'POST',
      headers: { authorization: `Bearer ${apiKey}`, 'content-type': 'application/json' },
      body: JSON.stringify({ ...hello, model: 'm' }),
    });
    expect(chat.status).toBe(502);
    await flakyScenario.waitFor(2);
    // The cron's probe: the provider's model list, each region's /health/ready.
    await gw.probe();

    let doc!: HealthJson;
    await eventually(async () => {
      const { res, json } = await health();
      expect(res.status).toBe(200);
      expect(json.providers.find((p) => p.name === names.flaky)?.circuit.state).toBe('open');
      doc = json;
    });

    const flaky = doc.providers.find((p) => p.name === names.flaky)!;
    expect(flaky).toMatchObject({ kind: 'openai', region: names.bare, healthy: false });
    expect(Date.parse(flaky.circuit.since!)).toBeGreaterThanOrEqual(before - 1_000);
    expect(Date.parse(flaky.circuit.until!)).toBeGreaterThan(Date.parse(flaky.circuit.since!));
    expect(flaky.probes).toHaveLength(1);
    expect(flaky.probes[0]).toMatchObject({ ok: false, status: 500, error: null });
    expect(flaky.probes[0]!.latencyMs).toBeGreaterThanOrEqual(0);
    expect(Date.parse(flaky.probes[0]!.at)).toBeGreaterThanOrEqual(before);

    const liveProvider = doc.providers.find((p) => p.name === `origin-${names.live}`)!;
    expect(liveProvider).toMatchObject({
      kind: 'origin',
      region: names.live,
      healthy: true,
      circuit: { state: 'closed', since: null, until: null },
    });
    expect(liveProvider.probes[0]).toMatchObject({ ok: true, status: 200 });

    const region = (name: string) => doc.regions.find((r) => r.name === name)!;
    const live = region(names.live);
    expect(live).toMatchObject({ zone: 'eu', origin: hostOf(ORIGIN_URL), readiness: 'ready' });
    expect(live.error).toBeUndefined();
    expect(live.probes[0]).toMatchObject({ ok: true, status: 200 });
    expect(live.pools).toHaveLength(1);
    expect(live.pools[0]).toMatchObject({
      name: 'vllm',
      engine: 'vllm',
      models: ['meta-llama/Llama-3.1-8B-Instruct'],
      queueDepth: 0,
    });
    expect(live.pools[0]!.endpoints.map((e) => e.id).sort()).toEqual(ENDPOINTS.map(hostOf).sort());
    for (const e of live.pools[0]!.endpoints)
      expect(e).toMatchObject({ healthy: true, ejected: false });

    // Origins that hang or refuse are entries with an error; the document still answers.
    const hung = region(names.hang);
    expect(hung).toMatchObject({ zone: 'us', readiness: 'unknown', pools: [] });
    expect(hung.error).toBe('The origin did not answer within 400 ms.');
    expect(hung.probes[0]).toMatchObject({ ok: false, error: 'TimeoutError' });
    const refused = region(names.down);
    expect(refused).toMatchObject({ origin: '127.0.0.1:1', readiness: 'unknown', pools: [] });
    expect(refused.error).toMatch(/^The origin could not be reached \(\w+\)\.$/);
    expect(doc.providers.find((p) => p.name === `origin-${names.down}`)!.healthy).toBe(false);
    const bare = region(names.bare);
    expect(bare).toEqual({
      name: names.bare,
      zone: 'sa',
      origin: null,
      readiness: 'unknown',
      probes: [],
      pools: [],
    });

    // No secret of any kind in the document.
    const text = JSON.stringify(doc);
    for (const secret of [ORIGIN_KEY.secret, UPSTREAM_KEY, ADMIN_TOKEN, apiKey]) {
      expect(text).not.toContain(secret);
    }
  });

  it('only for full admins: 401 without a credential, 403 for a tenant-scoped one', async () => {
    const { request, health } = await setup();
    expect((await health()).res.status).toBe(200);
    expect((await request('/admin/health')).status).toBe(401);
    const scoped = await health(ACME);
    expect(scoped.res.status).toBe(403);
    expect((scoped.json as unknown as { error: { code: string } }).error.code).toBe(
      'admin_forbidden',
    );
    expect((await request('/admin/health', { method: 'POST' })).status).toBe(401);
  });
});
