/**
 * A local HTTP server speaking the Upstash Redis REST protocol in front of any ioredis-like
 * client, so `@upstash/redis` and `@upstash/ratelimit` run unmodified against a local store.
 *
 * Protocol, as the official client (`@upstash/redis` pkg/http.ts) and the Upstash REST docs
 * define it:
 * - `POST /` body `["SET","k","v"]` → `{"result":...}` (200) or `{"error":"ERR ..."}` (400).
 * - `POST /pipeline` body `[[...],[...]]` → 200 `[{"result":...},{"error":"..."}]`, not atomic.
 * - `POST /multi-exec` same body, run in MULTI/EXEC; a command failing at run time is that
 *   item's `{"error"}`; a transaction Redis discards as a whole (EXECABORT) is one 400 error.
 * - Path style `GET|POST /set/k/v?EX=100`; a non-empty POST body is appended as the last
 *   argument before the query parameters, which are appended as name, value pairs.
 * - Auth: `Authorization: Bearer <token>` or `?_token=<token>`; missing or wrong → 401
 *   `{"error":"Unauthorized"}` (the docs: "auth token is missing or invalid" → 401).
 * - `Upstash-Encoding: base64`: every string in a result is base64 of its raw bytes, except a
 *   top-level "OK" (the client decoder keeps a bare "OK" and base64-decodes any other string);
 *   numbers and nulls are never encoded, errors never are.
 * - Replies map RESP2 → JSON: integers → numbers, bulk and status strings → strings, nil →
 *   null, arrays → arrays (nested as deep as Redis nests them).
 * - `upstash-sync-token` (read-your-writes) is answered with an increasing counter; one local
 *   server is always consistent, so the client's token is accepted and otherwise ignored.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export type RedisArg = string | Buffer;

/** A queued MULTI block: ioredis's `redis.multi()` fits as is. */
export interface RedisTransaction {
  callBuffer(command: string, ...args: RedisArg[]): unknown;
  /** One `[error, reply]` per command; rejects when Redis discards the whole transaction. */
  exec(): Promise<Array<[Error | null, unknown]> | null>;
}

/**
 * What the bridge needs from a Redis client: an ioredis `Redis` fits as is. Replies must keep
 * strings as Buffers (ioredis `callBuffer`), so binary values survive.
 */
export interface RedisLike {
  callBuffer(command: string, ...args: RedisArg[]): Promise<unknown>;
  multi(): RedisTransaction;
}

export interface UpstashBridgeOptions {
  /** The store commands run against. Its connection is shared by every request. */
  redis: RedisLike;
  /** Token clients must present. Required. */
  token: string;
  /** Port to listen on. Default: 0 (a free port picked by the OS). */
  port?: number;
  /** Interface to listen on. Default: '127.0.0.1'. */
  host?: string;
  /** Largest accepted request body, in bytes; larger → 413. Default: 10 MiB. */
  maxBodyBytes?: number;
}

export interface UpstashBridge {
  /** Base URL to give `new Redis({ url })`, e.g. http://127.0.0.1:8079 */
  url: string;
  port: number;
  /** Stops listening and drops open keep-alive connections. Does not close `redis`. */
  close(): Promise<void>;
}

const OK = Buffer.from('OK');

/**
 * Commands the REST API cannot serve over one shared connection: they change connection state,
 * block it, or take it over. Upstash refuses these too (blocking and pub/sub ones at least).
 */
const UNAVAILABLE = new Set(
  [
    'multi exec discard watch unwatch select hello auth reset quit client',
    'readonly readwrite asking sync psync replconf monitor shutdown wait waitaof',
    'subscribe psubscribe ssubscribe unsubscribe punsubscribe sunsubscribe',
    'blpop brpop brpoplpush blmove blmpop bzpopmin bzpopmax bzmpop',
  ]
    .join(' ')
    .split(' '),
);

/**
 * ioredis rewrites these commands' replies (HGETALL → object) or Buffer arguments (HSET/MSET
 * treat an object argument as a field map), matching the exact lower-case name only; sending
 * them upper-cased keeps Redis's own reply and arguments.
 */
