import { Redis } from '@upstash/redis/cloudflare';
import { describe, expect, it } from 'vitest';
import { budgetKeys } from '../../src/limits/budget.ts';
import { periods } from '../../src/usage/counters.ts';
import {
  ADMIN_TOKEN,
  breakableRedis,
  createKey,
  eventually,
  gateway,
  hello,
  REDIS,
  scenarioGateway,
  sseData,
} from './helpers.ts';

type ErrorJson = {
  error: { message: string; type: string; code: string | null; param: string | null };
};
const redis = new Redis({ url: REDIS.url, token: REDIS.token });

const setup = scenarioGateway;

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

/**
 * The budget's books for key `id`: every `r:<id>` field must have its expiry in the zset, and
 * `reserved` must be their sum (nothing reserved that can neither settle nor expire).
 */
async function budgetBooks(id: string) {
  const keys = budgetKeys(id, periods(new Date()).month);
  const hash = (await redis.hgetall<Record<string, number>>(keys.hash)) ?? {};
  const held = Object.entries(hash).filter(([field]) => field.startsWith('r:'));
  const scores = await Promise.all(held.map(([field]) => redis.zscore(keys.zset, field.slice(2))));
  return {
    reserved: Number(hash.reserved ?? 0),
    spent: Number(hash.spent ?? 0),
    entries: held.length,
    sumOfEntries: held.reduce((sum, [, amount]) => sum + Number(amount), 0),
    entriesWithoutExpiry: scores.filter((score) => score === null).length,
  };
}

