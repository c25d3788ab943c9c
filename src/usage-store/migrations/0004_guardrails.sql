-- Guardrail decisions of each request (src/guardrails: policy, check, action, side, match
-- count; never the matched text), queryable with jsonb operators, e.g.
-- WHERE guardrails @> '[{"check": "pii"}]'.
ALTER TABLE usage_events ADD COLUMN guardrails jsonb NOT NULL DEFAULT '[]';
CREATE INDEX usage_events_guardrails ON usage_events USING gin (guardrails jsonb_path_ops);
