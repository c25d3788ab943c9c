// The Upstash REST bridge in front of a real redis-server, driven by the unmodified
// @upstash/redis and @upstash/ratelimit clients (and raw fetch where the wire matters).
import { createHash, randomUUID } from 'node:crypto';
import { Ratelimit } from '@upstash/ratelimit';
import { Redis } from '@upstash/redis';
import IORedis from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startUpstashBridge, type UpstashBridge } from '../../tools/upstash/bridge.ts';
import { startLocalUpstash } from '../../tools/upstash/index.ts';
import { type RedisServerHandle, startRedisServer } from '../../tools/upstash/redis-server.ts';

const TOKEN = 'test-token-bridge';
let server: RedisServerHandle;
let bridgeConn: IORedis;
let direct: IORedis;
let bridge: UpstashBridge;
let redis: Redis;

beforeAll(async () => {
  server = await startRedisServer();
  bridgeConn = new IORedis({ host: '127.0.0.1', port: server.port });
  direct = new IORedis({ host: '127.0.0.1', port: server.port });
  bridge = await startUpstashBridge({ redis: bridgeConn, token: TOKEN });
  redis = new Redis({ url: bridge.url, token: TOKEN });
});

afterAll(async () => {
  await bridge?.close();
  bridgeConn?.disconnect();
  direct?.disconnect();
  await server?.stop();
});

const key = (name: string) => `${name}:${randomUUID()}`;
const sha1 = (s: string | Buffer) => createHash('sha1').update(s).digest('hex');

/** POST a raw body to the bridge; returns status, parsed JSON and headers. */
async function raw(
  path: string,
  body: string | Uint8Array | undefined,
  headers: Record<string, string> = { authorization: `Bearer ${TOKEN}` },
  method = 'POST',
) {
  const res = await fetch(`${bridge.url}${path}`, { method, body, headers });
  const text = await res.text();
  return { status: res.status, json: JSON.parse(text) as unknown, headers: res.headers };
}

describe('strings and values through @upstash/redis', () => {
  it('sets and gets a string, SET answering OK', async () => {
    const k = key('str');
    expect(await redis.set(k, 'hello')).toBe('OK');
    expect(await redis.get(k)).toBe('hello');
  });

  it('round-trips JSON values with automatic (de)serialization', async () => {
    const k = key('json');
    const value = { a: 1, b: [1, 2, { c: 'x' }], d: null, e: 'ü' };
    await redis.set(k, value);
    expect(await redis.get(k)).toEqual(value);
    expect(await direct.get(k)).toBe(JSON.stringify(value));
  });

  const tricky = [
    'emoji 😀🚀 ok',
    'nul\u0000in\u0000side',
    'latin-1 café ÿ ß ñ ¤',
    '日本語テキスト',
    'OK',
  ];

  it.each([
    ['base64 responses (default)', {}],
    ['plain JSON responses', { responseEncoding: false as const }],
  ])('round-trips unicode and NUL bytes with %s', async (_label, options) => {
    const client = new Redis({
      url: bridge.url,
      token: TOKEN,
      automaticDeserialization: false,
      ...options,
    });
    for (const value of tricky) {
      const k = key('uni');
      await client.set(k, value);
      expect(await client.get(k)).toBe(value);
      expect(await direct.getBuffer(k)).toEqual(Buffer.from(value, 'utf8'));
    }
    const k = key('uni-list');
    await client.rpush(k, ...tricky);
    expect(await client.lrange(k, 0, -1)).toEqual(tricky);
  });

  it('returns non-UTF-8 bytes exactly as base64, and as U+FFFD without the header', async () => {
    const k = key('bin');
    const bytes = Buffer.from([0xff, 0xfe, 0x00, 0x80, 0x41, 0xe9]);
    await direct.set(k, bytes);
    const encoded = await raw('/', JSON.stringify(['get', k]), {
      authorization: `Bearer ${TOKEN}`,
      'upstash-encoding': 'base64',
    });
    expect(encoded.json).toEqual({ result: bytes.toString('base64') });
    const plain = await raw('/', JSON.stringify(['get', k]));
    expect(plain.json).toEqual({ result: bytes.toString('utf8') });
    expect((plain.json as { result: string }).result).toContain('\uFFFD');
  });

  it('encodes strings but not numbers, nulls or a top-level OK under Upstash-Encoding: base64', async () => {
    const k = key('enc');
    const headers = { authorization: `Bearer ${TOKEN}`, 'upstash-encoding': 'base64' };
    expect((await raw('/', JSON.stringify(['set', k, 'v']), headers)).json).toEqual({
      result: 'OK',
    });
    expect((await raw('/', JSON.stringify(['incrbyfloat', key('f'), 1.5]), headers)).json).toEqual({
      result: Buffer.from('1.5').toString('base64'),
    });
    const pipeline = await raw(
      '/pipeline',
      JSON.stringify([
        ['incr', key('n')],
        ['get', key('missing')],
        ['ping'],
        ['eval', "return {1, 'OK', {'x', false}}", 0],
      ]),
      headers,
    );
    expect(pipeline.json).toEqual([
      { result: 1 },
      { result: null },
      { result: Buffer.from('PONG').toString('base64') },
      {
        result: [
          1,
          Buffer.from('OK').toString('base64'),
          [Buffer.from('x').toString('base64'), null],
        ],
      },
    ]);
  });
});

