import { describe, expect, it } from 'vitest';
import { createKeySchema, updateKeySchema } from '../../../src/auth/keys.ts';
import type { KeyRecord } from '../api/types.ts';
import {
  createBody,
  emptyKeyForm,
  formFromKey,
  patchBody,
  toLocalInput,
  validateKeyForm,
} from './key-form.ts';

const NOW = Date.parse('2026-12-01T12:00:00Z');

const record: KeyRecord = {
  id: 'key_0123456789abcdef',
  prefix: 'sk-gw-Ab3x…',
  name: 'checkout',
  tenant: 'acme',
  models: ['gpt-4o-mini'],
  residency: 'eu',
  limits: { requestsPerMinute: 60, tokensPerMinute: null },
  budget: { monthlyUsd: 25 },
  expiresAt: '2027-01-01T10:30:45.000Z',
  disabled: false,
  allowedOrigins: ['https://shop.example.com'],
  guardrails: null,
  createdAt: '2026-11-01T00:00:00.000Z',
  updatedAt: '2026-11-01T00:00:00.000Z',
  revokedAt: null,
};

describe('validateKeyForm', () => {
  it('names each field that is wrong, and sends nothing', () => {
    const { errors, policy } = validateKeyForm(
      {
        ...emptyKeyForm(),
        name: '  ',
        residency: 'e u',
        requestsPerMinute: '1.5',
        tokensPerMinute: '-3',
        monthlyBudgetUsd: '2000000',
        expiresAt: '2026-11-30T10:00',
      },
      NOW,
    );
    expect(policy).toBeUndefined();
    expect(Object.keys(errors!).sort()).toEqual([
      'expiresAt',
      'monthlyBudgetUsd',
      'name',
      'requestsPerMinute',
      'residency',
      'tokensPerMinute',
    ]);
    expect(errors!.expiresAt).toContain('future');
  });

  it('turns the form into a create body the gateway accepts as it is', () => {
    const { policy } = validateKeyForm(
      {
        ...emptyKeyForm(),
        name: ' batch jobs ',
        models: 'gpt-4o-mini, llama-3.1-8b-instruct  claude-sonnet-4-6',
        requestsPerMinute: '120',
        monthlyBudgetUsd: '12.5',
        expiresAt: '2027-02-01T09:00',
        guardrails: 'pii-mask, no-secrets',
      },
      NOW,
    );
    const body = createBody(policy!);
    expect(body).toMatchObject({
      name: 'batch jobs',
      tenant: 'default',
      models: ['gpt-4o-mini', 'llama-3.1-8b-instruct', 'claude-sonnet-4-6'],
      residency: 'tenant',
      limits: { requestsPerMinute: 120, tokensPerMinute: null },
      budget: { monthlyUsd: 12.5 },
      guardrails: ['pii-mask', 'no-secrets'],
      disabled: false,
    });
    expect(Date.parse(body.expiresAt!)).toBe(new Date('2027-02-01T09:00').getTime());
    expect(createKeySchema.safeParse(body).success).toBe(true);
    // Empty models: every model.
    expect(validateKeyForm({ ...emptyKeyForm(), name: 'x' }, NOW).policy!.models).toBeNull();
    // Empty guardrails: the tenant's policies, else the defaults.
    expect(validateKeyForm({ ...emptyKeyForm(), name: 'x' }, NOW).policy!.guardrails).toBeNull();
    const bad = validateKeyForm({ ...emptyKeyForm(), name: 'x', guardrails: 'pii <b>' }, NOW);
    expect(bad.errors!.guardrails).toContain('Policy names');
  });
});

describe('patchBody', () => {
  it('is empty for an unchanged key (its expiry seconds and CORS origins kept)', () => {
    const { policy } = validateKeyForm(formFromKey(record), NOW);
    expect(patchBody(record, policy!)).toEqual({});
  });

  it('holds only what changed, in a shape the gateway accepts', () => {
    const form = { ...formFromKey(record), tokensPerMinute: '5000', models: '', disabled: true };
    const patch = patchBody(record, validateKeyForm(form, NOW).policy!);
    expect(patch).toEqual({
      models: null,
      limits: { requestsPerMinute: 60, tokensPerMinute: 5000 },
      disabled: true,
    });
    expect(updateKeySchema.safeParse(patch).success).toBe(true);
  });

  it('clears an expiry and a budget', () => {
    const form = { ...formFromKey(record), expiresAt: '', monthlyBudgetUsd: '' };
    expect(patchBody(record, validateKeyForm(form, NOW).policy!)).toEqual({
      budget: { monthlyUsd: null },
      expiresAt: null,
    });
  });
});

it('shows an ISO time in the browser’s zone for datetime-local', () => {
  const local = toLocalInput(record.expiresAt);
  expect(new Date(local).getTime()).toBe(Date.parse('2027-01-01T10:30:00Z'));
});
