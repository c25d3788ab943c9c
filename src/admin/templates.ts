import type { Context, Hono } from 'hono';
import { z } from 'zod';
import type { KeyStore } from '../auth/index.ts';
import type { AppEnv } from '../context.ts';
import { errors } from '../errors.ts';
import { allowOnly } from '../routes/method.ts';
import { parseBody } from '../routes/parse.ts';
import {
  createTemplateSchema,
  setProductionSchema,
  TemplateStore,
  type TemplateVersionInput,
  templateVersionInputSchema,
  versionProblem,
} from '../templates/index.ts';

type AdminEnv = AppEnv & { Variables: { actor: string; store: KeyStore } };

const versionParam = z.coerce.number().int().positive();

/**
 * The prompt template admin API (src/templates), on the admin router (admin tokens only).
 * Every change is audit-logged with its actor; the audit entry names the template, the
 * version and the variables, never the template text.
 */
export function templateRoutes(admin: Hono<AdminEnv>): void {
  const templates = (c: Context<AdminEnv>) => new TemplateStore(c.var.deps.redis!);

  admin.post('/templates', async (c) => {
    const input = await parseBody(c, createTemplateSchema);
    checkVersion(input.version);
    const record = await templates(c).create(input, c.var.actor);
    if (!record) throw errors.templateExists(input.id!);
    await audit(c, 'template.create', record.id, {
      tenant: record.tenant,
      version: 1,
      variables: input.version.variables.map((v) => v.name),
    });
    return c.json({ ...record, versions: await templates(c).versions(record.id) }, 201);
  });

  admin.get('/templates', async (c) => {
    const tenant = c.req.query('tenant');
    const global = c.req.query('global') === 'true';
    const data = await templates(c).list(global ? null : tenant);
    return c.json({ object: 'list', data });
  });

  admin.get('/templates/:id', async (c) => {
    const id = c.req.param('id');
    const store = templates(c);
    const [record, versions] = await Promise.all([store.get(id), store.versions(id)]);
    if (!record) throw errors.templateNotFound(id, undefined, 'id');
    return c.json({ ...record, versions });
  });

  admin.post('/templates/:id/versions', async (c) => {
    const id = c.req.param('id');
    const input = await parseBody(c, templateVersionInputSchema);
    checkVersion(input, '');
    const version = await templates(c).addVersion(id, input, c.var.actor);
    if (!version) throw errors.templateNotFound(id, undefined, 'id');
    await audit(c, 'template.version', id, {
      version: version.version,
      variables: input.variables.map((v) => v.name),
    });
    return c.json(version, 201);
  });

  admin.get('/templates/:id/versions/:version', async (c) => {
    const id = c.req.param('id');
    const n = versionParam.safeParse(c.req.param('version'));
    if (!n.success) throw errors.invalidField('version', 'a positive integer');
    const store = templates(c);
    const [record, version] = await Promise.all([store.get(id), store.version(id, n.data)]);
    if (!record) throw errors.templateNotFound(id, undefined, 'id');
    if (!version) throw errors.templateNotFound(id, n.data, 'version');
    return c.json(version);
  });

  admin.put('/templates/:id/production', async (c) => {
    const id = c.req.param('id');
    const { version } = await parseBody(c, setProductionSchema);
    const result = await templates(c).setProduction(id, version);
    if (result === 'no_template') throw errors.templateNotFound(id, undefined, 'id');
    if (result === 'no_version') throw errors.templateNotFound(id, version, 'version');
    await audit(c, 'template.production', id, { from: result.previous, to: version });
    return c.json((await templates(c).get(id))!);
  });

  admin.delete('/templates/:id', async (c) => {
    const id = c.req.param('id');
    const store = templates(c);
    const record = await store.get(id);
    if (!record || !(await store.delete(id))) throw errors.templateNotFound(id, undefined, 'id');
    await audit(c, 'template.delete', id, { tenant: record.tenant, latest: record.latest });
    return c.json({ id, object: 'prompt_template', deleted: true });
  });

  allowOnly(admin, '/templates', 'GET', 'POST');
  allowOnly(admin, '/templates/:id', 'GET', 'DELETE');
  allowOnly(admin, '/templates/:id/versions', 'POST');
  allowOnly(admin, '/templates/:id/versions/:version', 'GET');
  allowOnly(admin, '/templates/:id/production', 'PUT');
}

/** 400 naming the field: bad Mustache, a partial, or a variable used but not declared. */
function checkVersion(version: TemplateVersionInput, prefix = 'version') {
  const problem = versionProblem(version, prefix);
  if (problem) throw errors.invalidField(problem.param, problem.reason);
}

function audit(
  c: Context<AdminEnv>,
  action: 'template.create' | 'template.version' | 'template.production' | 'template.delete',
  templateId: string,
  changes: unknown,
): Promise<void> {
  return c.var.store.recordAudit({
    at: new Date().toISOString(),
    actor: c.var.actor,
    action,
    templateId,
    changes,
  });
}
