import type { CacheConfig } from '../config/index.ts';
import type { Endpoint } from '../schemas/openai.ts';

/**
 * Whether a request may use the cache, and for how long. Pure.
 * - `x-gateway-cache: skip` (or `no-cache`, `bypass`): BYPASS.
 * - `x-gateway-cache: force`, or `x-gateway-cache-ttl: <seconds>`: cached whatever the sampling.
 * - otherwise only deterministic requests: embeddings, `temperature: 0`, or an explicit `seed`.
 */
export type CacheDecision = { use: false; reason: string } | { use: true; ttlSeconds: number };

export function cacheDecision(input: {
  config: CacheConfig;
  model: string;
  endpoint: Endpoint;
  body: Record<string, unknown>;
  header: string | undefined;
  ttlHeader: string | undefined;
}): CacheDecision {
  const { config, model, endpoint, body } = input;
  const policy = config.models[model];
  if (!config.enabled || policy?.enabled === false) return { use: false, reason: 'disabled' };
  const header = input.header?.trim().toLowerCase();
  if (header === 'skip' || header === 'no-cache' || header === 'bypass')
    return { use: false, reason: 'header' };
  const ttlHeader = input.ttlHeader !== undefined ? Number(input.ttlHeader) : undefined;
  const forcedTtl =
    ttlHeader !== undefined && Number.isInteger(ttlHeader) && ttlHeader > 0 ? ttlHeader : undefined;
  const ttlSeconds = Math.min(
    forcedTtl ?? policy?.ttlSeconds ?? config.defaultTtlSeconds,
    config.maxTtlSeconds,
  );
  if (header === 'force' || forcedTtl !== undefined) return { use: true, ttlSeconds };
  const deterministic =
    endpoint === 'embeddings' ||
    body.temperature === 0 ||
    (typeof body.seed === 'number' && Number.isFinite(body.seed));
  return deterministic ? { use: true, ttlSeconds } : { use: false, reason: 'not deterministic' };
}
