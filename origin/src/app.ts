/**
 * The origin's HTTP surface (Hono): signed OpenAI-compatible routes under /v1, unsigned
 * health and metrics for the cluster. The Node adapter (./node-http.ts) reads the body once
 * and hands the raw bytes and the raw request target in `env`, because the signature covers
 * exactly those.
 */
import { Hono, type MiddlewareHandler } from 'hono';
import { ReplayGuard, verifyRequest } from '../../src/signing/index.ts';
import { parsePriority } from './admission.ts';
import type { OriginConfig } from './config.ts';
import type { OriginMetrics } from './metrics.ts';
import { nodeCrypto } from './node-crypto.ts';
import type { Pool } from './pool.ts';
import { errorResponse, forward } from './proxy.ts';
import { type OriginTelemetry, OriginTrace } from './telemetry.ts';

export interface OriginEnv {
  /** The request body, read by the adapter (bounded by limits.maxBodyBytes). */
  rawBody: Uint8Array;
  /** The request target as received: path and query. */
  rawUrl: string;
  /** Aborts when the client goes away. */
  clientSignal: AbortSignal;
  /** performance.now() at arrival. */
  startedAt: number;
}

export interface OriginState {
  draining: boolean;
  started: boolean;
}

export interface AppDeps {
  config: OriginConfig;
  keys: ReadonlyMap<string, string>;
  pools: Map<string, Pool>;
  metrics: OriginMetrics;
  state: OriginState;
  log?: (event: Record<string, unknown>) => void;
  now?: () => number;
  /** Spans and OTLP metrics; absent when no OTLP endpoint is configured. */
  telemetry?: OriginTelemetry | undefined;
}

type Api = 'chat' | 'completions' | 'embeddings' | 'rerank';

const ROUTES: Record<string, { api: Api; upstream: string }> = {
  '/v1/chat/completions': { api: 'chat', upstream: '/v1/chat/completions' },
  '/v1/completions': { api: 'completions', upstream: '/v1/completions' },
  '/v1/embeddings': { api: 'embeddings', upstream: '/v1/embeddings' },
  '/v1/rerank': { api: 'rerank', upstream: '/rerank' },
};

function readiness(state: OriginState): 'ready' | 'draining' | 'starting' {
  if (state.draining) return 'draining';
  return state.started ? 'ready' : 'starting';
}

function serves(pool: Pool, rerank: boolean, api: Api): boolean {
  if (pool.kind === 'tei') return api === 'embeddings' || (api === 'rerank' && rerank);
  return api === 'chat' || api === 'completions';
}

export function createOriginApp(deps: AppDeps): Hono<{ Bindings: OriginEnv }> {
  const { config, metrics, state } = deps;
  const app = new Hono<{ Bindings: OriginEnv }>();
  const replay = new ReplayGuard({ skewSeconds: config.signatureSkewSeconds });

  app.get('/health/live', (c) => c.json({ status: 'ok' }));
  app.get('/health/ready', (c) => {
    const status = readiness(state);
    return c.json({ status }, status === 'ready' ? 200 : 503);
  });
  app.get('/metrics', async (c) =>
    c.body(await metrics.registry.metrics(), 200, { 'content-type': metrics.registry.contentType }),
  );

  // Everything under /v1 and /admin is signed by the edge: verify before any other work.
  const signedByEdge: MiddlewareHandler<{ Bindings: OriginEnv }> = async function signedByEdge(
    c,
    next,
  ) {
    const result = await verifyRequest({
      keys: deps.keys,
      method: c.req.method,
      url: c.env.rawUrl,
      headers: c.req.raw.headers,
      body: c.env.rawBody,
      skewSeconds: config.signatureSkewSeconds,
      crypto: nodeCrypto,
      ...(deps.now ? { now: deps.now() } : {}),
    });
    const ok =
      result.ok && replay.check(result.keyId, result.nonce, result.timestamp, deps.now?.());
    if (!ok) {
      const reason = result.ok ? 'replayed' : result.reason;
      metrics.requests.inc({ pool: 'none', endpoint: 'none', status: '401' });
      deps.log?.({ event: 'signature_rejected', reason, path: c.req.path });
      return errorResponse(401, 'The request signature is missing or invalid.', reason);
    }
    await next();
  };
  app.use('/v1/*', signedByEdge);
  app.use('/admin/*', signedByEdge);

  // The pools as the scheduler sees them, for the edge's GET /admin/health. Answered while
  // draining too: that is when an operator looks.
  app.get('/admin/pools', (c) =>
    c.json({
      status: readiness(state),
      pools: [...deps.pools.values()].map((pool) => ({
        ...pool.view(),
        models: Object.entries(config.models)
          .filter(([, name]) => name === pool.name)
          .map(([model]) => model),
      })),
    }),
  );

  app.use('/v1/*', async function refuseWhileDraining(_c, next) {
    if (state.draining) {
      metrics.shed.inc({ pool: 'none', reason: 'draining' });
      return errorResponse(503, 'The origin is shutting down.', 'draining', {
        'retry-after': '1',
        connection: 'close',
      });
    }
    await next();
  });

  app.get('/v1/models', (c) =>
    c.json({
      object: 'list',
      data: Object.entries(config.models).map(([id, pool]) => ({
        id,
        object: 'model',
        created: 0,
        owned_by: pool,
      })),
    }),
  );

  app.post('/v1/*', async (c) => {
    const route = ROUTES[c.req.path];
    if (!route) return errorResponse(404, `Unknown route ${c.req.path}.`, 'unknown_route');
    let json: Record<string, unknown>;
    try {
      const parsed: unknown = JSON.parse(new TextDecoder().decode(c.env.rawBody));
      if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) throw new Error();
      json = parsed as Record<string, unknown>;
    } catch {
      return errorResponse(400, 'The body must be a JSON object.', 'invalid_json');
    }
    const model = json.model;
    if (typeof model !== 'string')
      return errorResponse(400, '`model` is required.', 'invalid_model');
    const poolName = Object.hasOwn(config.models, model) ? config.models[model] : undefined;
    const pool = poolName === undefined ? undefined : deps.pools.get(poolName);
    if (!pool)
      return errorResponse(404, `The model \`${model}\` does not exist.`, 'model_not_found');
    if (!serves(pool, config.pools[pool.name]?.rerank ?? false, route.api)) {
      return errorResponse(
        400,
        `The model \`${model}\` does not serve ${c.req.path}.`,
        'wrong_api',
      );
    }
    const headers: Record<string, string> = {};
    for (const name of ['x-request-id', 'traceparent']) {
      const v = c.req.header(name);
      if (v) headers[name] = v;
    }
    return forward(
      { config, metrics },
      {
        pool,
        path: route.upstream,
        body: c.env.rawBody,
        json,
        model,
        stream: json.stream === true && route.api !== 'embeddings' && route.api !== 'rerank',
        priority: parsePriority(c.req.header('x-gateway-priority')),
        headers,
        signal: c.env.clientSignal,
        startedAt: c.env.startedAt,
        trace:
          deps.telemetry &&
          new OriginTrace(deps.telemetry, c.req.raw.headers, {
            path: c.req.path,
            model,
            pool: pool.name,
            api: route.api,
          }),
      },
    );
  });

  app.notFound(() => errorResponse(404, 'Not found.', 'not_found'));
  app.onError((err) => {
    deps.log?.({ event: 'error', error: String(err) });
    return errorResponse(500, 'Internal error.', 'internal_error');
  });
  return app;
}
