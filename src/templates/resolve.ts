/**
 * The request side: a request's `prompt: {id, version?, variables}` rendered at ingress,
 * before the request's messages are final (so everything after, guardrails included, sees
 * the rendered text). Tenant-scoped: a key may render its own tenant's templates and global
 * ones (tenant null); anything else is a 404, as if it did not exist. Requests without a key
 * (auth off) see global templates only.
 *
 * Caching: versions are immutable, so compiled versions are kept per isolate by (id, version),
 * each with the uid of the template it came from (a template deleted and created again under
 * the same id has a new uid: its versions are read again); the template's head (tenant, production pointer, latest) is read from
 * Redis on every request, so moving the production pointer or deleting a template takes
 * effect at once on every isolate.
 */
import type { Context } from 'hono';
import type { AppEnv } from '../context.ts';
import { errors, GatewayError } from '../errors.ts';
import { annotateRequestLog } from '../observability/index.ts';
import {
  type CompiledVersion,
  compileVersion,
  missingVariables,
  type RenderedVersion,
  renderVersion,
} from './render.ts';
import type { PromptReference } from './schema.ts';
import { TemplateStore } from './store.ts';

export const TEMPLATE_HEADER = 'x-gateway-template';

const COMPILED_MAX = 1_000;
const compiled = new Map<string, { uid: string; version: CompiledVersion }>();

function remember(key: string, uid: string, version: CompiledVersion): void {
  if (compiled.size >= COMPILED_MAX) compiled.delete(compiled.keys().next().value!);
  compiled.set(key, { uid, version });
}

export interface RenderedPrompt extends RenderedVersion {
  id: string;
  version: number;
}

/** Renders the named template for the caller; 404 / 400 / 503 as GatewayErrors. Records the
 * template in the request log and the `x-gateway-template` response header. */
export async function renderPrompt(
  c: Context<AppEnv>,
  ref: PromptReference,
): Promise<RenderedPrompt> {
  const redis = c.get('deps').redis;
  if (!redis) throw errors.templatesUnavailable();
  const store = new TemplateStore(redis);
  const tenant = c.get('apiKey')?.tenant ?? null;
  const asked = ref.version ?? undefined;
  try {
    const [head, early] = await Promise.all([
      store.head(ref.id),
      // An explicit version not cached yet is read in the same round trip as the head.
      asked !== undefined && !compiled.has(`${ref.id}\n${asked}`)
        ? store.version(ref.id, asked)
        : null,
    ]);
    if (!head || (head.tenant !== null && head.tenant !== tenant)) {
      throw errors.templateNotFound(ref.id);
    }
    const n = asked ?? head.production;
    if (n > head.latest) throw errors.templateNotFound(ref.id, n);
    const key = `${head.id}\n${n}`;
    const hit = compiled.get(key);
    let version = hit?.uid === head.uid ? hit.version : undefined;
    if (!version) {
      const stored = early ?? (await store.version(ref.id, n));
      if (!stored) throw errors.templateNotFound(ref.id, n);
      version = compileVersion(stored);
      remember(key, head.uid, version);
    }
    const missing = missingVariables(version, ref.variables);
    if (missing.length > 0) throw errors.missingTemplateVariables(ref.id, missing);
    const rendered = renderVersion(version, ref.variables);
    // A list repeats its section once per item: the rendered prompt is bounded like a body.
    const max = c.get('deps').config.defaults.maxBodyBytes;
    const size = rendered.messages.reduce(
      (sum, m) => sum + m.content.length,
      rendered.instructions?.length ?? 0,
    );
    if (size > max) throw errors.bodyTooLarge(max);
    annotateRequestLog(c, { template: { id: head.id, version: n } });
    c.header(TEMPLATE_HEADER, `${head.id}@${n}`);
    return { id: head.id, version: n, ...rendered };
  } catch (err) {
    if (err instanceof GatewayError) throw err;
    throw errors.templatesUnavailable();
  }
}

/** Chat messages: the instructions as a system message, then the template's messages. */
export function renderedChatMessages(
  rendered: RenderedVersion,
): { role: string; content: string }[] {
  return [
    ...(rendered.instructions === undefined
      ? []
      : [{ role: 'system', content: rendered.instructions }]),
    ...rendered.messages,
  ];
}