const IOREDIS_TRANSFORMED = new Set(['hgetall', 'hset', 'hmset', 'mset', 'msetnx']);

/** Script flags stock Redis 7 accepts in a `#!lua flags=...` shebang. */
const REDIS_SCRIPT_FLAGS = new Set(
  'no-writes allow-oom allow-stale no-cluster allow-cross-slot-keys'.split(' '),
);

class HttpError extends Error {
  readonly status: number;
  constructor(status: number, message: string) {
    super(message);
    this.status = status;
  }
}

interface Prepared {
  name: string;
  args: RedisArg[];
  mapReply?: (reply: unknown) => unknown;
}

export async function startUpstashBridge(opts: UpstashBridgeOptions): Promise<UpstashBridge> {
  const { redis } = opts;
  const maxBodyBytes = opts.maxBodyBytes ?? 10 * 1024 * 1024;
  const expectedToken = digest(opts.token);
  const scripts = new ScriptShas();
  let syncCounter = 0;

  const server = createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      const status = err instanceof HttpError ? err.status : 500;
      send(res, status, { error: err instanceof Error ? err.message : String(err) });
    });
  });

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const method = req.method ?? 'GET';
    const url = new URL(req.url ?? '/', 'http://bridge.local');
    if (!['GET', 'HEAD', 'POST', 'PUT'].includes(method)) {
      req.resume();
      throw new HttpError(405, `Method not allowed: ${method}`);
    }
    if (!authorized(req, url)) {
      req.resume();
      throw new HttpError(401, 'Unauthorized');
    }
    const format = header(req, 'upstash-response-format');
    if (format && format.toLowerCase() !== 'json') {
      req.resume();
      throw new HttpError(400, `ERR Upstash-Response-Format '${format}' is not supported here`);
    }
    const base64 = header(req, 'upstash-encoding')?.toLowerCase() === 'base64';
    const body = await readBody(req, maxBodyBytes);
    res.setHeader('upstash-sync-token', String(++syncCounter));

    const encode = (outcome: Outcome) => encodeItem(outcome, base64);
    const path = url.pathname.replace(/\/+$/, '');
    if (path === '/pipeline') {
      const outcomes = await runPipeline(parsePipeline(parseJson(body)));
      send(res, 200, outcomes.map(encode));
    } else if (path === '/multi-exec') {
      const outcomes = await runTransaction(parsePipeline(parseJson(body)));
      if ('error' in outcomes) send(res, 400, outcomes);
      else send(res, 200, outcomes.map(encode));
    } else {
      const cmd = path === '' ? parseCommand(parseJson(body)) : pathCommand(url, body);
      const outcome = await runOne(cmd);
      send(res, 'error' in outcome ? 400 : 200, encode(outcome));
    }
  }

  function authorized(req: IncomingMessage, url: URL): boolean {
    const auth = header(req, 'authorization');
    const match = auth ? /^Bearer\s+(.+)$/i.exec(auth.trim()) : null;
    const given = match?.[1] ?? url.searchParams.get('_token');
    // Equal-length digests let timingSafeEqual compare tokens of any length.
    return given !== null && given !== undefined && timingSafeEqual(digest(given), expectedToken);
  }

  type Outcome = { result: unknown } | { error: string };

  async function runOne(cmd: RedisArg[]): Promise<Outcome> {
    try {
      const p = prepare(cmd);
      const reply = await redis.callBuffer(p.name, ...p.args);
      return { result: p.mapReply ? p.mapReply(reply) : reply };
    } catch (err) {
      return { error: errorMessage(err) };
    }
  }

  function runPipeline(cmds: RedisArg[][]): Promise<Outcome[]> {
    // Issue every command before awaiting any, so they go out in order on the one connection.
    return Promise.all(cmds.map((cmd) => runOne(cmd)));
  }

  async function runTransaction(cmds: RedisArg[][]): Promise<Outcome[] | { error: string }> {
    let prepared: Prepared[];
    try {
      prepared = cmds.map(prepare);
    } catch (err) {
      return { error: errorMessage(err) };
    }
    const tx = redis.multi();
    for (const p of prepared) tx.callBuffer(p.name, ...p.args);
    let replies: Array<[Error | null, unknown]> | null;
    try {
      replies = await tx.exec();
    } catch (err) {
      const queued = (err as { previousErrors?: unknown[] }).previousErrors ?? [];
      const detail = queued.length > 0 ? `: ${queued.map(errorMessage).join('; ')}` : '';
      return { error: `${errorMessage(err).replace(/\.$/, '')}${detail}` };
    }
    if (!replies) return { error: 'EXECABORT Transaction discarded' };
    return replies.map(([err, reply], i): Outcome => {
      if (err) return { error: errorMessage(err) };
      const map = prepared[i]?.mapReply;
      return { result: map ? map(reply) : reply };
    });
  }

  function prepare(cmd: RedisArg[]): Prepared {
    const [first, ...args] = cmd;
    const name = String(first ?? '');
    const lower = name.toLowerCase();
    if (UNAVAILABLE.has(lower) || isBlockingStreamRead(lower, args)) {
      throw new Error(`ERR Command is not available: '${name.toUpperCase()}'`);
    }
    const callName = IOREDIS_TRANSFORMED.has(name) ? name.toUpperCase() : name;
    return scripts.prepare(callName, lower, args);
  }

  function encodeItem(outcome: Outcome, base64: boolean): Outcome {
    if ('error' in outcome) return outcome;
    return { result: toJson(outcome.result, base64, true) };
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, opts.host ?? '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address() as AddressInfo;
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  return {
    url: `http://${host}:${address.port}`,
    port: address.port,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((err) => (err ? reject(err) : resolve()));
        server.closeAllConnections();
      }),
  };
}

