/**
 * The admin API's answers, as the console reads them: the gateway's own types where it has
 * them (type-only imports, erased from the bundle), so the two cannot drift apart.
 */

import type { healthDocument } from '../../../src/admin/health.ts';
import type { CreateKeyInput, KeyRecord } from '../../../src/auth/keys.ts';
import type { AuditEntry } from '../../../src/auth/store.ts';
import type { RequestPayload } from '../../../src/capture/payload.ts';
import type { RouteSummary, UsageEvent } from '../../../src/events/event.ts';
import type { UsageTotals } from '../../../src/usage/counters.ts';
import type { Group } from '../../../src/usage-store/filters.ts';
import type { SeriesPoint } from '../../../src/usage-store/query.ts';

export interface Session {
  actor: string;
  /** The one tenant a tenant-scoped token may read; null: every tenant. */
  tenant: string | null;
  expiresAt: string;
}

export interface List<T> {
  object: 'list';
  data: T[];
}

/** What an admin sets on a key (the create input, every field given). */
export type KeyPolicy = CreateKeyInput;
export type { KeyRecord, UsageTotals };

export interface KeyUsage {
  id: string;
  month: string;
  spend_usd: number;
  reserved_usd: number;
  budget_usd: number | null;
  month_usage: UsageTotals;
  today_usage: UsageTotals;
}

export type { AuditEntry, RouteSummary };

/** One row of the request log (src/usage-store/query.ts `present`): the event, cost in USD. */
export type RequestEvent = Omit<UsageEvent, 'cost_nanos' | 'payload'> & {
  cost_usd: number;
  received_at?: string;
  /** `GET /admin/requests/:id` only: the captured payload, or null. */
  payload?: RequestPayload | null;
};

export interface RequestPage {
  object: 'list';
  data: RequestEvent[];
  next_cursor: string | null;
}

export type { Group, SeriesPoint };

export interface UsageSeries {
  object: 'list';
  group_by: Group;
  resolution: 'hour' | 'day';
  from: string;
  to: string;
  data: SeriesPoint[];
}

/** `GET /admin/health` (docs/architecture.md, "Admin API"). */
export type HealthDocument = Awaited<ReturnType<typeof healthDocument>>;
export type ProviderHealth = HealthDocument['providers'][number];
export type RegionHealth = HealthDocument['regions'][number];
export type ProbeVerdict = ProviderHealth['probes'][number];
