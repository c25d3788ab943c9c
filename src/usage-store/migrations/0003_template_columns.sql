-- The prompt template a request rendered (src/templates), and its version; null without one.
ALTER TABLE usage_events
  ADD COLUMN template_id text,
  ADD COLUMN template_version integer;
