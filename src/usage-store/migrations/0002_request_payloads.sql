-- Captured request payloads (src/capture): the prompt and answer text of the requests of
-- tenants whose config turns `payloadCapture` on, redacted of secrets by the gateway. One
-- row per usage event (`id` = usage_events.id), written in the same transaction as it.
--
-- Partitioned by the UTC day the payload expires on (the request's day + the tenant's
-- retentionDays), not by the request's day: tenants keep payloads for different numbers of
-- days, and the retention job drops each day partition whole at the start of its day. The
-- primary key holds the partition key; a redelivered event has the same (expires_on, id).
CREATE TABLE request_payloads (
  id uuid NOT NULL,
  expires_on date NOT NULL,
  at timestamptz NOT NULL,
  tenant text,
  prompt text,
  answer text,
  prompt_truncated boolean NOT NULL DEFAULT false,
  answer_truncated boolean NOT NULL DEFAULT false,
  received_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (expires_on, id)
) PARTITION BY RANGE (expires_on);

-- GET /admin/requests/:id reads a payload by its event id.
CREATE INDEX request_payloads_id ON request_payloads (id);
