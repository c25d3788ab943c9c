import { describe, expect, it } from 'vitest';
import {
  canonicalString,
  parseSigningKeys,
  ReplayGuard,
  SIGNING_HEADERS,
  sha256Hex,
  signRequest,
  timingSafeEqual,
  verifyRequest,
} from './index.ts';

const key = { id: 'k1', secret: 'edge-origin-secret-one' };
const keys = parseSigningKeys('k1:edge-origin-secret-one, k2:second-secret');
const NOW = 1_760_000_000_000;
const body = JSON.stringify({ model: 'm', messages: [{ role: 'user', content: 'héllo' }] });

async function signed(overrides: Partial<Parameters<typeof signRequest>[0]> = {}) {
  return signRequest({
    key,
    method: 'POST',
    url: 'https://origin.test/v1/chat/completions?x=1',
    body,
    now: NOW,
    ...overrides,
  });
}

const verify = (headers: Record<string, string>, extra: Record<string, unknown> = {}) =>
  verifyRequest({
    keys,
    method: 'POST',
    url: '/v1/chat/completions?x=1',
    headers,
    body,
    now: NOW,
    ...extra,
  });

describe('signing keys', () => {
  it('parses id:secret lists and rejects malformed ones without echoing secrets', () => {
    expect([...keys.keys()]).toEqual(['k1', 'k2']);
    expect(keys.get('k2')).toBe('second-secret');
    expect(parseSigningKeys('a:b:c').get('a')).toBe('b:c');
    expect(() => parseSigningKeys('')).toThrow(/none given/);
    expect(() => parseSigningKeys('k1:x,k1:y')).toThrow(/twice/);
    expect(() => parseSigningKeys('nosecret')).toThrow(/entry 1/);
    let thrown: unknown;
    try {
      parseSigningKeys('ok:fine,:leaked-secret');
    } catch (err) {
      thrown = err;
    }
    expect(thrown).toBeInstanceOf(Error);
    expect(String(thrown)).toMatch(/entry 2/);
    expect(String(thrown)).not.toContain('leaked-secret');
  });
});

describe('sign and verify (Web Crypto, in workerd)', () => {
  it('signs method, path with query, timestamp, nonce and the body digest', async () => {
    const h = await signed({ nonce: 'nonce-0001' });
    expect(h[SIGNING_HEADERS.keyId]).toBe('k1');
    expect(h[SIGNING_HEADERS.timestamp]).toBe(String(NOW / 1000));
    expect(h[SIGNING_HEADERS.contentSha256]).toBe(await sha256Hex(new TextEncoder().encode(body)));
    expect(h[SIGNING_HEADERS.signature]).toMatch(/^[0-9a-f]{64}$/);
    expect(
      canonicalString({
        keyId: 'k1',
        timestamp: '1',
        nonce: 'n',
        method: 'post',
        path: '/p?q',
        contentSha256: 'd',
      }),
    ).toBe('GW1-HMAC-SHA256\nk1\n1\nn\nPOST\n/p?q\nd');
    const result = await verify(h);
    expect(result).toEqual({ ok: true, keyId: 'k1', nonce: 'nonce-0001', timestamp: NOW / 1000 });
  });

  it('uses a fresh nonce (and so a fresh signature) on every call', async () => {
    const [a, b] = await Promise.all([signed(), signed()]);
    expect(a[SIGNING_HEADERS.nonce]).not.toBe(b[SIGNING_HEADERS.nonce]);
    expect(a[SIGNING_HEADERS.signature]).not.toBe(b[SIGNING_HEADERS.signature]);
  });

  it('rejects every kind of tampering', async () => {
    const h = await signed();
    expect(await verify({ ...h, [SIGNING_HEADERS.signature]: '0'.repeat(64) })).toEqual({
      ok: false,
      reason: 'bad_signature',
    });
    expect((await verify(h, { url: '/v1/chat/completions?x=2' })).ok).toBe(false);
    expect((await verify(h, { method: 'PUT' })).ok).toBe(false);
    expect(await verify(h, { body: body.replace('héllo', 'hello') })).toEqual({
      ok: false,
      reason: 'body_mismatch',
    });
    const forgedDigest = { ...h, [SIGNING_HEADERS.contentSha256]: await sha256Hex('other') };
    expect((await verify(forgedDigest, { body: 'other' })).ok).toBe(false);
    expect(await verify({ ...h, [SIGNING_HEADERS.keyId]: 'k9' })).toEqual({
      ok: false,
      reason: 'unknown_key',
    });
    const { [SIGNING_HEADERS.nonce]: _, ...noNonce } = h;
    expect(await verify(noNonce)).toEqual({ ok: false, reason: 'missing_headers' });
    expect(await verify({ ...h, [SIGNING_HEADERS.timestamp]: 'soon' })).toEqual({
      ok: false,
      reason: 'malformed',
    });
  });

  it('accepts 60 s of clock skew either way, not more', async () => {
    const h = await signed();
    expect((await verify(h, { now: NOW + 60_000 })).ok).toBe(true);
    expect((await verify(h, { now: NOW - 60_000 })).ok).toBe(true);
    expect(await verify(h, { now: NOW + 61_000 })).toEqual({ ok: false, reason: 'stale' });
    expect(await verify(h, { now: NOW - 61_000 })).toEqual({ ok: false, reason: 'stale' });
  });

  it('verifies with any key of the ring (rotation)', async () => {
    const h = await signed({ key: { id: 'k2', secret: 'second-secret' } });
    expect(await verify(h)).toMatchObject({ ok: true, keyId: 'k2' });
    const wrongSecret = await signed({ key: { id: 'k2', secret: 'edge-origin-secret-one' } });
    expect((await verify(wrongSecret)).ok).toBe(false);
  });

  it('signs binary bodies and relative paths alike', async () => {
    const bytes = new Uint8Array([0, 1, 2, 255]);
    const h = await signRequest({ key, method: 'POST', url: '/embed', body: bytes, now: NOW });
    expect(
      (
        await verifyRequest({
          keys,
          method: 'POST',
          url: '/embed',
          headers: h,
          body: bytes,
          now: NOW,
        })
      ).ok,
    ).toBe(true);
  });
});

describe('timingSafeEqual', () => {
  it('compares contents and lengths', () => {
    expect(timingSafeEqual(new Uint8Array([1, 2]), new Uint8Array([1, 2]))).toBe(true);
    expect(timingSafeEqual(new Uint8Array([1, 2]), new Uint8Array([1, 3]))).toBe(false);
    expect(timingSafeEqual(new Uint8Array([1]), new Uint8Array([1, 0]))).toBe(false);
  });
});

describe('ReplayGuard', () => {
  it('refuses a nonce seen inside the window and forgets it afterwards', () => {
    const guard = new ReplayGuard({ skewSeconds: 60 });
    const ts = NOW / 1000;
    expect(guard.check('k1', 'n1', ts, NOW)).toBe(true);
    expect(guard.check('k1', 'n1', ts, NOW + 30_000)).toBe(false);
    expect(guard.check('k2', 'n1', ts, NOW)).toBe(true); // another key's nonce space
    expect(guard.check('k1', 'n1', ts, NOW + 62_000)).toBe(true); // the signature is stale by now
  });

  it('expires old entries and stays within its bound', () => {
    const guard = new ReplayGuard({ skewSeconds: 1, maxEntries: 3 });
    for (let i = 0; i < 5; i++) guard.check('k', `n${i}`, NOW / 1000, NOW);
    expect(guard.size).toBe(3);
    guard.check('k', 'late', NOW / 1000 + 10, NOW + 10_000);
    expect(guard.size).toBe(1);
  });
});
