import { type Context, Hono, type MiddlewareHandler } from 'hono';
import type { AppEnv } from '../context.ts';
import { waitUntil } from '../context.ts';
import { errors, GatewayError } from '../errors.ts';
import {
  connectUsageStore,
  getRequest,
  listRequests,
  parseRequestFilters,
  parseSeriesQuery,
  type Sql,
  usageSeries,
} from '../usage-store/index.ts';
import { authenticateAdmin } from './access.ts';

type LogEnv = AppEnv & {
  Variables: {
    actor: string;
    /** The one tenant a tenant-scoped admin token or session may read; absent: every tenant. */
    scope: string | undefined;
    usage: Sql;
  };
};

/**
 * The request log and usage series, read from the usage store (PostgreSQL through
 * Hyperdrive): `GET /admin/requests` (filters, keyset cursor, newest first),
 * `GET /admin/requests/:id`, `GET /admin/usage` (from the rollups). Open to the admin tokens
 * and to tenant-scoped ones (`admin.tenantTokens`), which see their tenant's rows only.
 * Mounted before the rest of the admin API, which tenant-scoped tokens cannot use.
 */
export function requestLogRoutes(): Hono<LogEnv> {
  const log = new Hono<LogEnv>();
  log.use('/requests', requestLogAuth());
  log.use('/requests/*', requestLogAuth());
  log.use('/usage', requestLogAuth());

  log.get('/requests', async (c) => {
    const filters = parseRequestFilters(scoped(c.req.query(), c.var.scope));
    const page = await fromStore(listRequests(c.var.usage, filters));
    return c.json({ object: 'list', ...page });
  });

  log.get('/requests/:id', async (c) => {
    const id = c.req.param('id');
    if (id.length > 255) throw errors.notFound(c.req.path.slice(0, 300));
    const event = await fromStore(getRequest(c.var.usage, id, c.var.scope));
    if (!event) {
      throw new GatewayError(404, `No request "${id}" in the request log.`, {
        code: 'request_not_found',
        param: 'id',
      });
    }
    return c.json(event);
  });

  log.get('/usage', async (c) => {
    const query = parseSeriesQuery(scoped(c.req.query(), c.var.scope));
    const data = await fromStore(usageSeries(c.var.usage, query));
    return c.json({
      object: 'list',
      group_by: query.groupBy,
      resolution: query.resolution,
      from: query.from.toISOString(),
      to: query.to.toISOString(),
      data,
    });
  });

  return log;
}

/** A store that cannot answer is a 503 saying so (the driver's message stays in the log). */
async function fromStore<T>(work: Promise<T>): Promise<T> {
  try {
    return await work;
  } catch (err) {
    console.error(
      JSON.stringify({
        level: 'error',
        msg: 'usage store query failed',
        error: err instanceof Error ? err.message.slice(0, 300) : 'unknown',
      }),
    );
    throw new GatewayError(503, 'The request log is unavailable right now; try again.', {
      code: 'request_log_unavailable',
      headers: { 'retry-after': '5' },
    });
  }
}

/** A tenant-scoped token's query: its tenant filled in; another tenant is refused. */
function scoped(query: Record<string, string>, scope: string | undefined): Record<string, string> {
  if (scope === undefined) return query;
  if (query.tenant !== undefined && query.tenant !== scope) {
    throw new GatewayError(403, 'This admin token reads only its own tenant.', {
      code: 'tenant_forbidden',
      param: 'tenant',
    });
  }
  return { ...query, tenant: scope };
}

function requestLogAuth(): MiddlewareHandler<LogEnv> {
  return async function requestLogAuth(c, next) {
    const caller = await authenticateAdmin(c, 'allow');
    const { usageDb } = c.var.deps;
    if (!usageDb) {
      throw new GatewayError(503, 'The request log needs the usage database (binding USAGE_DB).', {
        code: 'request_log_unavailable',
      });
    }
    const sql = connectUsageStore(usageDb.connectionString);
    c.set('actor', caller.actor);
    c.set('scope', caller.tenant ?? undefined);
    c.set('usage', sql);
    try {
      await next();
    } finally {
      waitUntil(c as unknown as Context<AppEnv>, sql.end({ timeout: 5 }));
    }
  };
}
