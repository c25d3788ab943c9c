import type { Context } from 'hono';
import type { z } from 'zod';
import { formatPath, type ModelConfig } from '../config/index.ts';
import type { AppEnv } from '../context.ts';
import { errors } from '../errors.ts';
import { servesEndpoint } from '../providers/capabilities.ts';
import type { Endpoint } from '../schemas/openai.ts';

/** Deeper JSON than any real request nests; past it, recursive code (validation, cache-key
 * canonicalization, token estimates) would overflow the stack. */
export const MAX_JSON_DEPTH = 64;

/** Reads the JSON body and validates it: 400 `invalid_json` (also when nested deeper than
 * MAX_JSON_DEPTH), or 400 naming the bad field. */
export async function parseBody<S extends z.ZodType>(
  c: { req: { text(): Promise<string> } },
  schema: S,
): Promise<z.output<S>> {
  const text = await c.req.text();
  if (jsonDepthExceeds(text, MAX_JSON_DEPTH)) throw errors.jsonTooDeep(MAX_JSON_DEPTH);
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw errors.invalidJson();
  }
  if (!json || typeof json !== 'object' || Array.isArray(json)) throw errors.invalidJson();
  const result = schema.safeParse(json);
  if (!result.success) {
    const issue = result.error.issues[0]!;
    throw errors.invalidField(formatPath(issue.path), issue.message);
  }
  return result.data;
}

/** The configured model behind a public name: 404 when unknown, 400 on the wrong endpoint. */
export function resolveModel(
  c: Context<AppEnv>,
  name: string,
  type: ModelConfig['type'],
  endpoint: string,
  /** The upstream endpoint the request is sent as; when given, targets that cannot serve
   * it are left out. */
  servedAs?: Endpoint,
): ModelConfig {
  const model = Object.hasOwn(c.get('deps').config.models, name)
    ? c.get('deps').config.models[name]
    : undefined;
  if (!model) throw errors.modelNotFound(name);
  if (!keyMayUse(c, name)) throw errors.modelNotAllowed(name);
  if (model.type !== type) throw errors.wrongEndpoint(name, endpoint);
  if (!servedAs) return model;
  // Only the targets whose provider can serve this endpoint (a Claude model has no legacy
  // completions); none at all is the caller's 400, never a request with empty messages.
  const { providers } = c.get('deps').config;
  const targets = model.targets.filter((t) =>
    servesEndpoint(providers[t.provider]!.kind, servedAs),
  );
  if (targets.length === 0) throw errors.wrongEndpoint(name, endpoint);
  return targets.length === model.targets.length ? model : { ...model, targets };
}

/** Whether the caller's key (if any) lists this model; keys with `models: null` use all. */
export function keyMayUse(c: Context<AppEnv>, name: string): boolean {
  const allowed = c.get('apiKey')?.models;
  return !allowed || allowed.includes(name);
}

/**
 * Whether JSON text nests arrays/objects deeper than `max`, found by one pass over the text
 * (brackets inside strings skipped) before anything recursive sees it. Pure; no JSON library
 * bounds depth while parsing.
 */
export function jsonDepthExceeds(text: string, max: number): boolean {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text.charCodeAt(i);
    if (inString) {
      if (ch === 0x5c)
        i++; // backslash: skip the escaped character
      else if (ch === 0x22) inString = false;
    } else if (ch === 0x22) inString = true;
    else if (ch === 0x5b || ch === 0x7b) {
      if (++depth > max) return true;
    } else if (ch === 0x5d || ch === 0x7d) depth--;
  }
  return false;
}