describe('numbers, nulls, arrays', () => {
  it('answers integers as JSON numbers and floats as strings the client parses', async () => {
    const k = key('n');
    expect(await redis.incr(k)).toBe(1);
    expect(await redis.incrby(k, 41)).toBe(42);
    expect(await redis.incrbyfloat(key('f'), 2.25)).toBe(2.25);
    expect((await raw('/', JSON.stringify(['incr', k]))).json).toEqual({ result: 43 });
  });

  it('answers null for a missing key, in arrays too', async () => {
    const k = key('present');
    await redis.set(k, 'x');
    expect(await redis.get(key('missing'))).toBeNull();
    expect(await redis.mget(k, key('missing'))).toEqual(['x', null]);
    expect((await raw('/', JSON.stringify(['get', key('missing')]))).json).toEqual({
      result: null,
    });
  });

  it('returns lists, hashes and sorted sets with scores', async () => {
    const list = key('list');
    await redis.rpush(list, 'a', 'b', 'c');
    expect(await redis.lrange(list, 0, -1)).toEqual(['a', 'b', 'c']);

    const hash = key('hash');
    await redis.hset(hash, { name: 'ada', visits: 3 });
    expect(await redis.hgetall(hash)).toEqual({ name: 'ada', visits: 3 });

    const zset = key('zset');
    await redis.zadd(zset, { score: 1, member: 'one' }, { score: 2.5, member: 'two' });
    expect(await redis.zrange(zset, 0, -1, { withScores: true })).toEqual(['one', 1, 'two', 2.5]);
    expect((await raw('/', JSON.stringify(['zrange', zset, 0, -1, 'WITHSCORES']))).json).toEqual({
      result: ['one', '1', 'two', '2.5'],
    });
  });
});

describe('pipelines and transactions', () => {
  it('runs a pipeline and reports a failing command per item', async () => {
    const k = key('pipe');
    const results = await redis
      .pipeline()
      .set(k, 'v')
      .get(k)
      .lpush(k, 'x')
      .incr(key('pipe-n'))
      .exec({ keepErrors: true });
    expect(results.map((r) => r.result)).toEqual(['OK', 'v', undefined, 1]);
    expect(results[2]?.error).toMatch(/^WRONGTYPE/);
    await expect(redis.pipeline().set(k, 'v').lpush(k, 'x').exec()).rejects.toThrow(
      /Command 2 \[ lpush \] failed: WRONGTYPE/,
    );
    const wire = await raw(
      '/pipeline',
      JSON.stringify([
        ['get', k],
        ['lpush', k, 'x'],
      ]),
    );
    expect(wire.status).toBe(200);
    expect(wire.json).toEqual([
      { result: 'v' },
      { error: 'WRONGTYPE Operation against a key holding the wrong kind of value' },
    ]);
  });

  it('runs redis.multi() as MULTI/EXEC', async () => {
    const k = key('tx');
    expect(await redis.multi().set(k, 1).incr(k).get(k).exec()).toEqual(['OK', 2, 2]);
  });

  it('returns a run-time error inside a transaction as that item, and still runs the rest', async () => {
    const k = key('tx-err');
    const results = await redis
      .multi()
      .set(k, 'text')
      .incr(k)
      .set(k, 'after')
      .exec({ keepErrors: true });
    expect(results[0]?.result).toBe('OK');
    expect(results[1]?.error).toBe('ERR value is not an integer or out of range');
    expect(results[2]?.result).toBe('OK');
    expect(await direct.get(k)).toBe('after');
  });

  it('discards a whole transaction when Redis rejects a command while queueing', async () => {
    const k = key('tx-abort');
    const res = await raw('/multi-exec', JSON.stringify([['set', k, '1'], ['get']]));
    expect(res.status).toBe(400);
    expect((res.json as { error: string }).error).toMatch(/^EXECABORT.*wrong number of arguments/);
    expect(await direct.exists(k)).toBe(0);
  });
});

