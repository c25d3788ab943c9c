/**
 * The key form: what the operator typed (strings) checked field by field and turned into the
 * admin API's create body or a patch of only what changed. The gateway checks again (zones
 * and models against its config); this catches typing mistakes before a round trip. Pure.
 */
import type { KeyPolicy, KeyRecord } from '../api/types.ts';

export interface KeyForm {
  name: string;
  tenant: string;
  /** Comma- or space-separated model names; empty: every model. */
  models: string;
  /** `tenant` (the tenant's default), `none`, or a zone such as `eu`. */
  residency: string;
  requestsPerMinute: string;
  tokensPerMinute: string;
  monthlyBudgetUsd: string;
  /** `<input type="datetime-local">` value (local time), or empty: never expires. */
  expiresAt: string;
  /** Comma- or space-separated guardrail policy names; empty: the tenant's (or the defaults). */
  guardrails: string;
  disabled: boolean;
}

export type FormErrors = Partial<Record<keyof KeyForm, string>>;

export const emptyKeyForm = (): KeyForm => ({
  name: '',
  tenant: 'default',
  models: '',
  residency: 'tenant',
  requestsPerMinute: '',
  tokensPerMinute: '',
  monthlyBudgetUsd: '',
  expiresAt: '',
  guardrails: '',
  disabled: false,
});

const pad = (n: number) => String(n).padStart(2, '0');

/** An ISO time as a datetime-local value in the browser's time zone. */
export function toLocalInput(iso: string | null): string {
  if (!iso) return '';
  const d = new Date(iso);
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}`;
}

export function formFromKey(key: KeyRecord): KeyForm {
  const n = (v: number | null) => (v === null ? '' : String(v));
  return {
    name: key.name,
    tenant: key.tenant,
    models: key.models?.join(', ') ?? '',
    residency: key.residency,
    requestsPerMinute: n(key.limits.requestsPerMinute),
    tokensPerMinute: n(key.limits.tokensPerMinute),
    monthlyBudgetUsd: n(key.budget.monthlyUsd),
    expiresAt: toLocalInput(key.expiresAt),
    guardrails: key.guardrails?.join(', ') ?? '',
    disabled: key.disabled,
  };
}

const nameList = (raw: string) =>
  raw
    .split(/[\s,]+/)
    .map((m) => m.trim())
    .filter(Boolean);

function positiveInt(raw: string, label: string): { value: number | null; error?: string } {
  const s = raw.trim();
  if (!s) return { value: null };
  if (!/^\d+$/.test(s) || Number(s) < 1 || !Number.isSafeInteger(Number(s)))
    return { value: null, error: `${label} must be a whole number above 0, or empty for none.` };
  return { value: Number(s) };
}

/** The policy the form describes, or the errors that stop it (keyed by field). */
export function validateKeyForm(
  form: KeyForm,
  now: number = Date.now(),
): { policy: KeyPolicy; errors?: undefined } | { policy?: undefined; errors: FormErrors } {
  const errors: FormErrors = {};
  const name = form.name.trim();
  if (!name) errors.name = 'Give the key a name (who or what uses it).';
  else if (name.length > 200) errors.name = 'At most 200 characters.';
  const tenant = form.tenant.trim();
  if (!tenant) errors.tenant = 'Name the tenant (e.g. default).';
  else if (tenant.length > 200) errors.tenant = 'At most 200 characters.';
  const models = nameList(form.models);
  const guardrails = nameList(form.guardrails);
  if (guardrails.some((g) => !/^[\w.-]{1,64}$/.test(g)))
    errors.guardrails = 'Policy names: letters, digits and . _ - (at most 64 each).';
  const residency = form.residency.trim();
  if (!/^[\w-]{1,32}$/.test(residency))
    errors.residency = 'A zone such as eu, or none, or tenant (the tenant’s default).';
  const rpm = positiveInt(form.requestsPerMinute, 'Requests per minute');
  if (rpm.error) errors.requestsPerMinute = rpm.error;
  const tpm = positiveInt(form.tokensPerMinute, 'Tokens per minute');
  if (tpm.error) errors.tokensPerMinute = tpm.error;
  let budget: number | null = null;
  const rawBudget = form.monthlyBudgetUsd.trim();
  if (rawBudget) {
    budget = Number(rawBudget);
    if (!/^\d+(\.\d+)?$/.test(rawBudget) || !(budget > 0) || budget > 1_000_000)
      errors.monthlyBudgetUsd = 'A budget in USD above 0 and at most 1 000 000, or empty for none.';
  }
  let expiresAt: string | null = null;
  if (form.expiresAt) {
    const t = new Date(form.expiresAt).getTime();
    if (Number.isNaN(t)) errors.expiresAt = 'Not a date and time.';
    else if (t <= now) errors.expiresAt = 'The expiry must be in the future.';
    else expiresAt = new Date(t).toISOString();
  }
  if (Object.keys(errors).length) return { errors };
  return {
    policy: {
      name,
      tenant,
      models: models.length ? models : null,
      residency,
      limits: { requestsPerMinute: rpm.value, tokensPerMinute: tpm.value },
      budget: { monthlyUsd: budget },
      expiresAt,
      disabled: form.disabled,
      allowedOrigins: null,
      guardrails: guardrails.length ? guardrails : null,
    },
  };
}

/** The create body: the policy without `allowedOrigins` (the console does not edit CORS). */
export function createBody(policy: KeyPolicy): Omit<KeyPolicy, 'allowedOrigins'> {
  const { allowedOrigins: _, ...body } = policy;
  return body;
}

const same = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);

/** Only the fields of `policy` that differ from `key` (a PATCH body); empty: nothing to do. */
export function patchBody(key: KeyRecord, policy: KeyPolicy): Partial<KeyPolicy> {
  const patch: Partial<KeyPolicy> = {};
  const fields = [
    'name',
    'tenant',
    'models',
    'residency',
    'limits',
    'budget',
    'guardrails',
    'disabled',
  ] as const satisfies (keyof KeyPolicy)[];
  for (const field of fields) {
    if (!same(key[field], policy[field])) Object.assign(patch, { [field]: policy[field] });
  }
  // The form shows minutes: an unchanged expiry keeps its seconds.
  if (toLocalInput(key.expiresAt) !== toLocalInput(policy.expiresAt))
    patch.expiresAt = policy.expiresAt;
  return patch;
}
