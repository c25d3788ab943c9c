/**
 * Edge → origin request signing. Web Crypto only: the same code signs in workerd (the edge)
 * and verifies in Node (origin/).
 *
 * Contract: the edge signs `METHOD path?query` plus a SHA-256 digest of the exact body bytes,
 * a unix timestamp (seconds) and a random nonce with HMAC-SHA256 under a key named by
 * `x-gateway-key-id`, so keys rotate by adding a new id on the origin first, then switching
 * the edge. The origin accepts a signature whose timestamp is within `skewSeconds` (60) of its
 * clock, and a `ReplayGuard` refuses a nonce seen before inside that window.
 *
 * Canonical string (one field a line):
 *   GW1-HMAC-SHA256 \n key id \n timestamp \n nonce \n METHOD \n path?query \n body sha-256 hex
 */

export const SIGNING_HEADERS = {
  keyId: 'x-gateway-key-id',
  timestamp: 'x-gateway-timestamp',
  nonce: 'x-gateway-nonce',
  contentSha256: 'x-gateway-content-sha256',
  signature: 'x-gateway-signature',
} as const;

export const ALGORITHM = 'GW1-HMAC-SHA256';
/** Largest accepted distance between the signer's clock and the verifier's. */
export const DEFAULT_SKEW_SECONDS = 60;

const encoder = new TextEncoder();

export type Body = string | Uint8Array;

export interface SigningKey {
  id: string;
  secret: string;
}

/**
 * Parses `id:secret,id2:secret2` (whitespace around entries ignored). Throws on an entry
 * without an id or secret, or a repeated id; the message never contains a secret.
 */
export function parseSigningKeys(spec: string): Map<string, string> {
  const keys = new Map<string, string>();
  for (const [i, raw] of spec.split(',').entries()) {
    const entry = raw.trim();
    if (entry === '') continue;
    const colon = entry.indexOf(':');
    const id = colon > 0 ? entry.slice(0, colon).trim() : '';
    const secret = colon > 0 ? entry.slice(colon + 1) : '';
    if (!/^[\w.-]+$/.test(id) || secret.length === 0) {
      throw new Error(`signing keys: entry ${i + 1} is not "id:secret"`);
    }
    if (keys.has(id)) throw new Error(`signing keys: key id "${id}" appears twice`);
    keys.set(id, secret);
  }
  if (keys.size === 0) throw new Error('signing keys: none given (expected "id:secret,...")');
  return keys;
}

export function toHex(bytes: ArrayBuffer | Uint8Array): string {
  const view = bytes instanceof Uint8Array ? bytes : new Uint8Array(bytes);
  let out = '';
  for (const b of view) out += b.toString(16).padStart(2, '0');
  return out;
}

function fromHex(hex: string): Uint8Array | undefined {
  if (hex.length % 2 !== 0 || !/^[0-9a-f]*$/.test(hex)) return undefined;
  const out = new Uint8Array(hex.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = Number.parseInt(hex.slice(i * 2, i * 2 + 2), 16);
  return out;
}

function bytesOf(body: Body): Uint8Array<ArrayBuffer> {
  return (typeof body === 'string' ? encoder.encode(body) : body) as Uint8Array<ArrayBuffer>;
}

export async function sha256Hex(body: Body): Promise<string> {
  return toHex(await crypto.subtle.digest('SHA-256', bytesOf(body)));
}

/** Compares two byte strings in time that depends only on their lengths. */
export function timingSafeEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a[i]! ^ b[i]!;
  return diff === 0;
}

// CryptoKey imports are not free; a secret is imported once per isolate/process.
const keyCache = new Map<string, Promise<CryptoKey>>();

function hmacKey(secret: string): Promise<CryptoKey> {
  let key = keyCache.get(secret);
  if (!key) {
    key = crypto.subtle.importKey(
      'raw',
      encoder.encode(secret),
      { name: 'HMAC', hash: 'SHA-256' },
      false,
      ['sign'],
    );
    if (keyCache.size > 64) keyCache.clear();
    keyCache.set(secret, key);
  }
  return key;
}

