import { describe, expect, it } from 'vitest';
import type { RequestLogRecord } from '../observability/request-log.ts';
import { producesEvent, usageEventFrom } from './event.ts';

const record: RequestLogRecord = {
  request_id: 'client-chosen-id',
  method: 'POST',
  path: '/v1/chat/completions',
  status: 200,
  latency_ms: 812,
  ttfb_ms: 95,
  model: 'gpt-4o',
  provider: 'openai-eu',
  upstream_model: 'gpt-4o-2024-08-06',
  attempts: 2,
  stream: true,
  stream_end: 'done',
  key_id: 'key_1',
  tenant: 'acme',
  usage: {
    prompt_tokens: 120,
    completion_tokens: 40,
    total_tokens: 160,
    cached_tokens: 64,
    cache_write_tokens: 8,
    reasoning_tokens: 12,
    source: 'upstream',
  },
  cost_usd: 0.000123456,
  route: {
    zone: 'eu',
    home: 'eu-west',
    home_reason: 'continent',
    country: 'DE',
    regions: ['eu-west'],
    dropped_by_residency: ['us-east'],
    demoted_by_health: [],
  },
  cache: 'MISS',
  region: 'eu-west',
  failures: ['openai-eu: 503'],
};

describe('usageEventFrom', () => {
  it('maps the finished log record to the flat event', () => {
    const at = Date.parse('2026-12-01T10:00:00.123Z');
    expect(usageEventFrom(record, at, 'e6f1c8a2-8c4b-4e55-9d3f-0a1b2c3d4e5f')).toEqual({
      id: 'e6f1c8a2-8c4b-4e55-9d3f-0a1b2c3d4e5f',
      request_id: 'client-chosen-id',
      at: '2026-12-01T10:00:00.123Z',
      method: 'POST',
      endpoint: '/v1/chat/completions',
      key_id: 'key_1',
      tenant: 'acme',
      model: 'gpt-4o',
      provider: 'openai-eu',
      upstream_model: 'gpt-4o-2024-08-06',
      region: 'eu-west',
      zone: 'eu',
      status: 200,
      error_code: null,
      stream: true,
      stream_end: 'done',
      input_tokens: 120,
      output_tokens: 40,
      cached_tokens: 64,
      cache_write_tokens: 8,
      reasoning_tokens: 12,
      usage_source: 'upstream',
      cost_nanos: 123_456,
      latency_ms: 812,
      ttfb_ms: 95,
      attempts: 2,
      cache: 'MISS',
      cache_tier: null,
      route: {
        zone: 'eu',
        home: 'eu-west',
        home_reason: 'continent',
        regions: ['eu-west'],
        dropped_by_residency: ['us-east'],
        demoted_by_health: [],
      },
      failures: ['openai-eu: 503'],
      limits: null,
      native: null,
      template_id: null,
      template_version: null,
      guardrails: [],
    });
  });

  it('a refusal before any upstream has zero tokens and nulls, not undefined', () => {
    const refused = usageEventFrom(
      {
        request_id: 'r',
        method: 'POST',
        path: '/v1/messages',
        status: 429,
        latency_ms: 3,
        error_code: 'rate_limit_exceeded',
      },
      0,
      'id',
    );
    expect(refused).toMatchObject({
      status: 429,
      error_code: 'rate_limit_exceeded',
      input_tokens: 0,
      cost_nanos: 0,
      provider: null,
      ttfb_ms: null,
      route: null,
    });
    expect(Object.values(refused).includes(undefined)).toBe(false);
  });

  it('gives back the settled nano-USD exactly from the logged USD', () => {
    for (const nanos of [1, 7, 999_999_999, 123_456_789_012, 4_503_599_627]) {
      const e = usageEventFrom({ ...record, cost_usd: nanos / 1e9 }, 0, 'id');
      expect(e.cost_nanos).toBe(nanos);
    }
  });
});

describe('producesEvent', () => {
  it('is every /v1 path and nothing else', () => {
    expect(['/v1', '/v1/models', '/v1/messages', '/v1/chat/completions'].every(producesEvent)).toBe(
      true,
    );
    expect(['/health', '/admin/requests', '/v10', '/'].some(producesEvent)).toBe(false);
  });
});
