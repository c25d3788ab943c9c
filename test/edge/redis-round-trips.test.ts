import { afterEach, describe, expect, it, vi } from 'vitest';
import { createKey, eventually, hello, REDIS, scenarioGateway } from './helpers.ts';

/**
 * The fetches one request makes, in order, told apart by host: the test Redis (the Upstash
 * bridge: one fetch is one round trip, a pipeline included) or the upstream.
 */
function recordFetches(upstreamBase: string) {
  const seen: ('redis' | 'upstream')[] = [];
  const original = globalThis.fetch;
  vi.spyOn(globalThis, 'fetch').mockImplementation((input, init) => {
    const url = input instanceof Request ? input.url : String(input);
    if (url.startsWith(REDIS.url)) seen.push('redis');
    else if (url.startsWith(upstreamBase)) seen.push('upstream');
    return original(input, init);
  });
  return seen;
}

afterEach(() => vi.restoreAllMocks());

describe('Redis round trips of one request (key cached in the isolate)', () => {
  it('one before the upstream call for key check, requests/min, tokens/min and budget; settlements batched in one after', async () => {
    const { s, gw } = await scenarioGateway([{}, {}]);
    const { headers } = await createKey(gw, {
      limits: { requestsPerMinute: 100, tokensPerMinute: 100_000 },
      budget: { monthlyUsd: 1_000 },
    });
    // warms the isolate: the key record, target health and the scripts' SHAs
    expect((await gw.chat(hello, headers)).status).toBe(200);
    await s.waitFor(1);
    await new Promise((resolve) => setTimeout(resolve, 100)); // its settlement written

    const seen = recordFetches(s.baseUrl);
    const res = await gw.chat(hello, headers);
    expect(res.status).toBe(200);
    await res.text();
    await eventually(() => expect(seen.filter((f) => f === 'redis').length).toBeGreaterThan(1));
    const before = seen.slice(0, seen.indexOf('upstream'));
    expect(seen).toContain('upstream');
    expect(before).toEqual(['redis']);
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(seen.slice(seen.indexOf('upstream') + 1)).toEqual(['redis']);
  });
});