export interface CanonicalParts {
  keyId: string;
  timestamp: string;
  nonce: string;
  method: string;
  /** Path with its query string, exactly as sent (`/v1/chat/completions?x=1`). */
  path: string;
  contentSha256: string;
}

export function canonicalString(p: CanonicalParts): string {
  return [
    ALGORITHM,
    p.keyId,
    p.timestamp,
    p.nonce,
    p.method.toUpperCase(),
    p.path,
    p.contentSha256,
  ].join('\n');
}

async function hmacHex(secret: string, message: string): Promise<string> {
  const mac = await crypto.subtle.sign('HMAC', await hmacKey(secret), encoder.encode(message));
  return toHex(mac);
}

/**
 * The two primitives the protocol needs. Web Crypto by default (workerd and Node alike); a
 * Node service may pass synchronous node:crypto ones, which skip the thread-pool round trips
 * of Web Crypto (origin/src/node-crypto.ts). The protocol itself is only written here.
 */
export interface SigningCrypto {
  sha256Hex(body: Uint8Array): string | Promise<string>;
  hmacSha256Hex(secret: string, message: string): string | Promise<string>;
}

export const webCrypto: SigningCrypto = {
  sha256Hex: (body) => sha256Hex(body),
  hmacSha256Hex: hmacHex,
};

export interface SignInput {
  key: SigningKey;
  method: string;
  /** A full URL or a path with query; only path and query are signed. */
  url: string;
  body: Body;
  /** Unix ms; default Date.now(). */
  now?: number;
  /** Default: 128 random bits, hex. */
  nonce?: string;
}

/** The headers that authenticate one request. A fresh nonce each call: retries sign again. */
export async function signRequest(input: SignInput): Promise<Record<string, string>> {
  const timestamp = String(Math.floor((input.now ?? Date.now()) / 1000));
  const nonce = input.nonce ?? toHex(crypto.getRandomValues(new Uint8Array(16)));
  const contentSha256 = await sha256Hex(input.body);
  const parts: CanonicalParts = {
    keyId: input.key.id,
    timestamp,
    nonce,
    method: input.method,
    path: pathWithQuery(input.url),
    contentSha256,
  };
  return {
    [SIGNING_HEADERS.keyId]: input.key.id,
    [SIGNING_HEADERS.timestamp]: timestamp,
    [SIGNING_HEADERS.nonce]: nonce,
    [SIGNING_HEADERS.contentSha256]: contentSha256,
    [SIGNING_HEADERS.signature]: await hmacHex(input.key.secret, canonicalString(parts)),
  };
}

/** `/path?query` of a URL or of an already relative path. */
export function pathWithQuery(url: string): string {
  if (url.startsWith('/')) return url;
  const u = new URL(url);
  return `${u.pathname}${u.search}`;
}

export type VerifyFailure =
  | 'missing_headers'
  | 'unknown_key'
  | 'malformed'
  | 'stale'
  | 'body_mismatch'
  | 'bad_signature';

export type VerifyResult =
  | { ok: true; keyId: string; nonce: string; timestamp: number }
  | { ok: false; reason: VerifyFailure };

export interface VerifyInput {
  /** Key id → secret (see parseSigningKeys). */
  keys: ReadonlyMap<string, string>;
  method: string;
  /** Path with query as received (Node's `req.url`), or a full URL. */
  url: string;
  headers: Headers | Readonly<Record<string, string | string[] | undefined>>;
  body: Body;
  /** Unix ms; default Date.now(). */
  now?: number;
  skewSeconds?: number;
  /** Default Web Crypto. */
  crypto?: SigningCrypto;
}

function header(headers: VerifyInput['headers'], name: string): string | undefined {
  if (headers instanceof Headers) return headers.get(name) ?? undefined;
  const v = headers[name];
  return Array.isArray(v) ? v[0] : v;
}

/**
 * Checks a signed request. Cheap checks first (headers, key id, clock), then the HMAC over the
 * declared digest and the digest of the actual body. Never throws on bad input.
 */
