import type { z } from 'zod';
import { configSchema, type GatewayConfig } from './schema.ts';

/** Thrown when the config is invalid; the message names every bad field and why. */
export class ConfigError extends Error {
  override name = 'ConfigError';
}

type Vars = Record<string, unknown>;

/**
 * Validates the bundled config after substituting `${VAR}` (or `${VAR:-default}`) from the
 * Worker's vars and secrets. Called once per isolate, at module load, so a bad config fails
 * `wrangler dev` / `wrangler deploy` at startup instead of on the first request.
 */
export function loadConfig(raw: unknown, vars: Vars): GatewayConfig {
  const missing: string[] = [];
  const substituted = substitute(raw, vars, [], missing);
  const issues = missing.slice();
  const result = configSchema.safeParse(substituted);
  if (!result.success) issues.push(...result.error.issues.map(formatIssue));
  if (issues.length > 0) {
    throw new ConfigError(`invalid gateway config:\n  - ${issues.join('\n  - ')}`);
  }
  return (result as { data: GatewayConfig }).data;
}

const VAR = /\$\{([A-Z_][A-Z0-9_]*)(?::-([^}]*))?\}/g;

function substitute(value: unknown, vars: Vars, path: PropertyKey[], missing: string[]): unknown {
  if (typeof value === 'string') {
    return value.replace(VAR, (_, name: string, fallback: string | undefined) => {
      const v = vars[name];
      if (typeof v === 'string' && v !== '') return v;
      if (fallback !== undefined) return fallback;
      missing.push(`${formatPath(path)}: variable ${name} is not set (a Worker var or secret)`);
      return '';
    });
  }
  if (Array.isArray(value)) return value.map((v, i) => substitute(v, vars, [...path, i], missing));
  if (value && typeof value === 'object') {
    return Object.fromEntries(
      Object.entries(value).map(([k, v]) => [k, substitute(v, vars, [...path, k], missing)]),
    );
  }
  return value;
}

function formatIssue(issue: z.core.$ZodIssue): string {
  return `${formatPath(issue.path)}: ${issue.message}`;
}

/** `models.gpt-4o.targets[0].provider`: the way people write config paths. */
export function formatPath(path: readonly PropertyKey[]): string {
  if (path.length === 0) return '(root)';
  return path
    .map((p, i) => (typeof p === 'number' ? `[${p}]` : i === 0 ? String(p) : `.${String(p)}`))
    .join('');
}
