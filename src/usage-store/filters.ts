/**
 * The request log's and usage series' query parameters: parsed and checked here (pure), so
 * that an unknown filter, a malformed cursor or a range too large is a clear 400 naming the
 * parameter, never a scan of the whole table.
 */
import { GatewayError } from '../errors.ts';
import type { Resolution } from './rollup.ts';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
/** Longest range of one request-log query. */
export const MAX_LIST_RANGE_MS = 31 * DAY;
/** Longest range of a usage series: 31 days by hour, 400 by day. */
export const MAX_SERIES_RANGE_MS: Record<Resolution, number> = { hour: 31 * DAY, day: 400 * DAY };
export const DEFAULT_LIMIT = 50;
export const MAX_LIMIT = 500;

export interface RequestFilters {
  from: Date;
  to: Date;
  tenant?: string;
  key?: string;
  model?: string;
  provider?: string;
  region?: string;
  /** An exact status (`429`) or a class (`5xx`): [lowest, highest]. */
  status?: [number, number];
  errorCode?: string;
  cache?: 'HIT' | 'MISS' | 'BYPASS';
  minLatencyMs?: number;
  limit: number;
  cursor?: Cursor;
}

/** Where the previous page ended: keyset (at, id), newest first. */
export interface Cursor {
  at: string;
  id: string;
}

export const GROUPS = ['tenant', 'key', 'model', 'provider', 'region'] as const;
export type Group = (typeof GROUPS)[number];

export interface SeriesQuery {
  from: Date;
  to: Date;
  groupBy: Group;
  resolution: Resolution;
  tenant?: string;
  key?: string;
  model?: string;
  provider?: string;
  region?: string;
}

const DIMENSIONS = ['tenant', 'key', 'model', 'provider', 'region'] as const;
const LIST_PARAMS = new Set<string>([
  'from',
  'to',
  ...DIMENSIONS,
  'status',
  'error_code',
  'cache',
  'min_latency_ms',
  'limit',
  'cursor',
]);
const SERIES_PARAMS = new Set<string>(['from', 'to', ...DIMENSIONS, 'group_by', 'resolution']);

function bad(param: string, message: string, code = 'invalid_filter'): GatewayError {
  return new GatewayError(400, message, { code, param });
}

function rejectUnknown(query: Record<string, string>, known: Set<string>): void {
  for (const name of Object.keys(query)) {
    if (!known.has(name)) {
      throw bad(
        name,
        `Unknown filter "${name.slice(0, 64)}". Known: ${[...known].join(', ')}.`,
        'unknown_filter',
      );
    }
  }
}

function time(query: Record<string, string>, name: string): Date | undefined {
  const raw = query[name];
  if (raw === undefined) return undefined;
  const d = new Date(raw);
  if (raw === '' || Number.isNaN(d.getTime()))
    throw bad(name, `"${name}" must be an ISO 8601 time, e.g. 2026-12-01T00:00:00Z.`);
  return d;
}

function range(
  query: Record<string, string>,
  defaultSpanMs: number,
  maxSpanMs: number,
  now: Date,
): { from: Date; to: Date } {
  const to = time(query, 'to') ?? now;
  const from = time(query, 'from') ?? new Date(to.getTime() - defaultSpanMs);
  if (from.getTime() >= to.getTime()) throw bad('from', '"from" must be before "to".');
  if (to.getTime() - from.getTime() > maxSpanMs) {
    throw bad(
      'from',
      `The range is too large: at most ${maxSpanMs / DAY} days per query.`,
      'range_too_large',
    );
  }
  return { from, to };
}

function dimensions(query: Record<string, string>): Partial<Record<Group, string>> {
  const out: Partial<Record<Group, string>> = {};
  for (const name of DIMENSIONS) {
    const v = query[name];
    if (v === undefined) continue;
    if (v === '' || v.length > 256) throw bad(name, `"${name}" must be 1 to 256 characters.`);
    out[name] = v;
  }
  return out;
}

