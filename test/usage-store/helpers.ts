/** Usage events as the gateway makes them, for store tests. */
import { randomUUID } from 'node:crypto';
import type { RequestPayload } from '../../src/capture/index.ts';
import type { UsageEvent } from '../../src/events/index.ts';

let n = 0;

export function makeEvent(overrides: Partial<UsageEvent> = {}): UsageEvent {
  n++;
  return {
    id: randomUUID(),
    request_id: `req-${n}`,
    at: new Date().toISOString(),
    method: 'POST',
    endpoint: '/v1/chat/completions',
    key_id: 'key_a',
    tenant: 'acme',
    model: 'gpt-4o-mini',
    provider: 'openai',
    upstream_model: 'gpt-4o-mini',
    region: 'global',
    zone: 'none',
    status: 200,
    error_code: null,
    stream: false,
    stream_end: null,
    input_tokens: 10 + (n % 7),
    output_tokens: 5 + (n % 3),
    cached_tokens: n % 2,
    cache_write_tokens: 0,
    reasoning_tokens: n % 4,
    usage_source: 'upstream',
    cost_nanos: 1_000 + n,
    latency_ms: (n * 37) % 900,
    ttfb_ms: (n * 11) % 300,
    attempts: 1,
    cache: 'MISS',
    cache_tier: null,
    route: { zone: 'none', regions: ['us-east'], dropped_by_residency: [], demoted_by_health: [] },
    failures: [],
    limits: null,
    native: null,
    template_id: null,
    template_version: null,
    guardrails: [],
    ...overrides,
  };
}

/** The UTC day `days` from today, YYYY-MM-DD. */
export function dayFromToday(days: number): string {
  const d = new Date();
  d.setUTCHours(0, 0, 0, 0);
  d.setUTCDate(d.getUTCDate() + days);
  return d.toISOString().slice(0, 10);
}

export function makePayload(prompt: string, expiresOn: string): RequestPayload {
  return {
    expires_on: expiresOn,
    prompt,
    answer: `answer to ${prompt}`,
    prompt_truncated: false,
    answer_truncated: false,
  };
}
