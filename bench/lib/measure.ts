/** One measured load run of a target: warm-up, then the run, with CPU per request around it. */
import type { CpuMs } from './cpu.ts';
import { type LoadResult, type Mode, runLoad } from './load.ts';

export interface MeasuredTarget {
  name: string;
  url: string;
  headers?: Record<string, string>;
  cpuMs?: () => CpuMs | null;
}

export type MeasuredRun = LoadResult & { cpu: CpuMs | null; redisCpu: number | null };

/** Warm-up, then one measured run; CPU per request from the target's processes around it,
 * and of the Redis side (`redisCpuMs`: bridge + redis-server) when given. */
export async function measureRun(
  target: MeasuredTarget,
  mode: Mode,
  settings: { connections: number; seconds: number; warmupSeconds: number },
  redisCpuMs: () => number | null = () => null,
): Promise<MeasuredRun> {
  const load = {
    connections: settings.connections,
    seconds: settings.warmupSeconds,
    ...(target.headers ? { headers: target.headers } : {}),
  };
  await runLoad(target.url, mode, load);
  const before = target.cpuMs?.() ?? null;
  const redisBefore = redisCpuMs();
  const result = await runLoad(target.url, mode, { ...load, seconds: settings.seconds });
  const after = target.cpuMs?.() ?? null;
  const redisAfter = redisCpuMs();
  const redisCpu =
    redisBefore === null || redisAfter === null ? null : (redisAfter - redisBefore) / result.ok;
  if (result.failed > 0)
    throw new Error(
      `${target.name} ${mode}: ${result.failed} failed requests (${result.firstError ?? 'errors or timeouts'})`,
    );
  const perRequest = (key: keyof CpuMs) => (after![key] - before![key]) / result.ok;
  const cpu =
    before && after
      ? {
          worker: perRequest('worker'),
          devProxy: perRequest('devProxy'),
          wrangler: perRequest('wrangler'),
        }
      : null;
  return { ...result, cpu, redisCpu };
}
