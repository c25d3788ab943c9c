/**
 * The origin's config: pools of model servers, which model goes to which pool, signing keys,
 * limits and the scheduling policy. One zod schema, every field documented with its default.
 * Loaded from a JSON file (`ORIGIN_CONFIG_FILE`) or inline JSON (`ORIGIN_CONFIG`); a few
 * values come from the environment (secrets, the port, the drain deadline) and win over the
 * file.
 */
import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { parseSigningKeys } from '../../src/signing/index.ts';

const ms = (def: number) => z.number().int().min(1).default(def);

export const POLICIES = ['scheduler', 'round-robin', 'least-request'] as const;
export type PolicyName = (typeof POLICIES)[number];

const poolLimitsSchema = z.object({
  /** Requests this router keeps outstanding at one endpoint; past it the endpoint is
   * saturated. Default 256. */
  maxInflightPerEndpoint: z.number().int().min(1).default(256),
  /** An endpoint whose (estimated) waiting queue reaches this is saturated: new requests wait
   * in the router's queue instead of piling onto the server. Default 16. */
  maxWaitingPerEndpoint: z.number().int().min(1).default(16),
  /** An endpoint whose KV cache usage (0..1) reaches this is saturated. Default 0.98. */
  maxKvUsage: z.number().min(0).max(1).default(0.98),
  /** Requests waiting in the router for a non-saturated endpoint; past it, 429. Default 256. */
  queueSize: z.number().int().min(0).default(256),
  /** Longest wait in that queue before a 503. Default 10 000 ms. */
  queueTimeoutMs: ms(10_000),
});

export const schedulerSchema = z.object({
  /** Weights of the three scorers (llm-d style weighted sum). */
  weights: z
    .object({
      /** Share of the prompt's leading blocks the endpoint likely has cached. Default 3. */
      prefix: z.number().min(0).default(3),
      /** Queue depth (running + waiting, min-max normalised, lower is better). Default 2. */
      queue: z.number().min(0).default(2),
      /** Free KV cache (1 - usage). Default 1. */
      kv: z.number().min(0).default(1),
    })
    .prefault({}),
  /** Bounded load: endpoints whose load exceeds max(min + slack, mean × factor) are not
   * considered, so prefix affinity cannot pile one endpoint up. */
  loadBound: z
    .object({
      /** Default 1.5. */
      factor: z.number().min(1).default(1.5),
      /** Default 4 requests. */
      slack: z.number().min(0).default(4),
    })
    .prefault({}),
  prefix: z
    .object({
      /** Prompt characters per hashed block (~16 tokens). Default 64. */
      charsPerBlock: z.number().int().min(8).default(64),
      /** Blocks looked at per prompt; the rest of a longer prompt is ignored. Default 256. */
      maxBlocks: z.number().int().min(1).default(256),
      /** Blocks remembered per endpoint (LRU): size it to the server's prefix cache, in
       * blocks of charsPerBlock characters. Default 16 384 (~1 M characters). */
      lruBlocksPerEndpoint: z.number().int().min(1).default(16_384),
    })
    .prefault({}),
});

const dnsSchema = z.object({
  /** A Kubernetes headless Service, e.g. vllm.models.svc.cluster.local: one A record a pod. */
  name: z.string().min(1),
  port: z.number().int().min(1).max(65535),
  scheme: z.enum(['http', 'https']).default('http'),
  /** Re-resolve interval. Default 10 000 ms. */
  intervalMs: ms(10_000),
});

export const poolSchema = z
  .object({
    /** The server software: decides metric names and the routes served. */
    kind: z.enum(['vllm', 'trt', 'tei']),
    /** Static endpoints (base URLs without /v1). Either this or `dns`. */
    endpoints: z.array(z.url()).min(1).optional(),
    dns: dnsSchema.optional(),
    /** Default: `policy` at the top level. */
    policy: z.enum(POLICIES).optional(),
    /** Default /metrics (trt: /prometheus/metrics, where trtllm-serve puts Prometheus text). */
    metricsPath: z.string().startsWith('/').optional(),
    /** Default /health. */
    healthPath: z.string().startsWith('/').default('/health'),
    /** tei pools: also serve POST /v1/rerank (forwarded to TEI's /rerank). Default false. */
    rerank: z.boolean().default(false),
    limits: poolLimitsSchema.partial().optional(),
  })
  .superRefine((pool, ctx) => {
    if (!pool.endpoints === !pool.dns) {
      ctx.addIssue({ code: 'custom', message: 'give exactly one of `endpoints` or `dns`' });
    }
    if (pool.rerank && pool.kind !== 'tei') {
      ctx.addIssue({ code: 'custom', path: ['rerank'], message: 'only tei pools rerank' });
    }
  });

