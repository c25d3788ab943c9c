import { Redis } from '@upstash/redis/cloudflare';
import { describe, expect, it } from 'vitest';
import {
  ADMIN_TOKEN,
  breakableRedis,
  createKey,
  eventually,
  gateway,
  hello,
  openaiAt,
  REDIS,
  scenario,
  sseData,
} from './helpers.ts';

type ErrorJson = {
  error: { message: string; type: string; code: string | null; param: string | null };
};
const redis = new Redis({ url: REDIS.url, token: REDIS.token });

async function setup(
  steps: Parameters<typeof scenario> = [{}],
  extra: Record<string, unknown> = {},
) {
  const s = await scenario(...steps);
  const config = {
    auth: { enabled: true },
    providers: { p: openaiAt(s) },
    models: { m: { targets: [{ provider: 'p', model: 'up' }] } },
    ...extra,
  };
  return { s, config, gw: gateway(config) };
}

async function usageOf(gw: ReturnType<typeof gateway>, id: string) {
  return (await (await gw.admin('GET', `/keys/${id}/usage`)).json()) as {
    spend_usd: number;
    reserved_usd: number;
    month_usage: {
      requests: number;
      prompt_tokens: number;
      completion_tokens: number;
      cost_nanos: number;
    };
  };
}

describe('requests per minute', () => {
  it('lets exactly the limit through under concurrency, across two isolates', async () => {
    const { s, config, gw } = await setup();
    const other = gateway(config);
    const { headers } = await createKey(gw, { limits: { requestsPerMinute: 5 } });
    const results = await Promise.all(
      Array.from({ length: 12 }, (_, i) => (i % 2 ? gw : other).chat(hello, headers)),
    );
    const statuses = results.map((r) => r.status);
    expect(statuses.filter((x) => x === 200)).toHaveLength(5);
    expect(statuses.filter((x) => x === 429)).toHaveLength(7);
    expect(await s.requests()).toHaveLength(5);

    const refused = results.find((r) => r.status === 429)!;
    const body = (await refused.json()) as ErrorJson;
    expect(body.error).toMatchObject({ type: 'requests', code: 'rate_limit_exceeded' });
    expect(Number(refused.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    expect(refused.headers.get('x-ratelimit-limit-requests')).toBe('5');
    expect(refused.headers.get('x-ratelimit-remaining-requests')).toBe('0');
  });

  it('sets the OpenAI rate-limit headers on successful responses', async () => {
    const { gw } = await setup();
    const { headers } = await createKey(gw, {
      limits: { requestsPerMinute: 10, tokensPerMinute: 5_000 },
    });
    const res = await gw.chat({ ...hello, max_tokens: 50 }, headers);
    expect(res.status).toBe(200);
    expect(res.headers.get('x-ratelimit-limit-requests')).toBe('10');
    expect(res.headers.get('x-ratelimit-remaining-requests')).toBe('9');
    expect(res.headers.get('x-ratelimit-reset-requests')).toMatch(/^\d+(ms|s|m\d+s)$/);
    expect(res.headers.get('x-ratelimit-limit-tokens')).toBe('5000');
    expect(Number(res.headers.get('x-ratelimit-remaining-tokens'))).toBeLessThan(5_000 - 50);
  });
});

describe('limits.keyDefaults', () => {
  it("applies to keys with no limits of their own, never over a key's own", async () => {
    const { gw } = await setup([{}], { limits: { keyDefaults: { requestsPerMinute: 3 } } });
    const plain = await createKey(gw);
    const own = await createKey(gw, { limits: { requestsPerMinute: 10 } });
    const statuses: number[] = [];
    for (let i = 0; i < 4; i++) {
      const res = await gw.chat(hello, plain.headers);
      statuses.push(res.status);
      expect(res.headers.get('x-ratelimit-limit-requests')).toBe('3');
    }
    expect(statuses).toEqual([200, 200, 200, 429]);
    const mine = await gw.chat(hello, own.headers);
    expect(mine.status).toBe(200);
    expect(mine.headers.get('x-ratelimit-limit-requests')).toBe('10');
  });

  it('is off by default: a key without limits gets no rate-limit headers', async () => {
    const { gw } = await setup();
    const plain = await createKey(gw);
    const res = await gw.chat(hello, plain.headers);
    expect(res.status).toBe(200);
    expect(res.headers.get('x-ratelimit-limit-requests')).toBeNull();
  });
});

describe('tokens per minute', () => {
  it('refuses a request whose reservation does not fit, before calling upstream', async () => {
    const { gw, s } = await setup();
    const { headers } = await createKey(gw, { limits: { tokensPerMinute: 100 } });
    const res = await gw.chat({ ...hello, max_tokens: 500 }, headers);
    expect(res.status).toBe(429);
    expect(((await res.json()) as ErrorJson).error).toMatchObject({
      type: 'tokens',
      code: 'rate_limit_exceeded',
    });
    expect(await s.requests()).toHaveLength(0);
  });

  it("charges a stream's real usage, not its reservation", async () => {
    const { gw } = await setup([{ content: 'one two three four five six' }]);
    const { headers, id } = await createKey(gw, { limits: { tokensPerMinute: 600 } });
    const res = await gw.chat({ ...hello, stream: true, max_tokens: 300 }, headers);
    expect(res.status).toBe(200);
    // The reservation (prompt estimate + 300) was taken before the call...
    expect(Number(res.headers.get('x-ratelimit-remaining-tokens'))).toBeLessThanOrEqual(600 - 300);
    await sseData(res);
    await eventually(async () =>
      expect((await usageOf(gw, id)).month_usage.completion_tokens).toBe(6),
    );
    const { month_usage } = await usageOf(gw, id);
    const actual = month_usage.prompt_tokens + month_usage.completion_tokens;
    // ...and refunded down to the real usage once the stream ended (a bucket of 600 refills
    // 10 tokens/s, so allow a few seconds of refill on top).
    await eventually(async () => {
      const bucket = await redis.hgetall<{ tokens: string }>(`gw:rl:tpm:${id}`);
      const tokens = Number(bucket!.tokens);
      expect(tokens).toBeGreaterThanOrEqual(600 - actual);
      expect(tokens).toBeLessThanOrEqual(600 - actual + 50);
    });
  });

  it('charges a stream the client cut short for what was produced', async () => {
    const content = Array.from({ length: 40 }, (_, i) => `word${i}`).join(' ');
    const { gw, s } = await setup([{ content, chunkDelayMs: 50 }]);
    const { headers, id } = await createKey(gw, { limits: { tokensPerMinute: 6_000 } });
    const res = await gw.chat({ ...hello, stream: true }, headers);
    const reader = res.body!.getReader();
    for (let i = 0; i < 4; i++) await reader.read();
    await reader.cancel();
    await eventually(async () => expect((await s.requests())[0]!.clientAborted).toBe(true));
    await eventually(async () => expect((await usageOf(gw, id)).month_usage.requests).toBe(1));
    const { month_usage } = await usageOf(gw, id);
    expect(month_usage.completion_tokens).toBeGreaterThan(0);
    expect(month_usage.completion_tokens).toBeLessThan(40);
  });
});

describe('budgets and spend', () => {
  // $1 per token, so costs are easy to reason about: the fake counts "Hello there" as
  // 6 prompt tokens and its default reply as 6 completion tokens: $12 a request.
  const prices = { up: { inputPerMTok: 1_000_000, outputPerMTok: 1_000_000 } };

  it('reports the cost of a request and adds it to the key, tenant and model spend', async () => {
    const { gw } = await setup([{}], { prices });
    const { headers, id } = await createKey(gw, { tenant: `t-${crypto.randomUUID()}` });
    const res = await gw.chat(hello, headers);
    expect(res.headers.get('x-gateway-cost-usd')).toBe('12');
    await eventually(async () => expect((await usageOf(gw, id)).spend_usd).toBe(12));
    expect((await usageOf(gw, id)).month_usage).toMatchObject({
      requests: 1,
      prompt_tokens: 6,
      completion_tokens: 6,
    });
    const day = new Date().toISOString().slice(0, 10);
    const tenant = ((await (await gw.admin('GET', `/keys/${id}`)).json()) as { tenant: string })
      .tenant;
    expect(Number(await redis.hget(`gw:usage:tenant:${tenant}:${day}`, 'cost_nanos'))).toBe(12e9);
  });

  it('never lets concurrent requests overshoot the budget by more than one request', async () => {
    const { gw, s } = await setup([{}], { prices });
    const { headers, id } = await createKey(gw, { budget: { monthlyUsd: 100 } });
    const first = await Promise.all(
      Array.from({ length: 20 }, () => gw.chat({ ...hello, max_tokens: 10 }, headers)),
    );
    const ok = first.filter((r) => r.status === 200).length;
    const refused = first.filter((r) => r.status === 429);
    expect(ok).toBeGreaterThan(0);
    expect(refused.length).toBeGreaterThan(0);
    const body = (await refused[0]!.json()) as ErrorJson;
    expect(body.error).toMatchObject({ code: 'budget_exceeded', type: 'insufficient_quota' });
    expect(refused[0]!.headers.get('x-should-retry')).toBe('false');
    expect(await s.requests()).toHaveLength(ok);

    // Keep going one by one until refused: spend may cross the budget once, by one request.
    await eventually(async () => expect((await usageOf(gw, id)).reserved_usd).toBe(0));
    for (let i = 0; i < 20; i++) {
      if ((await gw.chat({ ...hello, max_tokens: 10 }, headers)).status === 429) break;
    }
    await eventually(async () => expect((await usageOf(gw, id)).reserved_usd).toBe(0));
    const { spend_usd } = await usageOf(gw, id);
    expect(spend_usd).toBeGreaterThanOrEqual(100);
    expect(spend_usd).toBeLessThanOrEqual(100 + 12);
    expect((await gw.chat(hello, headers)).status).toBe(429);
  });
});

describe('when Redis is slow or down', () => {
  for (const failMode of ['open', 'closed'] as const) {
    it(`fails ${failMode}, and says so in one log line`, async () => {
      const broken = await breakableRedis();
      const { gw, s } = await setup([{}], {
        redis: broken.config,
        admin: { tokens: { tester: ADMIN_TOKEN } },
        limits: { failMode },
      });
      const { headers } = await createKey(gw, { limits: { requestsPerMinute: 100 } });
      expect((await gw.chat(hello, headers)).status).toBe(200); // the key is now cached
      await broken.set('hang');
      const warnings: string[] = [];
      const original = console.warn;
      console.warn = (line: string) => warnings.push(line);
      try {
        const res = await gw.chat(hello, headers);
        if (failMode === 'open') {
          expect(res.status).toBe(200);
          expect(await s.requests()).toHaveLength(2);
        } else {
          expect(res.status).toBe(503);
          expect(((await res.json()) as ErrorJson).error.code).toBe('limits_unavailable');
          expect(await s.requests()).toHaveLength(1);
        }
      } finally {
        console.warn = original;
        await broken.set('pass');
      }
      expect(
        warnings.filter((w) => w.includes(`limits unavailable: failing ${failMode}`)),
      ).toHaveLength(1);
      expect(gw.logs.at(-1)!.limits).toBe(failMode === 'open' ? 'failed_open' : 'failed_closed');
    });
  }
});
