import { describe, expect, it } from 'vitest';
import { FailOpenAllowance } from './fail-open.ts';

describe('FailOpenAllowance', () => {
  it('lets at most `requests` through per key per window', () => {
    const allowance = new FailOpenAllowance({ requests: 3, usd: 100, windowMs: 1_000 });
    const taken = Array.from({ length: 5 }, () => allowance.take('k', 1, 0));
    expect(taken).toEqual([true, true, true, false, false]);
    expect(allowance.take('other', 1, 0)).toBe(true);
    expect(allowance.take('k', 1, 999)).toBe(false);
    expect(allowance.take('k', 1, 1_000)).toBe(true);
  });

  it('stops at `usd` of worst-case spend', () => {
    const allowance = new FailOpenAllowance({ requests: 100, usd: 0.000_002, windowMs: 1_000 });
    expect(allowance.take('k', 1_500, 0)).toBe(true);
    expect(allowance.take('k', 1_000, 0)).toBe(false);
    expect(allowance.take('k', 500, 0)).toBe(true);
    expect(allowance.take('k', 1, 0)).toBe(false);
  });

  it('a zero allowance fails every unchecked request', () => {
    const allowance = new FailOpenAllowance({ requests: 0, usd: 1, windowMs: 1_000 });
    expect(allowance.take('k', 0, 0)).toBe(false);
  });
});
