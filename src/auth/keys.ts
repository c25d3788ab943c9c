import { z } from 'zod';
import { ORIGIN } from '../cors/policy.ts';

/**
 * Gateway API keys: `sk-gw-<32 base62 chars>` (~190 bits), shown once at creation and stored
 * only as a SHA-256 digest -> record. Pure helpers and schemas; storage is in ./store.ts.
 */

export const KEY_PREFIX = 'sk-gw-';
const ALPHABET = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';

export function generateKey(): string {
  // 62 does not divide 256: reject bytes >= 248 so every character is equally likely.
  let out = '';
  while (out.length < 32) {
    for (const byte of crypto.getRandomValues(new Uint8Array(48))) {
      if (byte < 248 && out.length < 32) out += ALPHABET[byte % 62];
    }
  }
  return `${KEY_PREFIX}${out}`;
}

const encoder = new TextEncoder();
const HEX = Array.from({ length: 256 }, (_, b) => b.toString(16).padStart(2, '0'));

/** The SHA-256 of a key, in hex: what a stored key is found by (runs once per request). */
export async function digestKey(key: string): Promise<string> {
  const hash = new Uint8Array(await crypto.subtle.digest('SHA-256', encoder.encode(key)));
  let hex = '';
  for (const byte of hash) hex += HEX[byte];
  return hex;
}

export function newKeyId(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(8));
  return `key_${[...bytes].map((b) => b.toString(16).padStart(2, '0')).join('')}`;
}

/** Shown in listings instead of the key: enough to recognise it, useless to use it. */
export function displayPrefix(key: string): string {
  return `${key.slice(0, KEY_PREFIX.length + 4)}…`;
}

const nullablePositiveInt = z.number().int().positive().nullable();

/** The fields an admin sets. Without defaults here, so the same shapes serve create and update. */
const policyFields = {
  name: z.string().min(1).max(200),
  tenant: z.string().min(1).max(200),
  /** Public model names this key may use; null = every model. */
  models: z.array(z.string().min(1)).min(1, 'list at least one model, or null for all').nullable(),
  /** Residency zone (e.g. `eu`) that limits where requests may go; `none` = unrestricted;
   * `tenant` (the default) = the tenant's default from the config (`tenants.<name>.residency`,
   * itself `none` unless set), so moving a tenant to a zone moves all its keys at once. */
  residency: z.string().min(1).max(32),
  limits: z
    .object({ requestsPerMinute: nullablePositiveInt, tokensPerMinute: nullablePositiveInt })
    .strict(),
  /** At most $1 000 000 a month: spend is counted in integer nano-USD, exact below 2^53. */
  budget: z.object({ monthlyUsd: z.number().positive().max(1_000_000).nullable() }).strict(),
  expiresAt: z.iso.datetime({ offset: true }).nullable(),
  disabled: z.boolean(),
  /** Browser origins (CORS) allowed with this key, besides the config's global and tenant
   * lists; null = none of its own. */
  allowedOrigins: z
    .array(z.string().regex(ORIGIN, 'an origin such as https://app.example.com'))
    .max(50)
    .nullable(),
  /** Guardrail policies (names in the config's `guardrails.policies`) for this key's
   * requests, replacing its tenant's and the global default; null = those. */
  guardrails: z.array(z.string().min(1).max(64)).max(20).nullable(),
};

export const createKeySchema = z
  .object({
    name: policyFields.name,
    tenant: policyFields.tenant.default('default'),
    models: policyFields.models.default(null),
    residency: policyFields.residency.default('tenant'),
    limits: z
      .object({
        requestsPerMinute: nullablePositiveInt.default(null),
        tokensPerMinute: nullablePositiveInt.default(null),
      })
      .strict()
      .prefault({}),
    budget: z
      .object({ monthlyUsd: policyFields.budget.shape.monthlyUsd.default(null) })
      .strict()
      .prefault({}),
    expiresAt: policyFields.expiresAt.default(null),
    disabled: policyFields.disabled.default(false),
    allowedOrigins: policyFields.allowedOrigins.default(null),
    guardrails: policyFields.guardrails.default(null),
  })
  .strict();

export const updateKeySchema = z
  .object({
    ...policyFields,
    limits: policyFields.limits.partial(),
    budget: policyFields.budget.partial(),
  })
  .partial()
  .strict()
  .refine((patch) => Object.keys(patch).length > 0, 'give at least one field to change');

export type CreateKeyInput = z.output<typeof createKeySchema>;
export type UpdateKeyInput = z.output<typeof updateKeySchema>;

export interface KeyRecord extends CreateKeyInput {
  id: string;
  /** e.g. `sk-gw-Ab3x…` */
  prefix: string;
  createdAt: string;
  updatedAt: string;
  revokedAt: string | null;
}

/** Whether a stored key may be used at `now`: not disabled, not revoked, not expired. */
export function isUsable(record: KeyRecord, now: number = Date.now()): boolean {
  if (record.disabled || record.revokedAt) return false;
  return record.expiresAt === null || Date.parse(record.expiresAt) > now;
}

/** What the config knows, to check a key's policy against (see `keyPolicyProblem`). */
export interface KnownNames {
  zones: ReadonlySet<string>;
  models: ReadonlySet<string>;
  /** Guardrail policy names; absent: not checked. */
  policies?: ReadonlySet<string>;
}

/**
 * The first field of a key's policy (a create input or a patch) that the config cannot
 * honour: an unknown residency zone (besides `none` and `tenant`), an unknown model or
 * guardrail policy, or an `expiresAt` that is not in the future. Pure.
 */
export function keyPolicyProblem(
  policy: Partial<Pick<CreateKeyInput, 'residency' | 'models' | 'expiresAt' | 'guardrails'>>,
  known: KnownNames,
  now: number = Date.now(),
): { param: string; reason: string } | undefined {
  const { residency, models, expiresAt, guardrails } = policy;
  if (residency !== undefined && residency !== 'none' && residency !== 'tenant') {
    if (!known.zones.has(residency)) {
      return {
        param: 'residency',
        reason: `unknown zone (known: ${[...known.zones, 'none', 'tenant'].join(', ')})`,
      };
    }
  }
  const unknown = models?.findIndex((m) => !known.models.has(m)) ?? -1;
  if (models && unknown >= 0) {
    return { param: `models.${unknown}`, reason: 'no such model in the config' };
  }
  const policies = known.policies;
  const unknownPolicy = (policies && guardrails?.findIndex((p) => !policies.has(p))) ?? -1;
  if (guardrails && unknownPolicy >= 0) {
    return {
      param: `guardrails.${unknownPolicy}`,
      reason: `unknown guardrail policy (known: ${[...(policies ?? [])].join(', ') || 'none'})`,
    };
  }
  if (expiresAt && Date.parse(expiresAt) <= now) {
    return { param: 'expiresAt', reason: 'must be in the future' };
  }
  return undefined;
}

export function applyUpdate(record: KeyRecord, patch: UpdateKeyInput, now: string): KeyRecord {
  return {
    ...record,
    ...patch,
    limits: { ...record.limits, ...patch.limits },
    budget: { ...record.budget, ...patch.budget },
    updatedAt: now,
  } as KeyRecord;
}