describe('scripts', () => {
  it('runs EVAL with keys and args', async () => {
    expect(await redis.eval('return {KEYS[1], ARGV[1], 42}', ['k1'], ['a1'])).toEqual([
      'k1',
      'a1',
      42,
    ]);
  });

  it('fails EVALSHA of a script never loaded with NOSCRIPT', async () => {
    const sha = sha1(`return '${randomUUID()}'`);
    await expect(redis.evalsha(sha, [], [])).rejects.toThrow(/NOSCRIPT/);
    const res = await raw('/', JSON.stringify(['evalsha', sha, 0]));
    expect(res.status).toBe(400);
    expect((res.json as { error: string }).error).toMatch(/^NOSCRIPT/);
  });

  it('runs EVALSHA after SCRIPT LOAD, and SCRIPT EXISTS sees it', async () => {
    const id = randomUUID();
    const script = `return ARGV[1] .. '${id}'`;
    const sha = await redis.scriptLoad(script);
    expect(sha).toBe(sha1(script));
    expect(await redis.evalsha(sha, [], ['x'])).toBe(`x${id}`);
    expect(await redis.scriptExists(sha, sha1('never loaded'))).toEqual([1, 0]);
  });

  it('accepts Upstash-only shebang flags and keeps the client-side sha1 valid', async () => {
    const script = `#!lua flags=allow-key-locking\nreturn {tonumber(ARGV[1]) * 2, '${randomUUID()}'}`;
    const sha = sha1(script);
    await expect(redis.evalsha(sha, [], [1])).rejects.toThrow(/NOSCRIPT/);
    expect(await redis.eval(script, [], [2])).toEqual([4, expect.any(String)]);
    expect(await redis.evalsha(sha, [], [21])).toEqual([42, expect.any(String)]);
    expect(await redis.scriptExists(sha)).toEqual([1]);
    const loaded = `#!lua flags=allow-key-locking,no-writes\nreturn '${randomUUID()}'`;
    expect(await redis.scriptLoad(loaded)).toBe(sha1(loaded));
    expect(await redis.scriptExists(sha1(loaded))).toEqual([1]);
  });
});

describe('errors and protocol edges', () => {
  it('passes Redis errors through unchanged with HTTP 400', async () => {
    const k = key('wrongtype');
    await redis.set(k, 'v');
    await expect(redis.lpush(k, 'x')).rejects.toThrow(/WRONGTYPE Operation against a key/);
    const res = await raw('/', JSON.stringify(['nosuchcommand', 'a']));
    expect(res.status).toBe(400);
    expect((res.json as { error: string }).error).toMatch(/^ERR unknown command 'nosuchcommand'/);
  });

  it('refuses commands that would block or take over the shared connection', async () => {
    for (const cmd of [
      ['blpop', 'k', 0],
      ['subscribe', 'c'],
      ['multi'],
      ['xread', 'BLOCK', 0, 'STREAMS', 's', '$'],
    ]) {
      const res = await raw('/', JSON.stringify(cmd));
      expect(res.status).toBe(400);
      expect(res.json).toEqual({
        error: `ERR Command is not available: '${String(cmd[0]).toUpperCase()}'`,
      });
    }
    expect((await raw('/', JSON.stringify(['ping']))).json).toEqual({ result: 'PONG' });
  });

  it('answers 401 for a wrong or missing token, and accepts ?_token=', async () => {
    const body = JSON.stringify(['ping']);
    const wrong = await raw('/', body, { authorization: 'Bearer nope' });
    expect(wrong.status).toBe(401);
    expect(wrong.json).toEqual({ error: 'Unauthorized' });
    const missing = await raw('/', body, {});
    expect(missing.status).toBe(401);
    expect(missing.json).toEqual({ error: 'Unauthorized' });
    expect((await raw(`/?_token=${TOKEN}`, body, {})).json).toEqual({ result: 'PONG' });
    const client = new Redis({ url: bridge.url, token: 'nope', enableAutoPipelining: false });
    await expect(client.get('x')).rejects.toThrow(/Unauthorized/);
  });

  it('answers 400 for malformed JSON and for bodies that are not commands', async () => {
    const malformed = await raw('/', '["set", "k"');
    expect(malformed.status).toBe(400);
    expect((malformed.json as { error: string }).error).toMatch(/failed to parse JSON/);
    expect((await raw('/', '{"cmd":"get"}')).status).toBe(400);
    expect((await raw('/pipeline', '["get","k"]')).status).toBe(400);
    expect((await raw('/', JSON.stringify(['set', 'k', { nested: true }]))).status).toBe(400);
  });

  it('answers 413 over the body size limit and 405 for other methods', async () => {
    const small = await startUpstashBridge({ redis: bridgeConn, token: TOKEN, maxBodyBytes: 64 });
    try {
      const res = await fetch(small.url, {
        method: 'POST',
        headers: { authorization: `Bearer ${TOKEN}` },
        body: JSON.stringify(['set', 'k', 'x'.repeat(200)]),
      });
      expect(res.status).toBe(413);
      expect(await res.json()).toEqual({ error: 'ERR max request size exceeded. Limit: 64 bytes' });
    } finally {
      await small.close();
    }
    expect((await raw('/', undefined, { authorization: `Bearer ${TOKEN}` }, 'DELETE')).status).toBe(
      405,
    );
  });

  it('serves path-style commands, with a POST body and query parameters appended', async () => {
    const k = key('path');
    const get = await raw(`/set/${encodeURIComponent(k)}/a%2Fb`, undefined, undefined, 'GET');
    expect(get.json).toEqual({ result: 'OK' });
    expect(await direct.get(k)).toBe('a/b');
    const bytes = Buffer.from([0x00, 0xff, 0x10]);
    await raw(`/set/${encodeURIComponent(k)}?EX=100`, bytes);
    expect(await direct.getBuffer(k)).toEqual(bytes);
    expect(await direct.ttl(k)).toBeGreaterThan(90);
    const hash = key('path-hash');
    await raw(`/hset/${encodeURIComponent(hash)}/field`, bytes);
    expect(await direct.hgetallBuffer(hash)).toEqual({ field: bytes });
  });

  it('answers an upstash-sync-token that moves forward', async () => {
    const a = await raw('/', JSON.stringify(['ping']));
    const b = await raw('/', JSON.stringify(['ping']));
    expect(Number(b.headers.get('upstash-sync-token'))).toBeGreaterThan(
      Number(a.headers.get('upstash-sync-token')),
    );
  });
});

