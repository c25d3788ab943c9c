/**
 * The `origin` provider kind in workerd: requests to a region's origin are signed with
 * src/signing (checked here with the origin's own verifier), carry the request id, trace
 * context, tenant and priority, and stream back through the normal relay.
 */
import { describe, expect, it } from 'vitest';
import { SIGNING_HEADERS, verifyRequest } from '../../src/signing/index.ts';
import {
  createKey,
  gateway,
  hello,
  type RecordedRequest,
  type Scenario,
  scenario,
  sseData,
} from './helpers.ts';

const SECRET = 'origin-signing-secret-0123456789';
const KEYS = new Map([['edge-2026', SECRET]]);
const TRACEPARENT = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';

const originAt = (s: Scenario, overrides: Record<string, unknown> = {}) => ({
  kind: 'origin',
  baseUrl: `${s.baseUrl}/v1`,
  keyId: 'edge-2026',
  signingKey: SECRET,
  ...overrides,
});

/** Verifies a recorded request as the origin would (the fake re-serialises the JSON body). */
function verifyRecorded(req: RecordedRequest, keys = KEYS) {
  const query = new URLSearchParams(req.query).toString();
  return verifyRequest({
    keys,
    method: req.method,
    url: `${req.path}${query ? `?${query}` : ''}`,
    headers: req.headers,
    body: JSON.stringify(req.body),
  });
}

describe('origin provider', () => {
  it('signs the request, forwards request id and trace context, and streams back', async () => {
    const s = await scenario({ content: 'served by the origin', requireAuth: false });
    const gw = gateway({
      providers: { 'origin-eu': originAt(s) },
      models: { llama: { targets: [{ provider: 'origin-eu', model: 'meta-llama/Llama-3.1-8B' }] } },
    });
    const res = await gw.chat(
      { ...hello, model: 'llama', stream: true },
      { traceparent: TRACEPARENT, 'x-gateway-priority': 'HIGH' },
    );
    expect(res.status).toBe(200);
    expect(res.headers.get('x-gateway-provider')).toBe('origin-eu');
    const data = await sseData(res);
    expect(data.at(-1)).toBe('[DONE]');
    const text = data
      .slice(0, -1)
      .map((d) => (JSON.parse(d) as { choices: { delta?: { content?: string } }[] }).choices)
      .map((c) => c[0]?.delta?.content ?? '')
      .join('');
    expect(text).toBe('served by the origin');

    const [req] = await s.requests();
    expect(req!.path.endsWith('/v1/chat/completions')).toBe(true);
    expect(req!.headers.authorization).toBeUndefined();
    expect(await verifyRecorded(req!)).toMatchObject({ ok: true, keyId: 'edge-2026' });
    expect(req!.headers['x-request-id']).toBe(res.headers.get('x-request-id'));
    expect(req!.headers.traceparent).toBe(TRACEPARENT);
    expect(req!.headers['x-gateway-priority']).toBe('high');
    expect(req!.body).toMatchObject({
      model: 'meta-llama/Llama-3.1-8B',
      stream_options: { include_usage: true },
    });
    // Another key ring (a rotated-out key) does not accept it.
    expect((await verifyRecorded(req!, new Map([['edge-2026', 'another-secret-0000']]))).ok).toBe(
      false,
    );
  });

  it('signs every retry afresh (a new nonce), so the origin replay guard lets retries in', async () => {
    const s = await scenario(
      { status: 503, requireAuth: false },
      { content: 'second try', requireAuth: false },
    );
    const gw = gateway({
      providers: { o: originAt(s) },
      models: { m: { targets: [{ provider: 'o', model: 'up' }] } },
    });
    const res = await gw.chat(hello);
    expect(res.status).toBe(200);
    const [first, second] = await s.requests();
    expect((await verifyRecorded(first!)).ok).toBe(true);
    expect((await verifyRecorded(second!)).ok).toBe(true);
    expect(first!.headers[SIGNING_HEADERS.nonce]).not.toBe(second!.headers[SIGNING_HEADERS.nonce]);
    // Unknown priorities and malformed trace context are not forwarded.
    const bad = await gw.chat(hello, { 'x-gateway-priority': 'urgent!', traceparent: 'nope' });
    expect(bad.status).toBe(200);
    const third = (await s.requests())[2]!;
    expect(third.headers['x-gateway-priority']).toBeUndefined();
    expect(third.headers.traceparent).toBeUndefined();
  });

  it("fails over to the next region's origin when one sheds load with retry-after", async () => {
    const busy = await scenario({
      status: 503,
      headers: { 'retry-after': '30' },
      requireAuth: false,
    });
    const ok = await scenario({ content: 'from the other region', requireAuth: false });
    const gw = gateway({
      providers: { 'origin-a': originAt(busy), 'origin-b': originAt(ok) },
      models: {
        m: {
          targets: [
            { provider: 'origin-a', model: 'up' },
            { provider: 'origin-b', model: 'up' },
          ],
        },
      },
    });
    const res = await gw.chat(hello);
    expect(res.status).toBe(200);
    expect(res.headers.get('x-gateway-provider')).toBe('origin-b');
    expect(await busy.requests()).toHaveLength(1); // retry-after 30 s: no second try there
  });

  it('forwards the authenticated key tenant, percent-encoded', async () => {
    const s = await scenario({ content: 'hi', requireAuth: false });
    const gw = gateway({
      auth: { enabled: true },
      providers: { o: originAt(s) },
      models: { m: { targets: [{ provider: 'o', model: 'up' }] } },
    });
    const { headers } = await createKey(gw, { tenant: 'acme corp/eu' });
    const res = await gw.chat(hello, headers);
    expect(res.status).toBe(200);
    const [req] = await s.requests();
    expect(req!.headers['x-gateway-tenant']).toBe('acme%20corp%2Feu');
    expect((await verifyRecorded(req!)).ok).toBe(true);
  });

  it('rejects a config with a short signing key, naming the field', () => {
    expect(() =>
      gateway({
        providers: {
          o: { kind: 'origin', baseUrl: 'https://o.test/v1', keyId: 'k', signingKey: 'x' },
        },
        models: { m: { targets: [{ provider: 'o', model: 'up' }] } },
      }),
    ).toThrow(/signingKey/);
  });
});
