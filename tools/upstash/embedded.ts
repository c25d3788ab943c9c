/**
 * Dev-only fallback store for the bridge when no `redis-server` is installed: an in-process
 * `ioredis-mock` (Lua via fengari) wrapped to look like the `RedisLike` the bridge needs.
 *
 * What the wrapper adds over the bare mock:
 * - a generic `callBuffer(name, ...args)` (the mock has one method per command, no `call`);
 * - SCRIPT LOAD / EXISTS / FLUSH, which the mock lacks, on top of its sha1 → script table;
 * - EVAL / EVALSHA of scripts with a `#!lua ...` shebang line (Lua itself cannot parse it);
 * - nil array items seen by Lua as `false`, as in Redis (the mock hands Lua a JS null, so
 *   `redis.call('HMGET', ...)[1] == false` never held and the token bucket script failed);
 * - Redis's Lua → RESP conversion of numbers (truncated to integers);
 * - "WRONGTYPE ..." errors where the mock says "Key k does not contain a list";
 * - HGETALL as a flat [field, value, ...] array, like RESP, instead of an object;
 * - MULTI/EXEC with per-command errors (the mock's own exec rejects on the first error).
 *
 * Known gaps against a real redis-server (ioredis-mock 8): INCR/INCRBY on a non-integer
 * value does not fail (it stores NaN); other error texts differ from Redis's; a transaction
 * holding an unknown command is not discarded as a whole (EXECABORT); commands missing from
 * ioredis-mock's compat table answer "ERR unknown command"; a Lua script returning a table it
 * built with `t[i] = v` comes back as nil (table constructors `{a, b}` work, and are what
 * @upstash/ratelimit uses); redis.pcall error tables are not Redis's `{err = ...}`; values are
 * JS strings, so non-UTF-8 bytes are not guaranteed to round-trip.
 */
import { createHash, randomUUID } from 'node:crypto';
import RedisMock from 'ioredis-mock';
import type { RedisArg, RedisLike, RedisTransaction } from './bridge.ts';

export interface EmbeddedRedis extends RedisLike {
  /** Drops the store's connection; its data is not reused by later instances. */
  close(): Promise<void>;
}

type MockMethod = (...args: unknown[]) => unknown;

export function createEmbeddedRedis(): EmbeddedRedis {
  // ioredis-mock shares data between instances with the same host:port/db; a unique host
  // gives every embedded store its own keyspace.
  const mock = new RedisMock({ host: `embedded-${randomUUID()}`, port: 6379 });
  const methods = mock as unknown as Record<string, MockMethod | undefined>;
  const shaScripts = (mock as unknown as { shaScripts: Record<string, string | undefined> })
    .shaScripts;

  function invoke(name: string, args: RedisArg[]): unknown {
    const fn = methods[`${name}Buffer`] ?? methods[name];
    if (typeof fn !== 'function') throw new Error(`ERR unknown command '${name}'`);
    try {
      return fn.apply(mock, args);
    } catch (err) {
      // The mock throws a TypeError ("Unsupported command") for commands it does not emulate.
      if (err instanceof TypeError) throw new Error(`ERR unknown command '${name}' (not emulated)`);
      throw err;
    }
  }

  // Not async up to `invoke`: the mock runs a command synchronously inside that call, which is
  // what makes a MULTI batch below run back to back with nothing in between.
  function callBuffer(command: string, ...args: RedisArg[]): Promise<unknown> {
    const name = command.toLowerCase();
    try {
      if (name === 'script') return Promise.resolve(script(args));
      if (name === 'eval' || name === 'eval_ro') {
        const [source, ...rest] = args;
        const text = String(source ?? '');
        shaScripts[sha1(text)] = forMock(text);
        return settle(invoke('eval', [forMock(text), ...rest]), luaToResp);
      }
      if (name === 'evalsha' || name === 'evalsha_ro') {
        return settle(
          invoke('evalsha', [String(args[0] ?? '').toLowerCase(), ...args.slice(1)]),
          luaToResp,
        );
      }
      return settle(invoke(name, args), flattenObject);
    } catch (err) {
      return Promise.reject(redisError(err));
    }
  }

  function script(args: RedisArg[]): unknown {
    const sub = String(args[0] ?? '').toLowerCase();
    if (sub === 'load' && args.length === 2) {
      const text = String(args[1]);
      const sha = sha1(text);
      shaScripts[sha] = forMock(text);
      return Buffer.from(sha);
    }
    if (sub === 'exists') {
      return args.slice(1).map((sha) => (shaScripts[String(sha).toLowerCase()] ? 1 : 0));
    }
    if (sub === 'flush') {
      for (const sha of Object.keys(shaScripts)) delete shaScripts[sha];
      return Buffer.from('OK');
    }
    throw new Error(`ERR unknown subcommand '${sub}'. Try SCRIPT HELP.`);
  }

  function multi(): RedisTransaction {
    const queued: Array<[string, RedisArg[]]> = [];
    const tx: RedisTransaction = {
      callBuffer(command, ...args) {
        queued.push([command, args]);
        return tx;
      },
      async exec() {
        const settled = await Promise.allSettled(queued.map(([c, a]) => callBuffer(c, ...a)));
        return settled.map((s): [Error | null, unknown] =>
          s.status === 'fulfilled' ? [null, s.value] : [toError(s.reason), null],
        );
      },
    };
    return tx;
  }

  return {
    callBuffer,
    multi,
    close: async () => mock.disconnect(),
  };
}

