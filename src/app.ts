import { Hono } from 'hono';
import { requestId } from 'hono/request-id';
import { requestLogRoutes } from './admin/requests.ts';
import { adminRoutes } from './admin/routes.ts';
import { sessionRoutes } from './admin/session.ts';
import { anthropicErrorBody, MESSAGES_PATH } from './anthropic/index.ts';
import { KeyLookup, KeyStore } from './auth/index.ts';
import { ResponseCache } from './cache/index.ts';
import type { GatewayConfig } from './config/index.ts';
import type { AppEnv, GatewayDeps, UsageDb } from './context.ts';
import { browserAccess } from './cors/index.ts';
import { errors, toGatewayError } from './errors.ts';
import { EventBatcher, type EventQueue } from './events/index.ts';
import {
  annotateRequestLog,
  consoleRequestLogger,
  type RequestLogger,
  requestLog,
} from './observability/index.ts';
import { createProviders } from './providers/index.ts';
import { healthRoutes } from './routes/health.ts';
import { v1Routes } from './routes/v1.ts';
import { HealthBook, type ProbeResult, runProbes } from './routing/index.ts';
import { createRedis } from './store/index.ts';
import { Telemetry, type TelemetrySettings, tracing } from './telemetry/index.ts';

export interface AppOptions {
  config: GatewayConfig;
  /** Where request log lines go. Default: one JSON line on console.log. */
  log?: RequestLogger;
  /** Default Math.random. */
  random?: () => number;
  /** The Cloudflare Queue producer binding usage events go to. Default none: no events. */
  events?: EventQueue | undefined;
  /** Queue producer bindings by residency zone (`events.zoneQueues` resolved). Default none. */
  zoneEvents?: Record<string, EventQueue> | undefined;
  /** The usage store for the admin request log (a Hyperdrive binding). Default none. */
  usageDb?: UsageDb | undefined;
  /** The key console session cookies are signed with (`ADMIN_SESSION_SECRET`). Default: one
   * derived from the configured admin tokens. */
  sessionSecret?: string | undefined;
  /** Where spans and metrics go (OTLP/HTTP), from `telemetrySettings(env)`. Default none:
   * telemetry off. */
  telemetry?: TelemetrySettings | undefined;
}

export interface Gateway {
  app: Hono<AppEnv>;
  /** The cron's active health check (see src/routing/probe.ts). */
  probe(): Promise<ProbeResult[]>;
}

/** Assembles the gateway: middleware, routes, the one error handler, and the cron probe. */
export function createGateway(options: AppOptions): Gateway {
  const { config } = options;
  const redis = createRedis(config);
  const keyStore = redis ? new KeyStore(redis.foreground) : undefined;
  const deps: GatewayDeps = {
    config,
    providers: createProviders(config),
    log: options.log ?? consoleRequestLogger,
    random: options.random ?? Math.random,
    redis: redis?.foreground,
    redisBackground: redis?.background,
    keyStore,
    keys: keyStore ? new KeyLookup(keyStore, config.auth.keyCacheTtlMs) : undefined,
    health: new HealthBook(redis?.foreground, redis?.background, config.routing),
    cache: new ResponseCache(redis?.foreground, redis?.background, config.cache),
    events:
      options.events && config.events.enabled
        ? new EventBatcher(options.events, config.events)
        : undefined,
    zoneEvents: new Map(
      options.events && config.events.enabled
        ? Object.entries(options.zoneEvents ?? {}).map(([zone, queue]) => [
            zone,
            new EventBatcher(queue, config.events),
          ])
        : [],
    ),
    usageDb: options.usageDb,
    sessionSecret: options.sessionSecret || undefined,
    telemetry: options.telemetry ? new Telemetry(options.telemetry) : undefined,
  };
  const app = new Hono<AppEnv>();

  app.use(requestId({ headerName: 'x-request-id' }));
  app.use(async function gatewayContext(c, next) {
    c.set('deps', deps);
    c.set('startedAt', Date.now());
    await next();
  });
  app.use(tracing());
  app.use(requestLog());

  app.route('/health', healthRoutes());
  // Before the routes: a preflight carries no key, and answers need the caller's origins.
  app.use('/v1/*', browserAccess());
  app.route('/v1', v1Routes(config.defaults.maxBodyBytes));
  // Before the rest of /admin: sign-in needs no credential yet, and tenant-scoped admin
  // tokens and sessions may use the request log routes only.
  app.route('/admin', sessionRoutes());
  app.route('/admin', requestLogRoutes());
  app.route('/admin', adminRoutes());

  // A browser opening the gateway's root lands on the operator console (static assets).
  app.get('/', async function consoleRedirect(c, next) {
    if (!c.req.header('accept')?.includes('text/html')) return next();
    return c.redirect('/console/', 302);
  });

  app.notFound((c) => {
    const error = errors.notFound(c.req.path);
    return c.json(error.toBody(), 404);
  });

  app.onError((err, c) => {
    const error = toGatewayError(err);
    annotateRequestLog(c, { error_code: error.code });
    if (error.status >= 500 && error.code === 'internal_error') {
      console.error(
        JSON.stringify({
          level: 'error',
          msg: 'unhandled error',
          request_id: c.get('requestId'),
          error: err instanceof Error ? `${err.name}: ${err.message}`.slice(0, 300) : typeof err,
        }),
      );
    }
    for (const [name, value] of Object.entries(error.headers)) c.header(name, value);
    if (c.req.path === MESSAGES_PATH || c.req.path.startsWith(`${MESSAGES_PATH}/`)) {
      return c.json(anthropicErrorBody(error, c.get('requestId')), error.status as 400);
    }
    return c.json(error.toBody(), error.status as 400);
  });

  return { app, probe: () => runProbes(deps) };
}

/** The Hono app alone (tests, embedding). */
export function createApp(options: AppOptions): Hono<AppEnv> {
  return createGateway(options).app;
}
