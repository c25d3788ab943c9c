/**
 * The signing primitives on node:crypto, synchronous: verifying a request then costs tens of
 * microseconds on the event loop instead of two Web Crypto round trips to the thread pool
 * (which, on a busy machine, were most of the router's added latency). Bodies above 1 MiB
 * are hashed with Web Crypto so a large embeddings batch does not block the loop.
 */
import { createHash, createHmac } from 'node:crypto';
import { type SigningCrypto, webCrypto } from '../../src/signing/index.ts';

const SYNC_LIMIT = 1024 * 1024;

export const nodeCrypto: SigningCrypto = {
  sha256Hex: (body) =>
    body.length <= SYNC_LIMIT
      ? createHash('sha256').update(body).digest('hex')
      : webCrypto.sha256Hex(body),
  hmacSha256Hex: (secret, message) => createHmac('sha256', secret).update(message).digest('hex'),
};