function settle(value: unknown, map: (v: unknown) => unknown): Promise<unknown> {
  return Promise.resolve(value).then(map, (err: unknown) => Promise.reject(redisError(err)));
}

function redisError(err: unknown): Error {
  const error = toError(err);
  return /^Key .* does not contain a (list|set|sorted set)$/.test(error.message)
    ? new Error('WRONGTYPE Operation against a key holding the wrong kind of value')
    : error;
}

/** Redis turns Lua numbers into integer replies by truncation, true into 1, false into nil. */
function luaToResp(value: unknown): unknown {
  if (typeof value === 'number') return Math.trunc(value);
  if (value === true) return 1;
  if (value === false) return null;
  if (Array.isArray(value)) return value.map(luaToResp);
  return value;
}

/** The mock answers HGETALL (and a few others) with an object where RESP has a flat array. */
function flattenObject(value: unknown): unknown {
  if (
    value === null ||
    typeof value !== 'object' ||
    Array.isArray(value) ||
    Buffer.isBuffer(value)
  ) {
    return value;
  }
  return Object.entries(value).flat();
}

/**
 * Wraps redis.call so arrays reach Lua as plain tables with `false` for nil items, as Redis
 * does. Rebuilt with a table constructor because the mock only converts a returned table back
 * to an array when it iterates like one built by a constructor. The sentinel HMGET reads a key
 * that cannot exist to obtain the mock's JS-null value.
 */
const LUA_PRELUDE = [
  'local __call = redis.call;',
  "local __null = __call('HMGET', '\\0embedded:absent', '\\0')[1];",
  "local function __fix(r) if type(r) ~= 'userdata' or r == __null then return r end",
  'local t, n = {}, #r; for i = 1, n do local v = r[i];',
  'if v == nil or v == __null then t[i] = false else t[i] = __fix(v) end end;',
  'return {table.unpack(t, 1, n)} end;',
  'redis.call = function(...) return __fix(__call(...)) end;',
].join(' ');

/**
 * Script text the mock can run: the shebang line (Lua cannot parse it) is replaced by the
 * prelude, on that same line, so Lua error line numbers still match the original.
 */
function forMock(script: string): string {
  if (!script.startsWith('#!')) return `${LUA_PRELUDE} ${script}`;
  const eol = script.indexOf('\n');
  return eol === -1 ? LUA_PRELUDE : LUA_PRELUDE + script.slice(eol);
}

function toError(reason: unknown): Error {
  return reason instanceof Error ? reason : new Error(String(reason));
}

function sha1(text: string): string {
  return createHash('sha1').update(text).digest('hex');
}
