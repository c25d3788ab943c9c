/**
 * The usage store: PostgreSQL (through Hyperdrive on Workers) holding one row per usage
 * event in day partitions, hourly and daily rollups, and the queries of the admin request
 * log. Schema: ./migrations (applied by tools/postgres/migrate.ts). Contract: `writeEvents`
 * is idempotent on the event id; `applyRetention` drops only what is past its retention.
 */
import postgres, { type Sql } from 'postgres';

export {
  type Cursor,
  decodeCursor,
  encodeCursor,
  GROUPS,
  type Group,
  MAX_LIST_RANGE_MS,
  MAX_SERIES_RANGE_MS,
  parseRequestFilters,
  parseSeriesQuery,
  type RequestFilters,
  type SeriesQuery,
} from './filters.ts';
export { addHistograms, BOUNDS_MS, bucketOf, emptyHistogram, quantile } from './histogram.ts';
export {
  getRequest,
  listRequests,
  type SeriesPoint,
  type StoredEvent,
  usageSeries,
} from './query.ts';
export { applyRetention, type Retention, type RetentionResult } from './retention.ts';
export { bucketStart, isError, type Resolution, type RollupRow, rollupRows } from './rollup.ts';
export { ensurePartitions, partitionName, writeEvents } from './write.ts';

export type { Sql };

/**
 * A client for one request or one queue batch, as Hyperdrive wants it (it pools the real
 * connections): a few sockets, no type lookup round trip, closed when the work is done.
 */
export function connectUsageStore(connectionString: string): Sql {
  return postgres(connectionString, {
    max: 2,
    fetch_types: false,
    idle_timeout: 5,
    connect_timeout: 10,
    onnotice: () => undefined,
  });
}
