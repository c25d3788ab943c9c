import { describe, expect, it } from 'vitest';
import { GatewayError } from '../errors.ts';
import { decodeCursor, encodeCursor, parseRequestFilters, parseSeriesQuery } from './filters.ts';

const now = new Date('2026-12-01T12:00:00Z');

function badRequest(fn: () => unknown): { code: string | null; param: string | null } {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(GatewayError);
    expect((err as GatewayError).status).toBe(400);
    return { code: (err as GatewayError).code, param: (err as GatewayError).param };
  }
  throw new Error('expected a 400');
}

describe('parseRequestFilters', () => {
  it('defaults to the last 24 hours, 50 rows', () => {
    const f = parseRequestFilters({}, now);
    expect(f.to).toEqual(now);
    expect(f.from).toEqual(new Date('2026-11-30T12:00:00Z'));
    expect(f.limit).toBe(50);
  });

  it('reads every filter', () => {
    const cursor = encodeCursor({
      at: '2026-12-01T11:00:00.000Z',
      id: '6c1f2a44-1111-4abc-8def-0123456789ab',
    });
    expect(
      parseRequestFilters(
        {
          tenant: 'acme',
          key: 'key_1',
          model: 'm',
          provider: 'p',
          region: 'eu-west',
          status: '5xx',
          error_code: 'upstream_error',
          cache: 'hit',
          min_latency_ms: '250',
          limit: '10',
          cursor,
        },
        now,
      ),
    ).toMatchObject({
      tenant: 'acme',
      key: 'key_1',
      status: [500, 599],
      errorCode: 'upstream_error',
      cache: 'HIT',
      minLatencyMs: 250,
      limit: 10,
      cursor: { at: '2026-12-01T11:00:00.000Z', id: '6c1f2a44-1111-4abc-8def-0123456789ab' },
    });
    expect(parseRequestFilters({ status: '429' }, now).status).toEqual([429, 429]);
  });

  it('answers unknown filters, bad values, malformed cursors and large ranges with 400s', () => {
    expect(badRequest(() => parseRequestFilters({ colour: 'red' }, now))).toEqual({
      code: 'unknown_filter',
      param: 'colour',
    });
    expect(badRequest(() => parseRequestFilters({ status: '6xx' }, now)).param).toBe('status');
    expect(badRequest(() => parseRequestFilters({ limit: '0' }, now)).param).toBe('limit');
    expect(badRequest(() => parseRequestFilters({ limit: '501' }, now)).param).toBe('limit');
    expect(badRequest(() => parseRequestFilters({ min_latency_ms: '-1' }, now)).param).toBe(
      'min_latency_ms',
    );
    expect(badRequest(() => parseRequestFilters({ from: 'yesterday' }, now)).param).toBe('from');
    expect(badRequest(() => parseRequestFilters({ from: '2026-12-01T13:00:00Z' }, now)).param).toBe(
      'from',
    );
    expect(badRequest(() => parseRequestFilters({ from: '2026-10-01T00:00:00Z' }, now)).code).toBe(
      'range_too_large',
    );
    for (const cursor of [
      'x',
      'not a cursor',
      btoa('[1,2]'),
      btoa('["2026-01-01T00:00:00Z","not-a-uuid"]'),
      btoa('{'),
    ]) {
      expect(badRequest(() => parseRequestFilters({ cursor }, now)).code).toBe('invalid_cursor');
    }
  });
});

describe('cursor', () => {
  it('round-trips', () => {
    const c = { at: '2026-12-01T11:00:00.123Z', id: '6c1f2a44-1111-4abc-8def-0123456789ab' };
    expect(decodeCursor(encodeCursor(c))).toEqual(c);
  });
});

describe('parseSeriesQuery', () => {
  it('groups by model at hour resolution by default; day allows 400 days, hour 31', () => {
    expect(parseSeriesQuery({}, now)).toMatchObject({ groupBy: 'model', resolution: 'hour' });
    expect(
      parseSeriesQuery({ resolution: 'day', from: '2026-01-01T00:00:00Z' }, now).resolution,
    ).toBe('day');
    expect(badRequest(() => parseSeriesQuery({ from: '2026-01-01T00:00:00Z' }, now)).code).toBe(
      'range_too_large',
    );
    expect(badRequest(() => parseSeriesQuery({ group_by: 'colour' }, now)).param).toBe('group_by');
    expect(badRequest(() => parseSeriesQuery({ resolution: 'minute' }, now)).param).toBe(
      'resolution',
    );
    expect(badRequest(() => parseSeriesQuery({ status: '5xx' }, now)).code).toBe('unknown_filter');
  });
});
