/**
 * Where a pool's endpoints come from: a static list, or a Kubernetes headless Service whose
 * A records (one a ready pod) are re-resolved periodically. Pure helpers; the pool runs the
 * timer.
 */
import { promises as dns } from 'node:dns';

export type Resolve4 = (name: string) => Promise<string[]>;

export const systemResolve4: Resolve4 = (name) => dns.resolve4(name);

/** Base URLs of the resolved addresses, sorted (so the order is stable between resolutions). */
export function endpointUrls(addresses: readonly string[], port: number, scheme: string): string[] {
  return [...new Set(addresses)].sort().map((ip) => `${scheme}://${ip}:${port}`);
}

export function diffEndpoints(
  current: Iterable<string>,
  next: readonly string[],
): { added: string[]; removed: string[] } {
  const now = new Set(current);
  const want = new Set(next);
  return {
    added: next.filter((u) => !now.has(u)),
    removed: [...now].filter((u) => !want.has(u)),
  };
}

/** The label and map key of an endpoint: its URL without the scheme or a trailing slash. */
export function endpointId(url: string): string {
  const u = new URL(url);
  const path = u.pathname.replace(/\/+$/, '');
  return `${u.host}${path}`;
}
