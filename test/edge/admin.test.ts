import { describe, expect, it } from 'vitest';
import { ADMIN_TOKEN, createKey, scenarioGateway } from './helpers.ts';

type ErrorJson = {
  error: { message: string; type: string; code: string | null; param: string | null };
};

async function setup() {
  return (await scenarioGateway([{}], { regions: { 'eu-west': { zone: 'eu' } } })).gw;
}

const routes: [string, string, unknown?][] = [
  ['POST', '/keys', { name: 'x' }],
  ['GET', '/keys'],
  ['GET', '/keys/key_0000000000000000'],
  ['PATCH', '/keys/key_0000000000000000', { name: 'y' }],
  ['DELETE', '/keys/key_0000000000000000'],
  ['GET', '/keys/key_0000000000000000/usage'],
  ['GET', '/audit'],
];

describe('admin API', () => {
  it.each(routes)(
    '%s %s: 401 without the admin token, with a wrong one, or with a gateway key',
    async (method, path, body) => {
      const gw = await setup();
      const { key } = await createKey(gw);
      for (const authorization of [undefined, `Bearer ${ADMIN_TOKEN}x`, `Bearer ${key}`]) {
        const res = await gw.request(`/admin${path}`, {
          method,
          headers: {
            'content-type': 'application/json',
            ...(authorization ? { authorization } : {}),
          },
          ...(body ? { body: JSON.stringify(body) } : {}),
        });
        expect(res.status).toBe(401);
        expect(((await res.json()) as ErrorJson).error.code).toBe('invalid_admin_token');
      }
    },
  );

  it.each(routes.filter(([, path]) => path.includes('key_')))(
    '%s %s: 404 key_not_found for an unknown id',
    async (method, path, body) => {
      const gw = await setup();
      const res = await gw.admin(method, path, body);
      expect(res.status).toBe(404);
      expect(((await res.json()) as ErrorJson).error).toMatchObject({
        code: 'key_not_found',
        param: 'id',
      });
    },
  );

  it('creates a key (shown once), gets and lists it without the secret', async () => {
    const gw = await setup();
    const created = await gw.admin('POST', '/keys', {
      name: 'ci',
      tenant: 'acme',
      models: ['m'],
      residency: 'eu',
      limits: { requestsPerMinute: 10 },
      budget: { monthlyUsd: 5 },
    });
    expect(created.status).toBe(201);
    const record = (await created.json()) as Record<string, unknown> & { key: string; id: string };
    expect(record).toMatchObject({
      name: 'ci',
      tenant: 'acme',
      models: ['m'],
      residency: 'eu',
      limits: { requestsPerMinute: 10, tokensPerMinute: null },
      budget: { monthlyUsd: 5 },
      disabled: false,
      expiresAt: null,
      revokedAt: null,
    });
    expect(record.prefix).toBe(`${record.key.slice(0, 10)}…`);

    const got = (await (await gw.admin('GET', `/keys/${record.id}`)).json()) as Record<
      string,
      unknown
    >;
    expect(got.key).toBeUndefined();
    expect(got.name).toBe('ci');
    const list = (await (await gw.admin('GET', '/keys')).json()) as {
      data: Record<string, unknown>[];
    };
    const listed = list.data.find((k) => k.id === record.id)!;
    expect(listed).toBeDefined();
    expect(JSON.stringify(list)).not.toContain(record.key);
  });

  it('400 naming the field for a bad body on create and update', async () => {
    const gw = await setup();
    const noName = await gw.admin('POST', '/keys', { tenant: 'x' });
    expect(noName.status).toBe(400);
    expect(((await noName.json()) as ErrorJson).error.param).toBe('name');

    const unknownField = await gw.admin('POST', '/keys', { name: 'x', superuser: true });
    expect(unknownField.status).toBe(400);

    const { id } = await createKey(gw);
    const badLimit = await gw.admin('PATCH', `/keys/${id}`, { limits: { requestsPerMinute: -1 } });
    expect(badLimit.status).toBe(400);
    expect(((await badLimit.json()) as ErrorJson).error.param).toBe('limits.requestsPerMinute');
    const empty = await gw.admin('PATCH', `/keys/${id}`, {});
    expect(empty.status).toBe(400);
    const notJson = await gw.request(`/admin/keys/${id}`, {
      method: 'PATCH',
      headers: { authorization: `Bearer ${ADMIN_TOKEN}` },
      body: '{nope',
    });
    expect(notJson.status).toBe(400);
    expect(((await notJson.json()) as ErrorJson).error.code).toBe('invalid_json');
  });

  it('updates only the given fields, revokes, and audits every change with its actor', async () => {
    const gw = await setup();
    const { id } = await createKey(gw, { limits: { requestsPerMinute: 5, tokensPerMinute: 1000 } });
    const patched = await gw.admin('PATCH', `/keys/${id}`, {
      limits: { requestsPerMinute: 7 },
      name: 'renamed',
    });
    expect(patched.status).toBe(200);
    expect(await patched.json()).toMatchObject({
      name: 'renamed',
      limits: { requestsPerMinute: 7, tokensPerMinute: 1000 },
    });
    const revoked = (await (await gw.admin('DELETE', `/keys/${id}`)).json()) as {
      disabled: boolean;
      revokedAt: string;
    };
    expect(revoked.disabled).toBe(true);
    expect(Date.parse(revoked.revokedAt)).not.toBeNaN();

    const audit = (await (await gw.admin('GET', '/audit?limit=50')).json()) as {
      data: { actor: string; action: string; keyId: string; at: string }[];
    };
    const mine = audit.data.filter((e) => e.keyId === id);
    expect(mine.map((e) => e.action)).toEqual(['key.revoke', 'key.update', 'key.create']);
    expect(mine.every((e) => e.actor === 'tester' && !Number.isNaN(Date.parse(e.at)))).toBe(true);
  });
});