export async function verifyRequest(input: VerifyInput): Promise<VerifyResult> {
  const get = (name: string) => header(input.headers, name);
  const keyId = get(SIGNING_HEADERS.keyId);
  const timestamp = get(SIGNING_HEADERS.timestamp);
  const nonce = get(SIGNING_HEADERS.nonce);
  const contentSha256 = get(SIGNING_HEADERS.contentSha256);
  const signature = get(SIGNING_HEADERS.signature);
  if (!keyId || !timestamp || !nonce || !contentSha256 || !signature) {
    return { ok: false, reason: 'missing_headers' };
  }
  const secret = input.keys.get(keyId);
  if (secret === undefined) return { ok: false, reason: 'unknown_key' };
  const expected = fromHex(signature.toLowerCase());
  if (
    !/^\d{1,12}$/.test(timestamp) ||
    !/^[\w-]{8,128}$/.test(nonce) ||
    !/^[0-9a-f]{64}$/.test(contentSha256) ||
    expected === undefined
  ) {
    return { ok: false, reason: 'malformed' };
  }
  const ts = Number(timestamp);
  const skew = input.skewSeconds ?? DEFAULT_SKEW_SECONDS;
  if (Math.abs((input.now ?? Date.now()) / 1000 - ts) > skew) return { ok: false, reason: 'stale' };

  const canonical = canonicalString({
    keyId,
    timestamp,
    nonce,
    method: input.method,
    path: pathWithQuery(input.url),
    contentSha256,
  });
  const impl = input.crypto ?? webCrypto;
  const body = typeof input.body === 'string' ? encoder.encode(input.body) : input.body;
  // Both at once: with Web Crypto each is a round trip to another thread.
  const [mac, bodyDigest] = await Promise.all([
    impl.hmacSha256Hex(secret, canonical),
    impl.sha256Hex(body),
  ]);
  const actual = fromHex(mac);
  if (!actual || !timingSafeEqual(actual, expected)) return { ok: false, reason: 'bad_signature' };
  const digest = fromHex(bodyDigest)!;
  if (!timingSafeEqual(digest, fromHex(contentSha256)!)) {
    return { ok: false, reason: 'body_mismatch' };
  }
  return { ok: true, keyId, nonce, timestamp: ts };
}

/**
 * Remembers accepted nonces for as long as their signature could still pass the clock check,
 * so a captured request cannot be sent twice. Memory is bounded by `maxEntries`: past it the
 * oldest entries are dropped early (a replay of those would need to arrive within the same
 * window and after `maxEntries` newer requests).
 */
export class ReplayGuard {
  private readonly seen = new Map<string, number>();
  private readonly skewSeconds: number;
  private readonly maxEntries: number;
  private lastSweep = 0;

  constructor(opts: { skewSeconds?: number; maxEntries?: number } = {}) {
    this.skewSeconds = opts.skewSeconds ?? DEFAULT_SKEW_SECONDS;
    this.maxEntries = opts.maxEntries ?? 1_000_000;
  }

  get size(): number {
    return this.seen.size;
  }

  /** Records the nonce; false when it was already seen inside the window (a replay). */
  check(keyId: string, nonce: string, timestampSeconds: number, now = Date.now()): boolean {
    const id = `${keyId}\n${nonce}`;
    const expiresAt = (timestampSeconds + this.skewSeconds + 1) * 1000;
    const known = this.seen.get(id);
    if (known !== undefined && known > now) return false;
    this.sweep(now);
    this.seen.set(id, expiresAt);
    while (this.seen.size > this.maxEntries) {
      const oldest = this.seen.keys().next().value as string;
      this.seen.delete(oldest);
    }
    return true;
  }

  private sweep(now: number): void {
    if (now - this.lastSweep < 1_000) return;
    this.lastSweep = now;
    // Insertion order is close to expiry order: stop at the first live entry.
    for (const [id, expiresAt] of this.seen) {
      if (expiresAt > now) break;
      this.seen.delete(id);
    }
  }
}
