import { Hono } from 'hono';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { errors, GatewayError } from '../../../src/errors.ts';
import { parseRequestFilters } from '../../../src/usage-store/filters.ts';
import { routeFetchTo } from '../test/gateway.ts';
import { ApiError, api, describeError, query, whenUnauthorized } from './client.ts';

afterEach(() => {
  vi.unstubAllGlobals();
  whenUnauthorized(undefined);
});

function gateway() {
  const app = new Hono();
  app.get('/admin/requests', (c) => c.json({ filters: parseRequestFilters(c.req.query()) }));
  app.get('/admin/keys', () => {
    throw errors.adminUnauthorized();
  });
  app.get('/admin/usage', () => {
    throw new GatewayError(503, 'The request log needs the usage database (binding USAGE_DB).', {
      code: 'request_log_unavailable',
    });
  });
  app.get('/broken', (c) => c.text('<html>bad gateway</html>', 502));
  app.post('/echo', async (c) => c.json(await c.req.json()));
  app.delete('/gone', (c) => c.body(null, 204));
  return app;
}

describe('api', () => {
  it('sends same-origin JSON with the session cookie and parses the answer', async () => {
    const seen = routeFetchTo(gateway());
    expect(await api('/echo', { method: 'POST', body: { a: 1 } })).toEqual({ a: 1 });
    expect(seen[0]!.credentials).toBe('same-origin');
    expect(seen[0]!.headers.get('content-type')).toBe('application/json');
    expect(await api('/gone', { method: 'DELETE' })).toBeUndefined();
  });

  it("turns the gateway's error body into an ApiError with its status, code and param", async () => {
    routeFetchTo(gateway());
    const err = await api('/admin/requests?cursor=not-a-cursor').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ApiError);
    expect(err).toMatchObject({ status: 400, code: 'invalid_cursor', param: 'cursor' });
    expect((err as ApiError).message).toContain('Malformed cursor');
    const unknown = await api('/admin/requests?colour=red').catch((e: ApiError) => e);
    expect(unknown).toMatchObject({ status: 400, code: 'unknown_filter', param: 'colour' });
  });

  it('reports a 401 as the end of the session, except when asked not to', async () => {
    routeFetchTo(gateway());
    const ended = vi.fn();
    whenUnauthorized(ended);
    await expect(api('/admin/keys', { quiet401: true })).rejects.toMatchObject({ status: 401 });
    expect(ended).not.toHaveBeenCalled();
    await expect(api('/admin/keys')).rejects.toMatchObject({ code: 'invalid_admin_token' });
    expect(ended).toHaveBeenCalledTimes(1);
  });

  it('says what to do: an unconfigured usage store, a non-JSON failure, no gateway at all', async () => {
    routeFetchTo(gateway());
    const store = await api('/admin/usage').catch((e: unknown) => e);
    expect(describeError(store)).toContain('usage store');
    expect(describeError(store)).toContain('not configured');
    const html = await api('/broken').catch((e: ApiError) => e);
    expect(html).toMatchObject({ status: 502, code: null });
    expect(describeError(html)).toMatch(/^The gateway answered 502/);
    vi.stubGlobal('fetch', () => Promise.reject(new TypeError('Failed to fetch')));
    const down = await api('/admin/keys').catch((e: ApiError) => e);
    expect(down).toMatchObject({ status: 0, code: 'network' });
    expect(describeError(down)).toContain('Check that the gateway is running');
  });
});

describe('query', () => {
  it('keeps only the set values, encoded', () => {
    expect(query({ model: 'gpt-4o mini', tenant: '', key: undefined, limit: 25 })).toBe(
      '?model=gpt-4o+mini&limit=25',
    );
    expect(query({ a: '' })).toBe('');
  });
});
