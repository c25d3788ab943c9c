/**
 * The shared signing code in Node, with the origin's synchronous node:crypto primitives: they
 * must agree with Web Crypto byte for byte (the edge signs with Web Crypto in workerd).
 */
import { describe, expect, it } from 'vitest';
import { nodeCrypto } from '../../origin/src/node-crypto.ts';
import {
  parseSigningKeys,
  SIGNING_HEADERS,
  signRequest,
  verifyRequest,
  webCrypto,
} from '../../src/signing/index.ts';

const key = { id: 'edge-1', secret: 'a-secret-long-enough-0123' };
const keys = parseSigningKeys(`${key.id}:${key.secret}`);

describe('node:crypto primitives for the origin', () => {
  it('agree with Web Crypto', async () => {
    const small = new TextEncoder().encode('{"model":"m"}');
    const large = new Uint8Array(1024 * 1024 + 7).fill(120); // above the sync limit
    for (const body of [small, large]) {
      expect(await nodeCrypto.sha256Hex(body)).toBe(await webCrypto.sha256Hex(body));
    }
    expect(nodeCrypto.hmacSha256Hex(key.secret, 'canonical\nstring')).toBe(
      await webCrypto.hmacSha256Hex(key.secret, 'canonical\nstring'),
    );
  });

  it('verify a Web Crypto signature and refuse a tampered one', async () => {
    const body = JSON.stringify({ model: 'm', messages: [{ role: 'user', content: 'hi' }] });
    const headers = await signRequest({ key, method: 'POST', url: '/v1/chat/completions', body });
    const verify = (h: Record<string, string>, b = body) =>
      verifyRequest({
        keys,
        method: 'POST',
        url: '/v1/chat/completions',
        headers: h,
        body: new TextEncoder().encode(b),
        crypto: nodeCrypto,
      });
    expect(await verify(headers)).toMatchObject({ ok: true, keyId: 'edge-1' });
    expect(await verify(headers, body.replace('hi', 'ho'))).toEqual({
      ok: false,
      reason: 'body_mismatch',
    });
    const forged = { ...headers, [SIGNING_HEADERS.signature]: 'ab'.repeat(32) };
    expect(await verify(forged)).toEqual({ ok: false, reason: 'bad_signature' });
  });
});