/**
 * `@upstash/ratelimit` scripts start with `#!lua flags=allow-key-locking`, an Upstash-only flag
 * stock Redis rejects ("Unexpected flag in script shebang"). Unknown flags are dropped before
 * EVAL / SCRIPT LOAD; the sha1 of the script as the client sent it is mapped to the sha1 of
 * what Redis stored, so the client's EVALSHA (sha of its own text) and SCRIPT EXISTS still hit.
 */
class ScriptShas {
  private readonly effective = new Map<string, string>();

  prepare(name: string, lower: string, args: RedisArg[]): Prepared {
    const sub = typeof args[0] === 'string' ? args[0].toLowerCase() : '';
    if ((lower === 'eval' || lower === 'eval_ro') && args.length > 0) {
      return { name, args: [this.rewrite(args[0] as RedisArg), ...args.slice(1)] };
    }
    if ((lower === 'evalsha' || lower === 'evalsha_ro') && args.length > 0) {
      return { name, args: [this.lookup(args[0] as RedisArg), ...args.slice(1)] };
    }
    if (lower === 'script' && sub === 'load' && args.length === 2) {
      const original = args[1] as RedisArg;
      const rewritten = this.rewrite(original);
      const sha = Buffer.from(sha1(original));
      return {
        name,
        args: [args[0] as RedisArg, rewritten],
        mapReply: (reply) => (reply ? sha : reply),
      };
    }
    if (lower === 'script' && sub === 'exists') {
      return { name, args: [args[0] as RedisArg, ...args.slice(1).map((a) => this.lookup(a))] };
    }
    if (lower === 'script' && sub === 'flush') this.effective.clear();
    return { name, args };
  }

  private rewrite(script: RedisArg): RedisArg {
    const text = typeof script === 'string' ? script : script.toString('latin1');
    if (!text.startsWith('#!')) return script;
    const eol = text.indexOf('\n');
    const first = eol === -1 ? text : text.slice(0, eol);
    const [engine = '#!lua', ...options] = first.trim().split(/\s+/);
    const kept = options.map((opt) => {
      if (!opt.startsWith('flags=')) return opt;
      const flags = opt
        .slice('flags='.length)
        .split(',')
        .filter((f) => REDIS_SCRIPT_FLAGS.has(f));
      return flags.length > 0 ? `flags=${flags.join(',')}` : '';
    });
    const line = [engine, ...kept.filter(Boolean)].join(' ');
    if (line === first) return script;
    const rewrittenText = line + (eol === -1 ? '' : text.slice(eol));
    const rewritten =
      typeof script === 'string' ? rewrittenText : Buffer.from(rewrittenText, 'latin1');
    this.effective.set(sha1(script), sha1(rewritten));
    return rewritten;
  }

