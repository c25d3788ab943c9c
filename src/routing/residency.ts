/**
 * Data residency. A key's zone (`eu`, `us`...; `none` = unrestricted) and the deployment's
 * forced zone limit every region and endpoint a request may touch, failover included. Pure.
 */

/** A key's own zone: its `residency`, where `tenant` means the tenant's configured default. */
export function keyZone(
  residency: string | undefined,
  tenant: string | undefined,
  tenants: Record<string, { residency: string }>,
): string | undefined {
  if (residency !== 'tenant') return residency;
  return (
    (tenant !== undefined && Object.hasOwn(tenants, tenant)
      ? tenants[tenant]?.residency
      : undefined) ?? 'none'
  );
}

/** The zone a request is held to, or null when unrestricted. A key zoned differently from
 * a forced deployment zone can go nowhere: `conflict`. */
export function effectiveZone(
  keyZone: string | undefined,
  forceZone: string,
): string | null | 'conflict' {
  const key = keyZone && keyZone !== 'none' ? keyZone : null;
  const forced = forceZone !== 'none' ? forceZone : null;
  if (key && forced && key !== forced) return 'conflict';
  return key ?? forced;
}

/** An endpoint is allowed when the request is unrestricted, or its zones include the
 * request's zone (endpoints with no zone tag serve unrestricted requests only). */
export function endpointAllowed(zones: readonly string[], zone: string | null): boolean {
  return zone === null || zones.includes(zone);
}

export function regionAllowed(regionZone: string, zone: string | null): boolean {
  return zone === null || regionZone === zone;
}
