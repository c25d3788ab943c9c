import { z } from 'zod';
import type { GatewayConfig } from '../config/index.ts';
import type { GatewayDeps } from '../context.ts';
import type { HealthReport } from '../routing/health.ts';
import { signRequest } from '../signing/index.ts';

/** What an origin's signed `GET /admin/pools` answers (origin/src/app.ts, Pool.view()). */
const originPoolsSchema = z.object({
  status: z.enum(['ready', 'draining', 'starting']),
  pools: z.array(
    z.object({
      name: z.string(),
      engine: z.string(),
      models: z.array(z.string()),
      queueDepth: z.number(),
      inflight: z.number(),
      endpoints: z.array(
        z.object({
          id: z.string(),
          healthy: z.boolean(),
          ejected: z.boolean(),
          ejectedUntil: z.string().nullable(),
          inflight: z.number(),
          running: z.number().nullable(),
          waiting: z.number().nullable(),
          kvCacheUsage: z.number().nullable(),
        }),
      ),
    }),
  ),
});

type OriginPools = z.output<typeof originPoolsSchema>;

export interface RegionHealth {
  name: string;
  zone: string;
  /** The origin's host only; null when the region has none. */
  origin: string | null;
  readiness: OriginPools['status'] | 'unknown';
  probes: HealthReport['probes'];
  pools: OriginPools['pools'];
  /** Why the origin could not be read (short, no stack, no secret). */
  error?: string;
}

/**
 * The document behind `GET /admin/health` (shape in docs/architecture.md): each provider's
 * circuit and probe verdicts from the shared HealthBook, and each region's origin asked for
 * its pools in parallel, signed like `/v1` traffic and bounded by `routing.probeTimeoutMs`.
 * An origin that cannot answer is an `error` entry; it never fails the document.
 */
export async function healthDocument(deps: GatewayDeps) {
  const { config, providers, health } = deps;
  const regionIds = Object.keys(config.regions).map((name) => `region:${name}`);
  const ids = [...providers.keys(), ...regionIds];
  let reports: Map<string, HealthReport>;
  let healthBookError: string | undefined;
  try {
    reports = await health.report(ids);
  } catch {
    reports = new Map();
    healthBookError = 'Redis could not be read: circuits and probe verdicts are unknown.';
  }
  const unknown: HealthReport = {
    circuit: { state: 'unknown', since: null, until: null },
    probes: [],
  };
  const regions = await Promise.all(
    Object.entries(config.regions).map(([name, region]) =>
      regionHealth(config, name, region, reports.get(`region:${name}`) ?? unknown),
    ),
  );
  return {
    generatedAt: new Date().toISOString(),
    ...(healthBookError ? { error: healthBookError } : {}),
    providers: [...providers.values()].map((p) => {
      const { circuit, probes } = reports.get(p.id) ?? unknown;
      return {
        name: p.id,
        kind: p.kind,
        region: p.region ?? null,
        zones: [...p.zones],
        healthy: circuit.state === 'closed' && (probes[0]?.ok ?? true),
        circuit,
        probes,
      };
    }),
    regions,
  };
}

async function regionHealth(
  config: GatewayConfig,
  name: string,
  region: GatewayConfig['regions'][string],
  report: HealthReport,
): Promise<RegionHealth> {
  const base = { name, zone: region.zone, probes: report.probes };
  if (!region.origin) return { ...base, origin: null, readiness: 'unknown', pools: [] };
  const origin = new URL(region.origin);
  const failed = (error: string): RegionHealth => ({
    ...base,
    origin: origin.host,
    readiness: 'unknown',
    pools: [],
    error,
  });
  const signer = Object.values(config.providers).find(
    (p) => p.kind === 'origin' && p.region === name,
  );
  if (signer?.kind !== 'origin') {
    return failed('No origin provider in this region holds a signing key to ask the origin with.');
  }
  const url = `${region.origin.replace(/\/+$/, '')}/admin/pools`;
  const timeoutMs = config.routing.probeTimeoutMs;
  let answer: OriginPools;
  try {
    const headers = await signRequest({
      key: { id: signer.keyId, secret: signer.signingKey },
      method: 'GET',
      url,
      body: '',
    });
    const res = await fetch(url, { headers, signal: AbortSignal.timeout(timeoutMs) });
    if (!res.ok) {
      await res.body?.cancel();
      return failed(`The origin answered ${res.status}.`);
    }
    const parsed = originPoolsSchema.safeParse(await res.json().catch(() => undefined));
    if (!parsed.success) return failed('The origin answered something other than its pools.');
    answer = parsed.data;
  } catch (err) {
    const reason = err instanceof Error ? err.name : 'Error';
    return failed(
      reason === 'TimeoutError'
        ? `The origin did not answer within ${timeoutMs} ms.`
        : `The origin could not be reached (${reason}).`,
    );
  }
  return { ...base, origin: origin.host, readiness: answer.status, pools: answer.pools };
}
