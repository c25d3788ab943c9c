// The Upstash REST bridge over the embedded (ioredis-mock) store: the dev-only fallback used
// when no redis-server is installed. Driven by the unmodified @upstash clients.
import { createHash } from 'node:crypto';
import { Ratelimit } from '@upstash/ratelimit';
import { Redis } from '@upstash/redis';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { type LocalUpstash, startLocalUpstash } from '../../tools/upstash/index.ts';

let local: LocalUpstash;
let redis: Redis;

beforeAll(async () => {
  local = await startLocalUpstash({ preferEmbedded: true, token: 'embedded-token' });
  redis = new Redis({ url: local.url, token: local.token });
});

afterAll(async () => {
  await local?.stop();
});

const sha1 = (s: string) => createHash('sha1').update(s).digest('hex');

describe('embedded backend', () => {
  it('reports the embedded backend', () => {
    expect(local.backend).toBe('embedded');
    expect(local.token).toBe('embedded-token');
  });

  it('gets and sets strings, JSON and unicode values', async () => {
    expect(await redis.set('s', 'hello')).toBe('OK');
    expect(await redis.get('s')).toBe('hello');
    await redis.set('j', { a: [1, 2], b: 'ü' });
    expect(await redis.get('j')).toEqual({ a: [1, 2], b: 'ü' });
    await redis.set('u', 'emoji 😀 nul\u0000 café');
    expect(await redis.get('u')).toBe('emoji 😀 nul\u0000 café');
    expect(await redis.get('missing')).toBeNull();
  });

  it('answers numbers, hashes and scored ranges like Redis', async () => {
    expect(await redis.incr('n')).toBe(1);
    expect(await redis.incrby('n', 9)).toBe(10);
    await redis.hset('h', { name: 'ada', visits: 3 });
    expect(await redis.hgetall('h')).toEqual({ name: 'ada', visits: 3 });
    await redis.zadd('z', { score: 1, member: 'one' }, { score: 2.5, member: 'two' });
    expect(await redis.zrange('z', 0, -1, { withScores: true })).toEqual(['one', 1, 'two', 2.5]);
  });

  it('runs a pipeline with a per-item WRONGTYPE error', async () => {
    const results = await redis
      .pipeline()
      .set('p', 'v')
      .get('p')
      .lpush('p', 'x')
      .incr('pn')
      .exec({ keepErrors: true });
    expect(results.map((r) => r.result)).toEqual(['OK', 'v', undefined, 1]);
    expect(results[2]?.error).toBe(
      'WRONGTYPE Operation against a key holding the wrong kind of value',
    );
  });

  it('runs a transaction', async () => {
    expect(await redis.multi().set('t', 1).incr('t').get('t').exec()).toEqual(['OK', 2, 2]);
  });

  it('supports EVAL, SCRIPT LOAD, EVALSHA, SCRIPT EXISTS and NOSCRIPT', async () => {
    expect(await redis.eval('return {KEYS[1], ARGV[1], 42}', ['k'], ['v'])).toEqual(['k', 'v', 42]);
    await expect(redis.evalsha(sha1('return 0'), [], [])).rejects.toThrow(/NOSCRIPT/);
    const script = '#!lua flags=allow-key-locking\nreturn ARGV[1]';
    const sha = await redis.scriptLoad(script);
    expect(sha).toBe(sha1(script));
    expect(await redis.evalsha(sha, [], ['hi'])).toBe('hi');
    expect(await redis.scriptExists(sha, sha1('return 0'))).toEqual([1, 0]);
  });

  it('runs @upstash/ratelimit slidingWindow(5, "10 s"): exactly 5 of 8 pass', async () => {
    const limiter = new Ratelimit({
      redis,
      limiter: Ratelimit.slidingWindow(5, '10 s'),
      prefix: 'rl-embedded-sw',
      ephemeralCache: false,
    });
    const outcomes: boolean[] = [];
    for (let i = 0; i < 8; i++) outcomes.push((await limiter.limit('user')).success);
    expect(outcomes).toEqual([true, true, true, true, true, false, false, false]);
  });

  it('runs @upstash/ratelimit tokenBucket, whose script reads nil HMGET items as false', async () => {
    const limiter = new Ratelimit({
      redis,
      limiter: Ratelimit.tokenBucket(1, '1 m', 5),
      prefix: 'rl-embedded-tb',
      ephemeralCache: false,
    });
    const remaining: number[] = [];
    for (let i = 0; i < 8; i++) {
      const r = await limiter.limit('user');
      remaining.push(r.success ? r.remaining : -1);
    }
    expect(remaining).toEqual([4, 3, 2, 1, 0, -1, -1, -1]);
  });
});

describe('fallback notice', () => {
  it('says once, on stderr, that it fell back because redis-server is not on PATH', async () => {
    const path = process.env.PATH;
    const writes: string[] = [];
    const spy = vi.spyOn(process.stderr, 'write').mockImplementation((chunk) => {
      writes.push(String(chunk));
      return true;
    });
    process.env.PATH = '/nonexistent';
    try {
      const a = await startLocalUpstash();
      const b = await startLocalUpstash();
      await Promise.all([a.stop(), b.stop()]);
      expect([a.backend, b.backend]).toEqual(['embedded', 'embedded']);
      expect(a.token).toMatch(/^[0-9a-f]{32}$/);
    } finally {
      process.env.PATH = path;
      spy.mockRestore();
    }
    const notices = writes.filter((w) => w.includes('redis-server not found on PATH'));
    expect(notices).toHaveLength(1);
  });
});