describe('@upstash/ratelimit', () => {
  async function commandStats(): Promise<Record<string, { calls: number; failed: number }>> {
    const info = await direct.info('commandstats');
    const stats: Record<string, { calls: number; failed: number }> = {};
    for (const m of info.matchAll(/^cmdstat_([^:]+):calls=(\d+).*failed_calls=(\d+)/gm)) {
      stats[m[1] as string] = { calls: Number(m[2]), failed: Number(m[3]) };
    }
    return stats;
  }

  it('slidingWindow(5, "10 s") lets exactly 5 of 8 through, after one EVALSHA → EVAL fallback', async () => {
    await direct.flushall();
    await direct.script('FLUSH');
    await direct.config('RESETSTAT');
    const limiter = new Ratelimit({
      redis,
      limiter: Ratelimit.slidingWindow(5, '10 s'),
      prefix: key('rl-sw'),
      ephemeralCache: false,
    });
    const outcomes: boolean[] = [];
    for (let i = 0; i < 8; i++) outcomes.push((await limiter.limit('user-1')).success);
    expect(outcomes).toEqual([true, true, true, true, true, false, false, false]);
    const stats = await commandStats();
    expect(stats.eval).toEqual({ calls: 1, failed: 0 });
    expect(stats.evalsha).toEqual({ calls: 8, failed: 1 });
    expect((await limiter.getRemaining('user-1')).remaining).toBe(0);
  });

  it('tokenBucket lets exactly 5 of 8 through, counting remaining tokens down', async () => {
    await direct.flushall();
    const limiter = new Ratelimit({
      redis,
      limiter: Ratelimit.tokenBucket(1, '1 m', 5),
      prefix: key('rl-tb'),
      ephemeralCache: false,
    });
    const results = [];
    for (let i = 0; i < 8; i++) results.push(await limiter.limit('user-2'));
    expect(results.map((r) => r.success)).toEqual([
      true,
      true,
      true,
      true,
      true,
      false,
      false,
      false,
    ]);
    expect(results.slice(0, 5).map((r) => r.remaining)).toEqual([4, 3, 2, 1, 0]);
  });
});

describe('startLocalUpstash', () => {
  it('starts redis-server behind the bridge and stops both', async () => {
    const local = await startLocalUpstash({ token: 'local-token' });
    expect(local.backend).toBe('redis-server');
    const client = new Redis({ url: local.url, token: local.token, retry: false });
    await client.set('k', { v: 1 });
    expect(await client.get('k')).toEqual({ v: 1 });
    await local.stop();
    await expect(fetch(local.url, { method: 'POST', body: '["ping"]' })).rejects.toThrow();
  });
});