export function parseRequestFilters(
  query: Record<string, string>,
  now = new Date(),
): RequestFilters {
  rejectUnknown(query, LIST_PARAMS);
  const filters: RequestFilters = {
    ...range(query, DAY, MAX_LIST_RANGE_MS, now),
    ...dimensions(query),
    limit: DEFAULT_LIMIT,
  };
  if (query.status !== undefined) {
    const s = query.status.toLowerCase();
    const cls = /^([1-5])xx$/.exec(s);
    if (cls) filters.status = [Number(cls[1]) * 100, Number(cls[1]) * 100 + 99];
    else if (/^[1-5]\d\d$/.test(s)) filters.status = [Number(s), Number(s)];
    else throw bad('status', '"status" must be a status code (429) or a class (2xx ... 5xx).');
  }
  if (query.error_code !== undefined) {
    if (!/^[\w.:-]{1,64}$/.test(query.error_code))
      throw bad('error_code', '"error_code" must be an error code such as rate_limit_exceeded.');
    filters.errorCode = query.error_code;
  }
  if (query.cache !== undefined) {
    const c = query.cache.toUpperCase();
    if (c !== 'HIT' && c !== 'MISS' && c !== 'BYPASS')
      throw bad('cache', '"cache" must be HIT, MISS or BYPASS.');
    filters.cache = c;
  }
  if (query.min_latency_ms !== undefined) {
    const n = Number(query.min_latency_ms);
    if (!/^\d{1,9}$/.test(query.min_latency_ms) || !Number.isSafeInteger(n))
      throw bad('min_latency_ms', '"min_latency_ms" must be a whole number of milliseconds.');
    filters.minLatencyMs = n;
  }
  if (query.limit !== undefined) {
    const n = Number(query.limit);
    if (!/^\d{1,4}$/.test(query.limit) || n < 1 || n > MAX_LIMIT)
      throw bad('limit', `"limit" must be 1 to ${MAX_LIMIT}.`);
    filters.limit = n;
  }
  if (query.cursor !== undefined) filters.cursor = decodeCursor(query.cursor);
  return filters;
}

export function parseSeriesQuery(query: Record<string, string>, now = new Date()): SeriesQuery {
  rejectUnknown(query, SERIES_PARAMS);
  const resolution = query.resolution ?? 'hour';
  if (resolution !== 'hour' && resolution !== 'day')
    throw bad('resolution', '"resolution" must be hour or day.');
  const groupBy = query.group_by ?? 'model';
  if (!(GROUPS as readonly string[]).includes(groupBy))
    throw bad('group_by', `"group_by" must be one of ${GROUPS.join(', ')}.`);
  return {
    ...range(query, resolution === 'hour' ? DAY : 30 * DAY, MAX_SERIES_RANGE_MS[resolution], now),
    ...dimensions(query),
    groupBy: groupBy as Group,
    resolution,
  };
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

export function encodeCursor(cursor: Cursor): string {
  const json = JSON.stringify([cursor.at, cursor.id]);
  return btoa(json).replaceAll('+', '-').replaceAll('/', '_').replace(/=+$/, '');
}

export function decodeCursor(raw: string): Cursor {
  const malformed = () =>
    bad(
      'cursor',
      'Malformed cursor: pass back the next_cursor of a previous page.',
      'invalid_cursor',
    );
  if (!/^[\w-]{1,200}$/.test(raw)) throw malformed();
  let parsed: unknown;
  try {
    parsed = JSON.parse(atob(raw.replaceAll('-', '+').replaceAll('_', '/')));
  } catch {
    throw malformed();
  }
  if (!Array.isArray(parsed) || parsed.length !== 2) throw malformed();
  const [at, id] = parsed as unknown[];
  if (typeof at !== 'string' || typeof id !== 'string' || !UUID.test(id)) throw malformed();
  if (Number.isNaN(new Date(at).getTime())) throw malformed();
  return { at, id };
}
