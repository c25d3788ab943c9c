import type { GatewayDeps } from '../context.ts';
import type { ProbeVerdict } from './health.ts';

/**
 * The cron's active health check: each provider endpoint's cheap call (a model list) and
 * each region's origin `/health/ready`. Results go to the shared HealthBook, where the
 * request path reads them; a failed probe holds for `ttlMs` (3 cron periods by default) so a
 * cron that stops running cannot leave an endpoint marked down forever.
 */
export interface ProbeResult {
  target: string;
  ok: boolean;
  status?: number;
  error?: string;
  /** When it was sent (ms) and how long the answer took. */
  at: number;
  latencyMs: number;
}

function verdict(result: ProbeResult): ProbeVerdict {
  return {
    at: new Date(result.at).toISOString(),
    ok: result.ok,
    status: result.status ?? null,
    latencyMs: result.latencyMs,
    error: result.error ?? null,
  };
}

export async function runProbes(deps: GatewayDeps, ttlMs = 180_000): Promise<ProbeResult[]> {
  const { config, providers, health } = deps;
  const timeout = config.routing.probeTimeoutMs;
  const checks: Promise<ProbeResult>[] = [];

  for (const provider of providers.values()) {
    if (!provider.probeRequest) continue;
    const probe = Promise.resolve()
      .then(() => provider.probeRequest!())
      .then(
        (request) => check(provider.id, request.url, request.headers, timeout),
        () => ({
          target: provider.id,
          ok: false,
          error: 'probe request could not be built',
          at: Date.now(),
          latencyMs: 0,
        }),
      );
    checks.push(
      probe.then(async (result) => {
        await health.recordProbe(provider.id, verdict(result), ttlMs);
        return result;
      }),
    );
  }
  for (const [region, { origin }] of Object.entries(config.regions)) {
    if (!origin) continue;
    const served = [...providers.values()].filter(
      (p) => p.kind === 'origin' && p.region === region,
    );
    checks.push(
      check(
        `region:${region}`,
        `${origin.replace(/\/+$/, '')}/health/ready`,
        new Headers(),
        timeout,
      ).then(async (result) => {
        await Promise.all([
          health.recordProbe(result.target, verdict(result), ttlMs, false),
          ...served.map((p) => health.recordProbe(p.id, verdict(result), ttlMs)),
        ]);
        return result;
      }),
    );
  }
  return Promise.all(checks);
}

async function check(
  target: string,
  url: string,
  headers: Headers,
  timeoutMs: number,
): Promise<ProbeResult> {
  const at = Date.now();
  try {
    const res = await fetch(url, { headers, signal: AbortSignal.timeout(timeoutMs) });
    const latencyMs = Date.now() - at;
    await res.body?.cancel();
    return { target, ok: res.ok, status: res.status, at, latencyMs };
  } catch (err) {
    const error = err instanceof Error ? err.name : 'error';
    return { target, ok: false, error, at, latencyMs: Date.now() - at };
  }
}
