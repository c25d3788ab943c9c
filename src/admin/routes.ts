import { Hono, type MiddlewareHandler } from 'hono';
import { z } from 'zod';
import {
  createKeySchema,
  type KeyStore,
  keyPolicyProblem,
  updateKeySchema,
} from '../auth/index.ts';
import type { GatewayConfig, GuardrailCheck } from '../config/index.ts';
import type { AppEnv } from '../context.ts';
import { errors } from '../errors.ts';
import { budgetKeys, readSpend } from '../limits/budget.ts';
import { allowOnly } from '../routes/method.ts';
import { parseBody } from '../routes/parse.ts';
import { redisKeys } from '../store/index.ts';
import { periods, readUsage } from '../usage/counters.ts';
import { adminUnavailable, authenticateAdmin } from './access.ts';
import { healthDocument } from './health.ts';
import { templateRoutes } from './templates.ts';

/** What to purge: one scope (a tenant, a key, or the global scope) and/or one model. */
const purgeSchema = z
  .object({
    tenant: z.string().min(1).optional(),
    keyId: z.string().min(1).optional(),
    global: z.boolean().optional(),
    model: z.string().min(1).optional(),
  })
  .strict()
  .refine(
    (t) => [t.tenant, t.keyId, t.global, t.model].some((v) => v !== undefined && v !== false),
    'name a tenant, keyId, global or model',
  );

/**
 * The admin API under /admin, for admin tokens only (config `admin.tokens`; the token's name
 * is the actor written to the audit log). Keys are returned without secrets; the plaintext
 * key appears once, in the answer to its creation.
 */
export function adminRoutes(): Hono<AppEnv & { Variables: { actor: string; store: KeyStore } }> {
  const admin = new Hono<AppEnv & { Variables: { actor: string; store: KeyStore } }>();
  admin.use(adminAuth());

  admin.post('/keys', async (c) => {
    const input = await parseBody(c, createKeySchema);
    checkPolicy(c.var.deps.config, input);
    const { key, record } = await c.var.store.create(input, c.var.actor);
    return c.json({ ...record, key }, 201);
  });

  admin.get('/keys', async (c) => c.json({ object: 'list', data: await c.var.store.list() }));

  admin.get('/keys/:id', async (c) => {
    const record = await c.var.store.get(c.req.param('id'));
    if (!record) throw errors.keyNotFound(c.req.param('id'));
    return c.json(record);
  });

  admin.patch('/keys/:id', async (c) => {
    const id = c.req.param('id');
    const patch = await parseBody(c, updateKeySchema);
    checkPolicy(c.var.deps.config, patch);
    const record = await c.var.store.update(id, patch, c.var.actor);
    if (!record) throw errors.keyNotFound(id);
    c.var.deps.keys?.forget(id);
    return c.json(record);
  });

  admin.delete('/keys/:id', async (c) => {
    const id = c.req.param('id');
    const record = await c.var.store.revoke(id, c.var.actor);
    if (!record) throw errors.keyNotFound(id);
    c.var.deps.keys?.forget(id);
    return c.json(record);
  });

  admin.get('/keys/:id/usage', async (c) => {
    const id = c.req.param('id');
    const record = await c.var.store.get(id);
    if (!record) throw errors.keyNotFound(id);
    const redis = c.var.deps.redis!;
    const { day, month } = periods(new Date());
    const [spend, monthTotals, today] = await Promise.all([
      readSpend(redis, budgetKeys(id, month)),
      readUsage(redis, redisKeys.usage.key(id, month)),
      readUsage(redis, redisKeys.usage.key(id, day)),
    ]);
    return c.json({
      id,
      month,
      spend_usd: spend.spentNanos / 1e9,
      reserved_usd: spend.reservedNanos / 1e9,
      budget_usd: record.budget.monthlyUsd,
      month_usage: monthTotals,
      today_usage: today,
    });
  });

  admin.post('/cache/purge', async (c) => {
    const target = await parseBody(c, purgeSchema);
    const scope = target.global
      ? 'global'
      : target.keyId
        ? `key:${target.keyId}`
        : target.tenant
          ? `tenant:${target.tenant}`
          : undefined;
    await c.var.deps.cache.purge({
      ...(scope ? { scope } : {}),
      ...(target.model ? { model: target.model } : {}),
    });
    await c.var.store.recordAudit({
      at: new Date().toISOString(),
      actor: c.var.actor,
      action: 'cache.purge',
      changes: target,
    });
    return c.json({ purged: { scope: scope ?? null, model: target.model ?? null } });
  });

  /** The configured guardrail policies, without secrets: a webhook shows its header names
   * and its URL without query. */
  admin.get('/guardrails', (c) => {
    const { guardrails, tenants } = c.var.deps.config;
    return c.json({
      defaultPolicies: guardrails.defaultPolicies,
      tenants: Object.fromEntries(
        Object.entries(tenants)
          .filter(([, t]) => t.guardrails)
          .map(([name, t]) => [name, t.guardrails]),
      ),
      policies: Object.fromEntries(
        Object.entries(guardrails.policies).map(([name, policy]) => [
          name,
          { checks: policy.checks.map(presentCheck) },
        ]),
      ),
    });
  });

  admin.get('/audit', async (c) => {
    const limit = Math.min(1_000, Math.max(1, Number(c.req.query('limit') ?? 100) || 100));
    return c.json({ object: 'list', data: await c.var.store.audit(limit) });
  });

  admin.get('/health', async (c) => c.json(await healthDocument(c.var.deps)));
  templateRoutes(admin);

  allowOnly(admin, '/keys', 'GET', 'POST');
  allowOnly(admin, '/keys/:id', 'GET', 'PATCH', 'DELETE');
  allowOnly(admin, '/keys/:id/usage', 'GET');
  allowOnly(admin, '/cache/purge', 'POST');
  allowOnly(admin, '/audit', 'GET');
  allowOnly(admin, '/health', 'GET');
  allowOnly(admin, '/guardrails', 'GET');

  return admin;
}

function adminAuth(): MiddlewareHandler<
  AppEnv & { Variables: { actor: string; store: KeyStore } }
> {
  return async function adminAuth(c, next) {
    const caller = await authenticateAdmin(c, 'refuse');
    if (!c.var.deps.keyStore) throw adminUnavailable();
    c.set('actor', caller.actor);
    c.set('store', c.var.deps.keyStore);
    await next();
  };
}

function presentCheck(check: GuardrailCheck): Record<string, unknown> {
  if (check.type !== 'webhook') return check;
  const { headers, url, ...rest } = check;
  const shown = new URL(url);
  return { ...rest, url: `${shown.origin}${shown.pathname}`, headers: Object.keys(headers) };
}

/** 400 naming the field when a key's policy names a zone or model the config does not know,
 * or an expiry in the past. */
function checkPolicy(config: GatewayConfig, policy: Parameters<typeof keyPolicyProblem>[0]) {
  const zones = new Set([
    ...Object.values(config.regions).map((r) => r.zone),
    ...Object.values(config.providers).flatMap((p) => p.zones ?? []),
    ...Object.values(config.tenants).map((t) => t.residency),
  ]);
  zones.delete('none');
  const problem = keyPolicyProblem(policy, {
    zones,
    models: new Set(Object.keys(config.models)),
    policies: new Set(Object.keys(config.guardrails.policies)),
  });
  if (problem) throw errors.invalidField(problem.param, problem.reason);
}
