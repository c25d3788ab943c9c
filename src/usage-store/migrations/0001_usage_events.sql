-- Usage events (one row per request, src/events) and their rollups. Applied once, in a
-- transaction, by tools/postgres/migrate.ts (`npm run db:migrate`, and `npm run dev`).

-- Raw events, one partition per UTC day (created by the consumer and its cron; dropped by
-- the retention job). The primary key holds the partition key, as Postgres requires of a
-- unique constraint on a partitioned table; a redelivered event has the same (at, id).
CREATE TABLE usage_events (
  id uuid NOT NULL,
  at timestamptz NOT NULL,
  request_id text NOT NULL,
  method text NOT NULL,
  endpoint text NOT NULL,
  key_id text,
  tenant text,
  model text,
  provider text,
  upstream_model text,
  region text,
  zone text,
  status integer NOT NULL,
  error_code text,
  stream boolean NOT NULL DEFAULT false,
  stream_end text,
  input_tokens bigint NOT NULL DEFAULT 0,
  output_tokens bigint NOT NULL DEFAULT 0,
  cached_tokens bigint NOT NULL DEFAULT 0,
  cache_write_tokens bigint NOT NULL DEFAULT 0,
  reasoning_tokens bigint NOT NULL DEFAULT 0,
  usage_source text,
  cost_nanos bigint NOT NULL DEFAULT 0,
  latency_ms integer NOT NULL,
  ttfb_ms integer,
  attempts integer NOT NULL DEFAULT 0,
  cache text,
  cache_tier text,
  route jsonb,
  failures jsonb NOT NULL DEFAULT '[]',
  limits text,
  native text,
  received_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (at, id)
) PARTITION BY RANGE (at);

-- The request log reads newest first, by (at, id), optionally within one filter.
CREATE INDEX usage_events_at_id ON usage_events (at DESC, id DESC);
CREATE INDEX usage_events_tenant ON usage_events (tenant, at DESC, id DESC);
CREATE INDEX usage_events_key ON usage_events (key_id, at DESC, id DESC);
CREATE INDEX usage_events_model ON usage_events (model, at DESC, id DESC);
CREATE INDEX usage_events_provider ON usage_events (provider, at DESC, id DESC);
CREATE INDEX usage_events_region ON usage_events (region, at DESC, id DESC);
CREATE INDEX usage_events_status ON usage_events (status, at DESC, id DESC);
CREATE INDEX usage_events_error ON usage_events (error_code, at DESC, id DESC)
  WHERE error_code IS NOT NULL;
CREATE INDEX usage_events_id ON usage_events (id);
CREATE INDEX usage_events_request_id ON usage_events (request_id);

-- Elementwise sum of two histograms (latency and TTFB buckets, src/usage-store/histogram.ts).
CREATE FUNCTION usage_hist_add(a bigint[], b bigint[]) RETURNS bigint[]
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
  SELECT coalesce(array_agg(coalesce(a[i], 0) + coalesce(b[i], 0) ORDER BY i), '{}')
  FROM generate_series(1, greatest(coalesce(array_length(a, 1), 0), coalesce(array_length(b, 1), 0))) AS i
$$;

-- Rollups per hour and per day by every dimension at once ('' = none); a query groups by
-- one of them by summing the others away. Written in the same transaction as the raw rows
-- they count, from the rows that insert actually added, so a redelivery adds nothing.
CREATE TABLE usage_rollup_hour (
  bucket timestamptz NOT NULL,
  tenant text NOT NULL,
  key_id text NOT NULL,
  model text NOT NULL,
  provider text NOT NULL,
  region text NOT NULL,
  requests bigint NOT NULL,
  errors bigint NOT NULL,
  input_tokens bigint NOT NULL,
  output_tokens bigint NOT NULL,
  cached_tokens bigint NOT NULL,
  cache_write_tokens bigint NOT NULL,
  reasoning_tokens bigint NOT NULL,
  cost_nanos bigint NOT NULL,
  latency_ms_sum bigint NOT NULL,
  latency_hist bigint[] NOT NULL,
  ttfb_count bigint NOT NULL,
  ttfb_hist bigint[] NOT NULL,
  PRIMARY KEY (bucket, tenant, key_id, model, provider, region)
);
CREATE TABLE usage_rollup_day (LIKE usage_rollup_hour INCLUDING ALL);
CREATE INDEX usage_rollup_hour_tenant ON usage_rollup_hour (tenant, bucket);
CREATE INDEX usage_rollup_day_tenant ON usage_rollup_day (tenant, bucket);

-- Sum of histograms over rows (the usage series groups rollup rows).
CREATE AGGREGATE usage_hist_sum(bigint[]) (SFUNC = usage_hist_add, STYPE = bigint[], INITCOND = '{}');