/** `n` concurrent chats, with the limits' warning lines (Redis unreachable) silenced. */
async function burst(
  gw: ReturnType<typeof gateway>,
  n: number,
  body: Record<string, unknown>,
  headers: Record<string, string>,
): Promise<Response[]> {
  const original = console.warn;
  console.warn = () => {};
  try {
    return await Promise.all(Array.from({ length: n }, () => gw.chat(body, headers)));
  } finally {
    console.warn = original;
  }
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
  it('refuses a request that can never fit the bucket, without a retry hint', async () => {
    const { gw, s } = await setup();
    const { headers } = await createKey(gw, { limits: { tokensPerMinute: 100 } });
    const res = await gw.chat({ ...hello, max_tokens: 500 }, headers);
    expect(res.status).toBe(429);
    const { error } = (await res.json()) as ErrorJson;
    expect(error).toMatchObject({ type: 'tokens', code: 'rate_limit_exceeded' });
    expect(error.message).toContain("more than this key's limit of 100 tokens per minute");
    expect(res.headers.get('retry-after')).toBeNull();
    expect(res.headers.get('x-should-retry')).toBe('false');
    expect(await s.requests()).toHaveLength(0);
  });

  it('refuses a request that fits the bucket but not what is left of it, with retry-after', async () => {
    const { gw, s } = await setup();
    const { headers } = await createKey(gw, { limits: { tokensPerMinute: 600 } });
    expect((await gw.chat({ ...hello, max_tokens: 500 }, headers)).status).toBe(200);
    const res = await gw.chat({ ...hello, max_tokens: 500 }, headers);
    expect(res.status).toBe(429);
    expect(Number(res.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    expect(res.headers.get('x-should-retry')).toBeNull();
    expect(await s.requests()).toHaveLength(1);
  });

  it("reserves at most the model's output limit, however large max_tokens is", async () => {
    const { gw } = await setup([{}], {
      models: { m: { targets: [{ provider: 'p', model: 'up' }], maxOutputTokens: 1_000 } },
    });
    const { headers } = await createKey(gw, { limits: { tokensPerMinute: 5_000 } });
    const res = await gw.chat({ ...hello, max_tokens: Number.MAX_SAFE_INTEGER }, headers);
    expect(res.status).toBe(200);
    const remaining = Number(res.headers.get('x-ratelimit-remaining-tokens'));
    // 1 000 completion tokens plus the prompt estimate were reserved, no more.
    expect(remaining).toBeLessThanOrEqual(4_000);
    expect(remaining).toBeGreaterThan(3_900);
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
    const tenantDay = `gw:usage:tenant:${tenant}:${day}`;
    expect(await redis.hgetall(tenantDay)).toEqual({
      requests: 1,
      prompt_tokens: 6,
      completion_tokens: 6,
      cached_tokens: 0,
      cost_nanos: 12e9,
    });
    // kept 400 days (renewed by every request)
    expect(await redis.ttl(tenantDay)).toBeGreaterThan(399 * 24 * 3600);
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

describe('budget reservations', () => {
  // $1 per token: a request reserves (6 prompt + max_tokens) dollars and spends $12.
  const prices = { up: { inputPerMTok: 1_000_000, outputPerMTok: 1_000_000 } };

  it('are keyed by the gateway, not by a client-chosen x-request-id', async () => {
    const { gw, s } = await setup([{}], { prices });
    const { headers, id } = await createKey(gw, { budget: { monthlyUsd: 1_000 } });
    const same = { ...headers, 'x-request-id': 'my-fixed-request-id' };
    for (let batch = 0; batch < 2; batch++) {
      const results = await Promise.all(
        Array.from({ length: 10 }, () => gw.chat({ ...hello, max_tokens: 10 }, same)),
      );
      expect(results.map((r) => r.status)).toEqual(Array(10).fill(200));
      // The client's id still correlates.
      expect(results[0]!.headers.get('x-request-id')).toBe('my-fixed-request-id');
    }
    await eventually(async () => expect((await usageOf(gw, id)).spend_usd).toBe(20 * 12));
    await eventually(async () => expect((await budgetBooks(id)).reserved).toBe(0));
    expect(await budgetBooks(id)).toMatchObject({ sumOfEntries: 0, entriesWithoutExpiry: 0 });
    expect((await gw.chat(hello, same)).status).toBe(200);
    expect(await s.requests()).toHaveLength(21);
  });

  it('stay reconcilable with their entries while requests are in flight', async () => {
    const { gw, s } = await setup([{ firstByteDelayMs: 500 }], { prices });
    const { headers, id } = await createKey(gw, { budget: { monthlyUsd: 10_000 } });
    const same = { ...headers, 'x-request-id': 'in-flight-id' };
    // Three in flight (workerd allows six open connections: room for the checks below).
    const pending = Promise.all(Array.from({ length: 3 }, () => gw.chat(hello, same)));
    // All three were admitted (their reservations made) and none has answered yet.
    await eventually(async () => expect(await s.requests()).toHaveLength(3));
    const books = await budgetBooks(id);
    expect(books.entries).toBe(3);
    expect(books.reserved).toBeGreaterThan(3 * 1_024e9);
    expect(books.reserved).toBe(books.sumOfEntries);
    expect(books.entriesWithoutExpiry).toBe(0);
    await pending;
  });

  it('hold under 200 concurrent requests on a tiny budget, Redis timeouts included', async () => {
    // gpt-4o-mini prices: a request reserves at most ~$0.0000066 and costs $0.0000045; the
    // budget is $0.0001. The request-path Redis deadline is the default 500 ms, so the load
    // (200 requests queued behind workerd's six connections) makes some checks time out and
    // fail open: the allowance (default 10 requests per key and isolate) bounds those.
    const cheap = { up: { inputPerMTok: 0.15, outputPerMTok: 0.6 } };
    const { gw, s } = await setup([{}], { prices: cheap, redis: { ...REDIS, timeoutMs: 500 } });
    const { headers, id } = await createKey(gw, { budget: { monthlyUsd: 0.0001 } });
    const results = await burst(gw, 200, { ...hello, max_tokens: 10 }, headers);
    const admitted = results.filter((r) => r.status === 200).length;
    const failedOpen = gw.logs.filter((l) => l.limits === 'failed_open').length;
    expect(failedOpen).toBeLessThanOrEqual(10);
    expect(await s.requests()).toHaveLength(admitted);
    await eventually(
      async () => expect((await usageOf(gw, id)).month_usage.requests).toBe(admitted),
      10_000,
    );
    await eventually(async () => expect((await budgetBooks(id)).reserved).toBe(0), 10_000);
    const { spent } = await budgetBooks(id);
    const perRequest = 4_500; // nano-USD: 6 prompt tokens at $0.15/M + 6 completion at $0.60/M
    expect(spent).toBe(admitted * perRequest);
    // The promise: the budget, plus one request, plus the fail-open allowance.
    expect(spent).toBeLessThanOrEqual(100_000 + perRequest + failedOpen * perRequest);
  });

  it('of a model with no price are released too (a zero amount is still an integer)', async () => {
    const { gw } = await setup();
    const { headers, id } = await createKey(gw, { budget: { monthlyUsd: 1 } });
    const warnings: string[] = [];
    const original = console.warn;
    console.warn = (line: string) => warnings.push(line);
    try {
      expect((await gw.chat(hello, headers)).status).toBe(200);
      await eventually(async () => expect((await usageOf(gw, id)).month_usage.requests).toBe(1));
      await eventually(async () => expect((await budgetBooks(id)).spent).toBe(0));
    } finally {
      console.warn = original;
    }
    expect(await budgetBooks(id)).toMatchObject({ reserved: 0, sumOfEntries: 0 });
    expect(warnings.filter((w) => w.includes('usage settlement failed'))).toEqual([]);
  });

  it('clamp max_tokens: 2^53-1 to the model output limit instead of switching budgets off', async () => {
    const { gw, s } = await setup([{}], { prices });
    const { headers } = await createKey(gw, { budget: { monthlyUsd: 100 } });
    const warnings: string[] = [];
    const original = console.warn;
    console.warn = (line: string) => warnings.push(line);
    let statuses: number[];
    try {
      const results = await Promise.all(
        Array.from({ length: 20 }, () =>
          gw.chat({ ...hello, max_tokens: Number.MAX_SAFE_INTEGER }, headers),
        ),
      );
      statuses = results.map((r) => r.status);
    } finally {
      console.warn = original;
    }
    // The first reservation (32 768 completion tokens at $1) takes the whole $100 budget.
    expect(statuses.filter((x) => x === 200)).toHaveLength(1);
    expect(statuses.filter((x) => x === 429)).toHaveLength(19);
    expect(await s.requests()).toHaveLength(1);
    expect(warnings.filter((w) => w.includes('limits unavailable'))).toEqual([]);
  });

  it('are refused with a 500, not failed open, when Redis answers the script with an error', async () => {
    const { gw, s } = await setup([{}], { prices, limits: { failMode: 'open' } });
    const { headers, id } = await createKey(gw, { budget: { monthlyUsd: 100 } });
    // A string where the budget hash should be: every HGET in the script fails (WRONGTYPE).
    await redis.set(budgetKeys(id, periods(new Date()).month).hash, 'not a hash');
    const errorsLogged: string[] = [];
    const original = console.error;
    console.error = (line: string) => errorsLogged.push(line);
    try {
      const res = await gw.chat(hello, headers);
      expect(res.status).toBe(500);
      expect(((await res.json()) as ErrorJson).error.code).toBe('internal_error');
    } finally {
      console.error = original;
    }
    expect(await s.requests()).toHaveLength(0);
    expect(errorsLogged.filter((l) => l.includes('limit check failed'))).toHaveLength(1);
    expect(gw.logs.at(-1)).toMatchObject({ status: 500, limits: 'error' });
  });
});

describe('cache hits', () => {
  const prices = { up: { inputPerMTok: 1_000_000, outputPerMTok: 1_000_000 } };
  const deterministic = { ...hello, temperature: 0, max_tokens: 400 };

  it('are not charged against tokens/min or the budget (cache.chargeHits: false)', async () => {
    const { gw, s } = await setup([{}], { prices });
    const { headers } = await createKey(gw, {
      tenant: `t-${crypto.randomUUID()}`,
      limits: { tokensPerMinute: 1_000 },
      budget: { monthlyUsd: 10 },
    });
    const miss = await gw.chat(deterministic, headers);
    expect(miss.headers.get('x-gateway-cache')).toBe('MISS');
    // $12 spent: the budget of $10 is used up, and a new question is refused...
    await eventually(async () => {
      const res = await gw.chat({ ...deterministic, seed: 1 }, headers);
      expect(((await res.json()) as ErrorJson).error.code).toBe('budget_exceeded');
    });
    // ...but answers from the cache cost nothing: none refused, none drawn from the bucket.
    await eventually(async () =>
      expect((await gw.chat(deterministic, headers)).headers.get('x-gateway-cache')).toBe('HIT'),
    );
    const hits = await Promise.all(
      Array.from({ length: 5 }, () => gw.chat(deterministic, headers)),
    );
    expect(hits.map((r) => r.status)).toEqual([200, 200, 200, 200, 200]);
    expect(hits.map((r) => r.headers.get('x-gateway-cache'))).toEqual(Array(5).fill('HIT'));
    const remaining = hits.map((r) => Number(r.headers.get('x-ratelimit-remaining-tokens')));
    expect(Math.min(...remaining)).toBeGreaterThan(1_000 - 406);
    expect(await s.requests()).toHaveLength(1);
  });

  it('are charged with cache.chargeHits: true', async () => {
    const { gw } = await setup([{}], { prices, cache: { chargeHits: true } });
    const { headers } = await createKey(gw, {
      tenant: `t-${crypto.randomUUID()}`,
      limits: { tokensPerMinute: 1_000 },
    });
    expect((await gw.chat(deterministic, headers)).headers.get('x-gateway-cache')).toBe('MISS');
    await eventually(async () =>
      expect((await gw.chat(deterministic, headers)).headers.get('x-gateway-cache')).toBe('HIT'),
    );
    const hit = await gw.chat(deterministic, headers);
    expect(hit.headers.get('x-gateway-cache')).toBe('HIT');
    expect(Number(hit.headers.get('x-ratelimit-remaining-tokens'))).toBeLessThan(1_000 - 406);
  });
});

describe('when Redis is slow or down', () => {
  const prices = { up: { inputPerMTok: 1_000_000, outputPerMTok: 1_000_000 } };

  it('fails open for at most limits.failOpen.requests per key and isolate', async () => {
    const broken = await breakableRedis();
    const { gw, s } = await setup([{}], {
      redis: broken.config,
      admin: { tokens: { tester: ADMIN_TOKEN } },
      limits: { failMode: 'open', failOpen: { requests: 3, usd: 1_000_000 } },
      prices,
    });
    const { headers } = await createKey(gw, { budget: { monthlyUsd: 1_000 } });
    expect((await gw.chat(hello, headers)).status).toBe(200); // the key is now cached
    await broken.set('hang');
    const results = await burst(gw, 10, hello, headers).finally(() => broken.set('pass'));
    const statuses = results.map((r) => r.status);
    expect(statuses.filter((x) => x === 200)).toHaveLength(3);
    expect(statuses.filter((x) => x === 503)).toHaveLength(7);
    const refused = results.find((r) => r.status === 503)!;
    expect(((await refused.json()) as ErrorJson).error.code).toBe('limits_unavailable');
    expect(await s.requests()).toHaveLength(1 + 3);
    expect(gw.logs.filter((l) => l.limits === 'failed_open')).toHaveLength(3);
    expect(gw.logs.filter((l) => l.limits === 'failed_closed')).toHaveLength(7);
  });

  it('hold a tiny budget under 200 concurrent requests while every Redis answer is late', async () => {
    const broken = await breakableRedis();
    const cheap = { up: { inputPerMTok: 0.15, outputPerMTok: 0.6 } };
    const { gw, s } = await setup([{}], {
      redis: broken.config,
      admin: { tokens: { tester: ADMIN_TOKEN } },
      prices: cheap,
    });
    const { headers, id } = await createKey(gw, { budget: { monthlyUsd: 0.0001 } });
    expect((await gw.chat({ ...hello, max_tokens: 10 }, headers)).status).toBe(200);
    await eventually(async () => expect((await budgetBooks(id)).spent).toBe(4_500));
    // Every command runs, but its answer comes after the 300 ms request-path deadline.
    await broken.set('slow', 600);
    const results = await burst(gw, 200, { ...hello, max_tokens: 10 }, headers);
    const statuses = results.map((r) => r.status);
    // The default allowance: 10 unchecked requests per key and isolate, the rest 503.
    expect(statuses.filter((x) => x === 200)).toHaveLength(10);
    expect(statuses.filter((x) => x === 503)).toHaveLength(190);
    await broken.set('pass');
    // What the late reserves took is given back; spend is what the 1 + 10 served cost.
    await eventually(async () => expect((await budgetBooks(id)).reserved).toBe(0), 10_000);
    await eventually(async () => expect((await budgetBooks(id)).spent).toBe(11 * 4_500), 10_000);
    expect(await budgetBooks(id)).toMatchObject({ entriesWithoutExpiry: 0 });
    expect(await s.requests()).toHaveLength(11);
  });

  it('releases a reservation whose answer timed out although Redis ran it', async () => {
    const broken = await breakableRedis();
    const { gw, s } = await setup([{}], {
      redis: broken.config,
      admin: { tokens: { tester: ADMIN_TOKEN } },
      limits: { failMode: 'closed' },
      prices,
    });
    const { headers, id } = await createKey(gw, { budget: { monthlyUsd: 1_000 } });
    expect((await gw.chat(hello, headers)).status).toBe(200);
    await eventually(async () => expect((await budgetBooks(id)).spent).toBe(12e9));
    // Commands run at once but are answered after the 300 ms request-path deadline (and
    // within the settlement client's 3 s).
    await broken.set('slow', 800);
    const original = console.warn;
    console.warn = () => {};
    try {
      expect((await gw.chat({ ...hello, max_tokens: 100 }, headers)).status).toBe(503);
    } finally {
      console.warn = original;
    }
    // The reserve ran (the proxy forwarded it at once) and held $106; it is given back, not
    // left for the 15-minute expiry.
    await eventually(async () => expect((await budgetBooks(id)).reserved).toBe(0), 5_000);
    await broken.set('pass');
    expect(await budgetBooks(id)).toMatchObject({ spent: 12e9, entriesWithoutExpiry: 0 });
    expect(await s.requests()).toHaveLength(1);
  });

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
