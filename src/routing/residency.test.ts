import { describe, expect, it } from 'vitest';
import { effectiveZone, endpointAllowed, keyZone, regionAllowed } from './residency.ts';

describe('residency', () => {
  it('combines the key zone with a forced deployment zone', () => {
    expect(effectiveZone(undefined, 'none')).toBeNull();
    expect(effectiveZone('none', 'none')).toBeNull();
    expect(effectiveZone('eu', 'none')).toBe('eu');
    expect(effectiveZone('none', 'eu')).toBe('eu');
    expect(effectiveZone('eu', 'eu')).toBe('eu');
    expect(effectiveZone('us', 'eu')).toBe('conflict');
  });
  it("resolves a key's `tenant` residency to its tenant's default", () => {
    const tenants = { acme: { residency: 'eu' }, beta: { residency: 'none' } };
    expect(keyZone('tenant', 'acme', tenants)).toBe('eu');
    expect(keyZone('tenant', 'beta', tenants)).toBe('none');
    expect(keyZone('tenant', 'unknown', tenants)).toBe('none');
    expect(keyZone('tenant', 'toString', tenants)).toBe('none');
    expect(keyZone('us', 'acme', tenants)).toBe('us');
    expect(keyZone(undefined, 'acme', tenants)).toBeUndefined();
  });

  it('allows untagged endpoints only to unrestricted requests', () => {
    expect(endpointAllowed([], null)).toBe(true);
    expect(endpointAllowed([], 'eu')).toBe(false);
    expect(endpointAllowed(['eu'], 'eu')).toBe(true);
    expect(endpointAllowed(['us', 'eu'], 'eu')).toBe(true);
    expect(endpointAllowed(['us'], 'eu')).toBe(false);
    expect(regionAllowed('eu', null)).toBe(true);
    expect(regionAllowed('us', 'eu')).toBe(false);
  });
});