  private lookup(sha: RedisArg): RedisArg {
    return this.effective.get(sha.toString().toLowerCase()) ?? sha;
  }
}

function isBlockingStreamRead(lower: string, args: RedisArg[]): boolean {
  if (lower !== 'xread' && lower !== 'xreadgroup') return false;
  for (const a of args) {
    const word = a.toString().toLowerCase();
    if (word === 'streams') return false;
    if (word === 'block') return true;
  }
  return false;
}

/** RESP reply (Buffers for strings) → the JSON value Upstash would send. */
function toJson(reply: unknown, base64: boolean, top: boolean): unknown {
  if (reply === null || reply === undefined) return null;
  if (typeof reply === 'number') return reply;
  if (typeof reply === 'bigint') return Number(reply);
  if (Buffer.isBuffer(reply) || typeof reply === 'string') {
    const buf = typeof reply === 'string' ? Buffer.from(reply) : reply;
    if (!base64) return buf.toString('utf8');
    return top && buf.equals(OK) ? 'OK' : buf.toString('base64');
  }
  if (Array.isArray(reply)) return reply.map((item) => toJson(item, base64, false));
  // Errors nested in a reply (e.g. a Lua table holding an error_reply) have no JSON form.
  if (reply instanceof Error) return toJson(reply.message, base64, false);
  return toJson(String(reply), base64, top);
}

function parseCommand(json: unknown): RedisArg[] {
  if (!Array.isArray(json) || json.length === 0 || typeof json[0] !== 'string' || json[0] === '') {
    throw new HttpError(
      400,
      'ERR invalid command: expected a JSON array like ["SET","key","value"]',
    );
  }
  return json.map((arg, i) => {
    if (typeof arg === 'string') return arg;
    if (typeof arg === 'number' || typeof arg === 'boolean') return String(arg);
    throw new HttpError(400, `ERR invalid command: argument ${i} must be a string or number`);
  });
}

function parsePipeline(json: unknown): RedisArg[][] {
  if (!Array.isArray(json) || json.length === 0) {
    throw new HttpError(400, 'ERR invalid pipeline: expected a non-empty JSON array of commands');
  }
  return json.map(parseCommand);
}

function pathCommand(url: URL, body: Buffer): RedisArg[] {
  const cmd: RedisArg[] = url.pathname
    .split('/')
    .slice(1)
    .filter((segment, i, all) => segment !== '' || i < all.length - 1)
    .map((segment) => decodeURIComponent(segment));
  if (cmd.length === 0 || cmd[0] === '') throw new HttpError(400, 'ERR empty command');
  if (body.length > 0) cmd.push(body);
  for (const [name, value] of url.searchParams) {
    if (name !== '_token') cmd.push(name, value);
  }
  return cmd;
}

function parseJson(body: Buffer): unknown {
  try {
    return JSON.parse(body.toString('utf8'));
  } catch (err) {
    throw new HttpError(400, `ERR failed to parse JSON request body: ${errorMessage(err)}`);
  }
}

function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    // Keep draining past the limit so the client sees the 413 rather than a reset socket.
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size <= limit) chunks.push(chunk);
    });
    req.on('end', () => {
      if (size > limit)
        reject(new HttpError(413, `ERR max request size exceeded. Limit: ${limit} bytes`));
      else resolve(Buffer.concat(chunks));
    });
    req.on('error', reject);
  });
}

function send(res: ServerResponse, status: number, payload: unknown): void {
  if (res.headersSent) {
    res.end();
    return;
  }
  const body = JSON.stringify(payload);
  res.writeHead(status, {
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(body),
  });
  res.end(body);
}

function header(req: IncomingMessage, name: string): string | undefined {
  const value = req.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

function digest(value: string): Buffer {
  return createHash('sha256').update(value).digest();
}

function sha1(value: RedisArg): string {
  return createHash('sha1').update(value).digest('hex');
}
