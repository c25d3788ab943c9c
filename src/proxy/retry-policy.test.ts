import { describe, expect, it } from 'vitest';
import { actionForStatus, parseRetryAfter, retryDelayMs } from './retry-policy.ts';

const policy = { maxAttempts: 3, baseDelayMs: 100, maxDelayMs: 1_000 };

describe('actionForStatus', () => {
  it.each([
    [429, 'retry'],
    [500, 'retry'],
    [502, 'retry'],
    [503, 'retry'],
    [504, 'retry'],
    [529, 'retry'],
    [408, 'retry'],
    [401, 'fallback'],
    [403, 'fallback'],
    [404, 'fallback'],
    [400, 'reject'],
    [413, 'reject'],
    [422, 'reject'],
  ] as const)('%i -> %s', (status, action) => {
    expect(actionForStatus(status)).toBe(action);
  });
});

describe('retryDelayMs', () => {
  it('grows exponentially with full jitter, capped', () => {
    expect(retryDelayMs(1, policy, undefined, () => 0.999)).toBe(99);
    expect(retryDelayMs(2, policy, undefined, () => 0.999)).toBe(199);
    expect(retryDelayMs(3, policy, undefined, () => 0.5)).toBe(200);
    expect(retryDelayMs(10, policy, undefined, () => 0.999)).toBe(999);
    expect(retryDelayMs(3, policy, undefined, () => 0)).toBe(0);
  });

  it('honours retry-after within the cap, and gives up beyond it', () => {
    expect(retryDelayMs(1, policy, 750, () => 0)).toBe(750);
    expect(retryDelayMs(1, policy, 1_001, () => 0)).toBeUndefined();
  });
});

describe('parseRetryAfter', () => {
  const h = (init: Record<string, string>) => new Headers(init);
  it('prefers retry-after-ms', () => {
    expect(parseRetryAfter(h({ 'retry-after-ms': '250.5', 'retry-after': '9' }))).toBe(251);
  });
  it('reads seconds', () => {
    expect(parseRetryAfter(h({ 'retry-after': '2' }))).toBe(2_000);
    expect(parseRetryAfter(h({ 'retry-after': '0.5' }))).toBe(500);
  });
  it('reads an HTTP date', () => {
    const now = Date.parse('2026-01-01T00:00:00Z');
    expect(parseRetryAfter(h({ 'retry-after': 'Thu, 01 Jan 2026 00:00:03 GMT' }), now)).toBe(3_000);
  });
  it('ignores absent and garbage values', () => {
    expect(parseRetryAfter(h({}))).toBeUndefined();
    expect(parseRetryAfter(h({ 'retry-after': 'soon' }))).toBeUndefined();
    expect(parseRetryAfter(h({ 'retry-after': '-3' }))).toBeUndefined();
  });
});