export const originConfigSchema = z
  .object({
    listen: z
      .object({
        /** Default 0.0.0.0. */
        host: z.string().default('0.0.0.0'),
        /** Default 8080 (env PORT). */
        port: z.number().int().min(0).max(65535).default(8080),
      })
      .prefault({}),
    /** `id:secret,id2:secret2`. The env ORIGIN_SIGNING_KEYS wins; one of them is required. */
    signingKeys: z.string().optional(),
    /** Accepted clock difference of a signature, each way. Default 60 s. */
    signatureSkewSeconds: z.number().int().min(1).max(600).default(60),
    pools: z.record(z.string().regex(/^[\w-]+$/), poolSchema),
    /** Model name (as the edge sends it) → pool name. */
    models: z.record(z.string().min(1), z.string()),
    /** Default policy of every pool. Default scheduler. */
    policy: z.enum(POLICIES).default('scheduler'),
    scheduler: schedulerSchema.prefault({}),
    limits: poolLimitsSchema
      .extend({
        /** Largest accepted request body. Default 10 MiB. */
        maxBodyBytes: z
          .number()
          .int()
          .min(1)
          .default(10 * 1024 * 1024),
      })
      .prefault({}),
    timeouts: z
      .object({
        /** Until the endpoint's first body bytes (prefill included). Default 60 000 ms. */
        firstByteMs: ms(60_000),
        /** Longest silence between two body chunks. Default 30 000 ms. */
        idleMs: ms(30_000),
      })
      .prefault({}),
    retry: z
      .object({
        /** Attempts per request, each on another endpoint, only before the first byte.
         * Default 2. */
        maxAttempts: z.number().int().min(1).max(5).default(2),
      })
      .prefault({}),
    scrape: z
      .object({
        /** Default 200 ms. */
        intervalMs: ms(200),
        /** Default 1 000 ms. */
        timeoutMs: ms(1_000),
        /** Older metrics are ignored (the router's own in-flight count decides). Default
         * 2 000 ms. */
        staleAfterMs: ms(2_000),
        /** Skip scraping while the pool has seen no request for this long (the router's own
         * in-flight count decides the first picks after a pause). 0: always scrape, as a router
         * sharing its endpoints with other replicas must. Default 0. */
        pauseWhenIdleMs: z.number().int().min(0).default(0),
      })
      .prefault({}),
    health: z
      .object({
        /** Active check (GET healthPath) interval. Default 2 000 ms. */
        intervalMs: ms(2_000),
        timeoutMs: ms(1_000),
        /** Consecutive failed checks before an endpoint is unhealthy. Default 2. */
        unhealthyThreshold: z.number().int().min(1).default(2),
        /** Consecutive passed checks before it is healthy again. Default 1. */
        healthyThreshold: z.number().int().min(1).default(1),
      })
      .prefault({}),
    outlier: z
      .object({
        /** Consecutive failed requests (connect errors, 5xx, timeouts, resets) that eject an
         * endpoint. Default 5. */
        consecutiveFailures: z.number().int().min(1).default(5),
        /** Ejection time, times the number of ejections so far. Default 10 000 ms. */
        baseEjectionMs: ms(10_000),
        /** Default 300 000 ms. */
        maxEjectionMs: ms(300_000),
        /** Most endpoints of a pool ejected at once, in percent (at least one). Default 50. */
        maxEjectedPercent: z.number().min(0).max(100).default(50),
      })
      .prefault({}),
    /** In-flight streams get this long to finish after SIGTERM (env DRAIN_DEADLINE_MS).
     * Default 30 000 ms. */
    drainDeadlineMs: z.number().int().min(0).default(30_000),
  })
  .superRefine((config, ctx) => {
    for (const [model, pool] of Object.entries(config.models)) {
      if (!(pool in config.pools)) {
        ctx.addIssue({
          code: 'custom',
          path: ['models', model],
          message: `unknown pool "${pool}" (known: ${Object.keys(config.pools).join(', ')})`,
        });
      }
    }
  });

export type OriginConfigInput = z.input<typeof originConfigSchema>;
export type OriginConfig = z.output<typeof originConfigSchema>;
export type PoolConfig = z.output<typeof poolSchema>;
export type SchedulerConfig = z.output<typeof schedulerSchema>;
export type PoolLimits = z.output<typeof poolLimitsSchema>;

export class OriginConfigError extends Error {
  override name = 'OriginConfigError';
}

export interface ResolvedOrigin {
  config: OriginConfig;
  /** Key id → secret. */
  keys: Map<string, string>;
}

/** Validates a config object; `env` supplies ORIGIN_SIGNING_KEYS, PORT, DRAIN_DEADLINE_MS. */
export function resolveConfig(
  raw: unknown,
  env: Record<string, string | undefined> = {},
): ResolvedOrigin {
  const parsed = originConfigSchema.safeParse(raw);
  if (!parsed.success) {
    throw new OriginConfigError(`invalid origin config\n${z.prettifyError(parsed.error)}`);
  }
  const config = parsed.data;
  if (env.PORT) config.listen.port = envInt('PORT', env.PORT);
  if (env.DRAIN_DEADLINE_MS)
    config.drainDeadlineMs = envInt('DRAIN_DEADLINE_MS', env.DRAIN_DEADLINE_MS);
  const spec = env.ORIGIN_SIGNING_KEYS ?? config.signingKeys;
  if (!spec)
    throw new OriginConfigError('no signing keys: set ORIGIN_SIGNING_KEYS (id:secret,...)');
  try {
    return { config, keys: parseSigningKeys(spec) };
  } catch (err) {
    throw new OriginConfigError((err as Error).message);
  }
}

function envInt(name: string, value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0) throw new OriginConfigError(`${name} must be an integer`);
  return n;
}

/** Reads ORIGIN_CONFIG (inline JSON) or ORIGIN_CONFIG_FILE (default /etc/origin/config.json). */
export function loadConfigFromEnv(env: Record<string, string | undefined>): ResolvedOrigin {
  const file = env.ORIGIN_CONFIG_FILE ?? '/etc/origin/config.json';
  let text: string;
  try {
    text = env.ORIGIN_CONFIG ?? readFileSync(file, 'utf8');
  } catch (err) {
    throw new OriginConfigError(`cannot read ${file}: ${(err as Error).message}`);
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    throw new OriginConfigError(`config is not JSON: ${(err as Error).message}`);
  }
  return resolveConfig(raw, env);
}

/** The effective limits of a pool: the pool's overrides over the top-level ones. */
export function poolLimits(config: OriginConfig, pool: PoolConfig): PoolLimits {
  return { ...config.limits, ...pool.limits };
}
