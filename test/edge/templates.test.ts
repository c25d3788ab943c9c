/**
 * Prompt templates (src/templates) over the real Redis (redis-server behind the Upstash
 * bridge) and the fake upstreams: the admin API (immutable versions, production pointer,
 * audit, 400s), rendering into chat completions and the Responses API, missing variables,
 * tenant isolation, /v1/messages, a failing Redis, and the template in the log line, the
 * usage event and a header.
 */
import Anthropic from '@anthropic-ai/sdk';
import OpenAI from 'openai';
import { describe, expect, it } from 'vitest';
import type { EventQueue, UsageEvent } from '../../src/events/index.ts';
import {
  ADMIN_TOKEN,
  breakableRedis,
  createKey,
  eventually,
  gateway,
  openaiAt,
  REDIS,
  scenario,
  type TestGateway,
  UPSTREAM_KEY,
} from './helpers.ts';
import { fakeScenario } from './providers-fakes.ts';

type ErrorJson = {
  error: { message: string; type: string; code: string | null; param: string | null };
};

const uniqueId = () => `tpl-${crypto.randomUUID()}`;

async function setup(kind: 'openai' | 'openai-compatible' = 'openai') {
  const s = await scenario({ content: 'templated answer' }, { content: 'second answer' });
  const provider =
    kind === 'openai'
      ? openaiAt(s)
      : { kind: 'openai-compatible', baseUrl: `${s.baseUrl}/v1`, apiKey: UPSTREAM_KEY };
  const sent: UsageEvent[] = [];
  const queue: EventQueue = {
    sendBatch: async (messages) => {
      sent.push(...[...messages].map((m) => m.body));
    },
  };
  const gw = gateway(
    {
      auth: { enabled: true },
      cache: { enabled: false },
      events: { flushMs: 5 },
      providers: { up: provider },
      models: { m: { targets: [{ provider: 'up', model: 'up-model' }] } },
    },
    { events: queue },
  );
  return { s, gw, events: sent };
}

const greeting = {
  messages: [
    { role: 'system', content: 'You help {{company}} customers. Tone: {{tone}}.' },
    { role: 'user', content: 'My name is {{name}}.{{#topics}} Topic: {{.}}.{{/topics}}' },
  ],
  variables: [
    { name: 'company' },
    { name: 'name' },
    { name: 'tone', required: false },
    { name: 'topics', required: false },
  ],
};

async function createTemplate(
  gw: TestGateway,
  body: Record<string, unknown>,
): Promise<Record<string, unknown> & { id: string }> {
  const res = await gw.admin('POST', '/templates', body);
  if (res.status !== 201)
    throw new Error(`cannot create template: ${res.status} ${await res.text()}`);
  return (await res.json()) as Record<string, unknown> & { id: string };
}

function chatWith(prompt: unknown, extra: Record<string, unknown> = {}) {
  return { model: 'm', prompt, ...extra };
}

describe('prompt template admin API', () => {
  it('creates version 1 as production, lists by tenant, and gets one with its versions', async () => {
    const { gw } = await setup();
    const id = uniqueId();
    const tenant = `t-${crypto.randomUUID()}`;
    const created = await createTemplate(gw, {
      id,
      tenant,
      description: 'support',
      version: greeting,
    });
    expect(created).toMatchObject({ id, tenant, production: 1, latest: 1, createdBy: 'tester' });
    expect(created.versions).toEqual([
      expect.objectContaining({ version: 1, messages: greeting.messages, createdBy: 'tester' }),
    ]);
    const other = await createTemplate(gw, { tenant: `${tenant}-other`, version: greeting });
    expect(other.id).toMatch(/^pmpt_[0-9a-f]{32}$/);

    const listed = (await (await gw.admin('GET', `/templates?tenant=${tenant}`)).json()) as {
      data: { id: string }[];
    };
    expect(listed.data.map((t) => t.id)).toEqual([id]);
    const got = (await (await gw.admin('GET', `/templates/${id}`)).json()) as {
      versions: { version: number }[];
      uid?: string;
    };
    expect(got.versions.map((v) => v.version)).toEqual([1]);
    expect(got.uid).toBeUndefined();
  });

  it('versions are immutable and numbered 1..n, also when added concurrently', async () => {
    const { gw } = await setup();
    const { id } = await createTemplate(gw, { version: greeting });
    const added = await Promise.all(
      [1, 2, 3, 4, 5].map((i) =>
        gw.admin('POST', `/templates/${id}/versions`, {
          messages: [{ role: 'user', content: `variant ${i}` }],
        }),
      ),
    );
    const numbers = await Promise.all(
      added.map(async (r) => {
        expect(r.status).toBe(201);
        return ((await r.json()) as { version: number }).version;
      }),
    );
    expect(numbers.sort()).toEqual([2, 3, 4, 5, 6]);
    const v1 = (await (await gw.admin('GET', `/templates/${id}/versions/1`)).json()) as {
      messages: unknown;
    };
    expect(v1.messages).toEqual(greeting.messages);
    // No route changes a version.
    for (const method of ['PUT', 'PATCH', 'DELETE']) {
      const res = await gw.admin(method, `/templates/${id}/versions/1`, { messages: [] });
      expect(res.status).toBe(405);
    }
    const record = (await (await gw.admin('GET', `/templates/${id}`)).json()) as {
      latest: number;
      production: number;
      versions: { version: number }[];
    };
    expect(record).toMatchObject({ latest: 6, production: 1 });
    expect(record.versions.map((v) => v.version)).toEqual([1, 2, 3, 4, 5, 6]);
  });

  it('audits create, new version, production and delete with the actor, without the text', async () => {
    const { gw } = await setup();
    const { id } = await createTemplate(gw, { version: greeting });
    await gw.admin('POST', `/templates/${id}/versions`, greeting);
    await gw.admin('PUT', `/templates/${id}/production`, { version: 2 });
    expect((await gw.admin('DELETE', `/templates/${id}`)).status).toBe(200);
    const audit = (await (await gw.admin('GET', '/audit?limit=1000')).json()) as {
      data: { action: string; actor: string; templateId?: string; changes?: unknown }[];
    };
    const mine = audit.data.filter((e) => e.templateId === id).reverse();
    expect(mine.map((e) => [e.action, e.actor])).toEqual([
      ['template.create', 'tester'],
      ['template.version', 'tester'],
      ['template.production', 'tester'],
      ['template.delete', 'tester'],
    ]);
    expect(mine[0]!.changes).toMatchObject({
      version: 1,
      variables: ['company', 'name', 'tone', 'topics'],
    });
    expect(mine[2]!.changes).toEqual({ from: 1, to: 2 });
    expect(JSON.stringify(mine)).not.toContain('customers');
    expect((await gw.admin('GET', `/templates/${id}`)).status).toBe(404);
  });

  it('400 naming the field for bad templates and bodies; 404 and 409 where they belong', async () => {
    const { gw } = await setup();
    const cases: [unknown, string][] = [
      [{}, 'version'],
      [{ version: { messages: [] } }, 'version.messages'],
      [
        { version: { messages: [{ role: 'user', content: 'Hi {{who}}' }] } },
        'version.messages[0].content',
      ],
      [
        {
          version: {
            messages: [{ role: 'user', content: '{{> header}}' }],
            variables: [{ name: 'header' }],
          },
        },
        'version.messages[0].content',
      ],
      [
        {
          version: {
            messages: [{ role: 'user', content: 'Hi {{#who}}' }],
            variables: [{ name: 'who' }],
          },
        },
        'version.messages[0].content',
      ],
      [{ version: { instructions: 'Be {{constructor}}', messages: [] } }, 'version.instructions'],
      [
        { version: { ...greeting, variables: [{ name: 'a' }, { name: 'a' }] } },
        'version.variables',
      ],
      [{ version: { ...greeting, variables: [{ name: 'a.b' }] } }, 'version.variables[0].name'],
      [{ id: 'has spaces', version: greeting }, 'id'],
      [{ version: greeting, owner: 'x' }, ''],
      [{ version: { messages: [{ role: 'tool', content: 'x' }] } }, 'version.messages[0].role'],
    ];
    for (const [body, param] of cases) {
      const res = await gw.admin('POST', '/templates', body);
      expect(res.status, JSON.stringify(body)).toBe(400);
      const { error } = (await res.json()) as ErrorJson;
      expect(error.type).toBe('invalid_request_error');
      if (param) expect(error.param, JSON.stringify(body)).toBe(param);
    }

    const { id } = await createTemplate(gw, { id: uniqueId(), version: greeting });
    const again = await gw.admin('POST', '/templates', { id, version: greeting });
    expect(again.status).toBe(409);
    expect(((await again.json()) as ErrorJson).error.code).toBe('template_exists');

    const badVersion = await gw.admin('POST', `/templates/${id}/versions`, {
      messages: [{ role: 'user', content: '{{undeclared}}' }],
    });
    expect(badVersion.status).toBe(400);
    expect(((await badVersion.json()) as ErrorJson).error.param).toBe('messages[0].content');

    const noVersion = await gw.admin('PUT', `/templates/${id}/production`, { version: 2 });
    expect(noVersion.status).toBe(404);
    expect(((await noVersion.json()) as ErrorJson).error).toMatchObject({
      code: 'template_not_found',
      param: 'version',
    });
    expect((await gw.admin('PUT', `/templates/${id}/production`, { version: 'x' })).status).toBe(
      400,
    );
    expect((await gw.admin('GET', `/templates/${id}/versions/abc`)).status).toBe(400);
    expect((await gw.admin('GET', `/templates/${id}/versions/9`)).status).toBe(404);
    for (const [method, path, body] of [
      ['GET', '/templates/nope-unknown'],
      ['DELETE', '/templates/nope-unknown'],
      ['POST', '/templates/nope-unknown/versions', greeting],
      ['PUT', '/templates/nope-unknown/production', { version: 1 }],
    ] as [string, string, unknown?][]) {
      const res = await gw.admin(method, path, body);
      expect(res.status, `${method} ${path}`).toBe(404);
      expect(((await res.json()) as ErrorJson).error.code).toBe('template_not_found');
    }
    const noToken = await gw.request('/admin/templates', { method: 'GET' });
    expect(noToken.status).toBe(401);
  });
});

describe('prompt: {id, version?, variables} on chat completions', () => {
  it('renders the template (no HTML escaping) before the request’s own messages', async () => {
    const { s, gw } = await setup();
    const { key, headers } = await createKey(gw);
    expect(key).toBeTruthy();
    const { id } = await createTemplate(gw, { version: greeting });
    const res = await gw.chat(
      chatWith(
        {
          id,
          variables: {
            company: 'A&B <Corp>',
            name: 'O\'Neil "Jo"',
            topics: ['billing', 'refunds'],
          },
        },
        { messages: [{ role: 'user', content: 'Where is my invoice?' }] },
      ),
      headers,
    );
    expect(res.status).toBe(200);
    expect(res.headers.get('x-gateway-template')).toBe(`${id}@1`);
    const [seen] = await s.requests();
    expect(seen!.body!.prompt).toBeUndefined();
    expect(seen!.body!.messages).toEqual([
      { role: 'system', content: 'You help A&B <Corp> customers. Tone: .' },
      { role: 'user', content: 'My name is O\'Neil "Jo". Topic: billing. Topic: refunds.' },
      { role: 'user', content: 'Where is my invoice?' },
    ]);
  });

  it('instructions become a system message; `messages` may be left out', async () => {
    const { s, gw } = await setup();
    const { headers } = await createKey(gw);
    const { id } = await createTemplate(gw, {
      version: {
        instructions: 'Answer in {{lang}}.',
        messages: [{ role: 'user', content: 'Summarize: {{text}}' }],
        variables: [{ name: 'lang' }, { name: 'text' }],
      },
    });
    const res = await gw.chat(
      chatWith({ id, variables: { lang: 'French', text: 'hello' } }),
      headers,
    );
    expect(res.status).toBe(200);
    const [seen] = await s.requests();
    expect(seen!.body!.messages).toEqual([
      { role: 'system', content: 'Answer in French.' },
      { role: 'user', content: 'Summarize: hello' },
    ]);
  });

  it('missing variables: 400 naming every one of them, nothing sent upstream', async () => {
    const { s, gw } = await setup();
    const { headers } = await createKey(gw);
    const { id } = await createTemplate(gw, {
      version: {
        messages: [{ role: 'user', content: '{{a}} {{b}} {{c}}' }],
        variables: [{ name: 'a' }, { name: 'b' }, { name: 'c' }],
      },
    });
    const res = await gw.chat(chatWith({ id, variables: { b: 'given' } }), headers);
    expect(res.status).toBe(400);
    const { error } = (await res.json()) as ErrorJson;
    expect(error).toMatchObject({ code: 'missing_template_variables', param: 'prompt.variables' });
    expect(error.message).toContain("'a'");
    expect(error.message).toContain("'c'");
    expect(error.message).not.toContain("'b'");
    expect(await s.requests()).toEqual([]);
  });

  it('400 without messages or prompt, and for a malformed prompt', async () => {
    const { gw } = await setup();
    const { headers } = await createKey(gw);
    for (const [body, param] of [
      [{ model: 'm' }, 'messages'],
      [chatWith({ variables: {} }), 'prompt.id'],
      [chatWith({ id: 'x', version: 0 }), 'prompt.version'],
      [chatWith({ id: 'x', variables: { a: { nested: true } } }), 'prompt.variables.a'],
      [chatWith({ id: 'x', extra: 1 }), 'prompt'],
    ] as [Record<string, unknown>, string][]) {
      const res = await gw.chat(body, headers);
      expect(res.status, JSON.stringify(body)).toBe(400);
      expect(((await res.json()) as ErrorJson).error.param, JSON.stringify(body)).toBe(param);
    }
  });

  it('tenant isolation both ways: another tenant’s template is a 404; global ones serve all', async () => {
    const { s, gw } = await setup();
    const a = await createKey(gw, { tenant: `a-${crypto.randomUUID()}` });
    const b = await createKey(gw, { tenant: `b-${crypto.randomUUID()}` });
    const aKey = (await (await gw.admin('GET', `/keys/${a.id}`)).json()) as { tenant: string };
    const bKey = (await (await gw.admin('GET', `/keys/${b.id}`)).json()) as { tenant: string };
    const simple = {
      messages: [{ role: 'user', content: 'hello from {{who}}' }],
      variables: [{ name: 'who' }],
    };
    const ofA = await createTemplate(gw, { tenant: aKey.tenant, version: simple });
    const ofB = await createTemplate(gw, { tenant: bKey.tenant, version: simple });
    const global = await createTemplate(gw, { version: simple });
    const ask = (id: string, key: { headers: Record<string, string> }) =>
      gw.chat(chatWith({ id, variables: { who: 'x' } }), key.headers);

    for (const [id, key] of [
      [ofA.id, b],
      [ofB.id, a],
    ] as const) {
      const res = await ask(id, key);
      expect(res.status).toBe(404);
      expect(((await res.json()) as ErrorJson).error).toMatchObject({
        code: 'template_not_found',
        param: 'prompt.id',
        message: `Prompt template '${id}' not found.`,
      });
    }
    expect(await s.requests()).toEqual([]);
    expect((await ask(ofA.id, a)).status).toBe(200);
    expect((await ask(global.id, b)).status).toBe(200);
    const unknown = await ask('no-such-template', a);
    expect(unknown.status).toBe(404);
  });

  it('without auth (no key, no tenant) only global templates render', async () => {
    const s = await scenario({ content: 'a' }, { content: 'b' });
    const gw = gateway({
      redis: REDIS,
      admin: { tokens: { tester: ADMIN_TOKEN } },
      providers: { up: openaiAt(s) },
      models: { m: { targets: [{ provider: 'up', model: 'up-model' }] } },
    });
    const simple = { messages: [{ role: 'user', content: 'hello' }] };
    const global = await createTemplate(gw, { version: simple });
    const tenants = await createTemplate(gw, { tenant: 'default', version: simple });
    expect((await gw.chat(chatWith({ id: global.id }))).status).toBe(200);
    const res = await gw.chat(chatWith({ id: tenants.id }));
    expect(res.status).toBe(404);
    expect(((await res.json()) as ErrorJson).error.code).toBe('template_not_found');
    expect(await s.requests()).toHaveLength(1);
  });

  it('a rendered prompt over the body limit is a 413, nothing sent upstream', async () => {
    const s = await scenario({ content: 'a' });
    const gw = gateway({
      auth: { enabled: true },
      defaults: { maxBodyBytes: 4_096 },
      providers: { up: openaiAt(s) },
      models: { m: { targets: [{ provider: 'up', model: 'up-model' }] } },
    });
    const { headers } = await createKey(gw);
    const { id } = await createTemplate(gw, {
      version: {
        messages: [{ role: 'user', content: `{{#items}}${'x'.repeat(100)} {{.}}\n{{/items}}` }],
        variables: [{ name: 'items' }],
      },
    });
    const items = (n: number) => Array.from({ length: n }, (_, i) => i);
    expect((await gw.chat(chatWith({ id, variables: { items: items(10) } }), headers)).status).toBe(
      200,
    );
    const res = await gw.chat(chatWith({ id, variables: { items: items(100) } }), headers);
    expect(res.status).toBe(413);
    expect(((await res.json()) as ErrorJson).error.code).toBe('request_too_large');
    expect(await s.requests()).toHaveLength(1);
  });

  it('the production pointer moves what `prompt: {id}` renders; a named version stays', async () => {
    const { s, gw } = await setup();
    const { headers } = await createKey(gw);
    const { id } = await createTemplate(gw, {
      version: { messages: [{ role: 'user', content: 'version one' }] },
    });
    await gw.admin('POST', `/templates/${id}/versions`, {
      messages: [{ role: 'user', content: 'version two' }],
    });
    const content = async (prompt: unknown) => {
      const res = await gw.chat(chatWith(prompt), headers);
      expect(res.status).toBe(200);
      const all = await s.requests();
      return [
        res.headers.get('x-gateway-template'),
        (all.at(-1)!.body!.messages as { content: string }[])[0]!.content,
      ];
    };
    expect(await content({ id })).toEqual([`${id}@1`, 'version one']);
    const moved = await gw.admin('PUT', `/templates/${id}/production`, { version: 2 });
    expect(moved.status).toBe(200);
    expect(((await moved.json()) as { production: number }).production).toBe(2);
    expect(await content({ id })).toEqual([`${id}@2`, 'version two']);
    expect(await content({ id, version: 1 })).toEqual([`${id}@1`, 'version one']);

    const missing = await gw.chat(chatWith({ id, version: 3 }), headers);
    expect(missing.status).toBe(404);
    expect(((await missing.json()) as ErrorJson).error).toMatchObject({
      code: 'template_not_found',
      param: 'prompt.version',
    });
  });

  it('a template deleted and created again under its id renders the new one', async () => {
    const { s, gw } = await setup();
    const { headers } = await createKey(gw);
    const id = uniqueId();
    await createTemplate(gw, {
      id,
      version: { messages: [{ role: 'user', content: 'old text' }] },
    });
    expect((await gw.chat(chatWith({ id }), headers)).status).toBe(200);
    await gw.admin('DELETE', `/templates/${id}`);
    const gone = await gw.chat(chatWith({ id }), headers);
    expect(gone.status).toBe(404);
    await createTemplate(gw, {
      id,
      version: { messages: [{ role: 'user', content: 'new text' }] },
    });
    expect((await gw.chat(chatWith({ id }), headers)).status).toBe(200);
    const all = await s.requests();
    expect(all.map((r) => (r.body!.messages as { content: string }[])[0]!.content)).toEqual([
      'old text',
      'new text',
    ]);
  });

  it('the template and version are in the log line and the usage event', async () => {
    const { gw, events } = await setup();
    const { headers } = await createKey(gw);
    const { id } = await createTemplate(gw, { version: greeting });
    const res = await gw.chat(chatWith({ id, variables: { company: 'c', name: 'n' } }), headers);
    expect(res.status).toBe(200);
    const line = gw.logs.find((l) => l.path === '/v1/chat/completions')!;
    expect(line.template).toEqual({ id, version: 1 });
    expect(JSON.stringify(gw.logs)).not.toContain('customers');
    await eventually(() => {
      const event = events.find((e) => e.endpoint === '/v1/chat/completions');
      expect(event).toMatchObject({ template_id: id, template_version: 1 });
    });
    // A request without a template has none.
    await gw.chat({ model: 'm', messages: [{ role: 'user', content: 'hi' }] }, headers);
    await eventually(() => {
      expect(events.filter((e) => e.endpoint === '/v1/chat/completions')).toHaveLength(2);
    });
    expect(events.at(-1)).toMatchObject({ template_id: null, template_version: null });
  });
});

describe('the Responses API `prompt` parameter', () => {
  function client(gw: TestGateway, apiKey: string) {
    return new OpenAI({
      apiKey,
      baseURL: 'http://gateway.test/v1',
      maxRetries: 0,
      fetch: (url, init) => gw.request(String(url).replace('http://gateway.test', ''), init),
    });
  }

  const support = {
    instructions: 'You are the {{company}} assistant.',
    messages: [{ role: 'developer', content: 'Customer tier: {{tier}}.' }],
    variables: [{ name: 'company' }, { name: 'tier' }],
  };

  it('an OpenAI target gets the rendered input and instructions, never the prompt', async () => {
    const { s, gw } = await setup('openai');
    const { key } = await createKey(gw);
    const { id } = await createTemplate(gw, { version: support });
    const { data, response } = await client(gw, key)
      .responses.create({
        model: 'm',
        prompt: {
          id,
          version: '1',
          variables: { company: 'Acme', tier: { type: 'input_text', text: 'gold' } },
        },
        input: 'Reset my password',
        instructions: 'Be brief.',
      })
      .withResponse();
    expect(data.output_text).toBe('templated answer');
    expect(response.headers.get('x-gateway-template')).toBe(`${id}@1`);
    const [seen] = await s.requests();
    expect(seen!.path).toBe(`/s/${s.id}/v1/responses`);
    expect(seen!.body).toEqual({
      model: 'up-model',
      instructions: 'You are the Acme assistant.\n\nBe brief.',
      input: [
        { role: 'developer', content: 'Customer tier: gold.' },
        { role: 'user', content: 'Reset my password' },
      ],
    });
  });

  it('a translated target gets the rendered chat messages; input may be left out', async () => {
    const { s, gw } = await setup('openai-compatible');
    const { key } = await createKey(gw);
    const { id } = await createTemplate(gw, { version: support });
    const data = await client(gw, key).responses.create({
      model: 'm',
      prompt: { id, variables: { company: 'Acme', tier: 'silver' } },
    });
    expect(data.output_text).toBe('templated answer');
    const [seen] = await s.requests();
    expect(seen!.body!.messages).toEqual([
      { role: 'system', content: 'You are the Acme assistant.' },
      { role: 'developer', content: 'Customer tier: silver.' },
    ]);
  });

  it('missing variables and unknown templates are OpenAI-shaped errors', async () => {
    const { s, gw } = await setup('openai');
    const { key } = await createKey(gw);
    const { id } = await createTemplate(gw, { version: support });
    const missing = client(gw, key).responses.create({
      model: 'm',
      prompt: { id, variables: {} },
      input: 'x',
    });
    await expect(missing).rejects.toMatchObject({
      status: 400,
      code: 'missing_template_variables',
      param: 'prompt.variables',
    });
    await expect(missing).rejects.toThrow(/'company', 'tier'/);
    await expect(
      client(gw, key).responses.create({
        model: 'm',
        prompt: { id: 'unknown-template' },
        input: 'x',
      }),
    ).rejects.toMatchObject({ status: 404, code: 'template_not_found' });
    expect(await s.requests()).toEqual([]);
  });
});

describe('prompt templates on /v1/messages (Anthropic shape)', () => {
  it('the template’s system text goes before the request’s system, its messages first', async () => {
    const s = await fakeScenario('anthropic', { content: 'anthropic answer' });
    const gw = gateway({
      auth: { enabled: true },
      cache: { enabled: false },
      providers: { a: { kind: 'anthropic', baseUrl: `${s.baseUrl}/v1`, apiKey: UPSTREAM_KEY } },
      models: { m: { targets: [{ provider: 'a', model: 'claude-up' }] } },
    });
    const { key } = await createKey(gw);
    const { id } = await createTemplate(gw, {
      version: {
        instructions: 'You work for {{company}}.',
        messages: [
          { role: 'system', content: 'Never promise refunds.' },
          { role: 'user', content: 'I am {{name}}.' },
        ],
        variables: [{ name: 'company' }, { name: 'name' }],
      },
    });
    const sdk = new Anthropic({
      apiKey: key,
      baseURL: 'http://gateway.test',
      maxRetries: 0,
      fetch: (url, init) => gw.request(String(url).replace('http://gateway.test', ''), init),
    });
    const { data, response } = await sdk.messages
      .create({
        model: 'm',
        max_tokens: 64,
        system: 'Be brief.',
        messages: [{ role: 'user', content: 'Refund please' }],
        // @ts-expect-error: the gateway's extension field
        prompt: { id, variables: { company: 'Acme', name: 'Jo' } },
      })
      .withResponse();
    expect(data.content[0]).toMatchObject({ type: 'text', text: 'anthropic answer' });
    expect(response.headers.get('x-gateway-template')).toBe(`${id}@1`);
    const [seen] = await s.requests();
    expect(seen!.body!.prompt).toBeUndefined();
    expect(seen!.body!.system).toBe('You work for Acme.\n\nNever promise refunds.\n\nBe brief.');
    expect(seen!.body!.messages).toEqual([
      { role: 'user', content: 'I am Jo.' },
      { role: 'user', content: 'Refund please' },
    ]);

    const missing = await gw.request('/v1/messages', {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-api-key': key },
      body: JSON.stringify({ model: 'm', max_tokens: 8, prompt: { id, variables: {} } }),
    });
    expect(missing.status).toBe(400);
    const body = (await missing.json()) as {
      type: string;
      error: { type: string; message: string };
    };
    expect(body.type).toBe('error');
    expect(body.error.type).toBe('invalid_request_error');
    expect(body.error.message).toContain("'company', 'name'");
    expect(await s.requests()).toHaveLength(1);
  });
});

describe('prompt templates when Redis fails', () => {
  it('503 templates_unavailable with retry-after, nothing sent upstream', async () => {
    const s = await scenario({ content: 'x' });
    const redis = await breakableRedis();
    const gw = gateway({
      auth: { enabled: true },
      redis: redis.config,
      cache: { enabled: false },
      providers: { up: openaiAt(s) },
      models: { m: { targets: [{ provider: 'up', model: 'up-model' }] } },
    });
    const { headers } = await createKey(gw);
    const { id } = await createTemplate(gw, {
      version: { messages: [{ role: 'user', content: 'hello' }] },
    });
    // The key is now in the isolate's key cache: only the template read needs Redis.
    expect((await gw.chat(chatWith({ id }), headers)).status).toBe(200);
    await redis.set('hang');
    try {
      const res = await gw.chat(chatWith({ id }), headers);
      expect(res.status).toBe(503);
      expect(res.headers.get('retry-after')).toBe('1');
      expect(((await res.json()) as ErrorJson).error.code).toBe('templates_unavailable');
    } finally {
      await redis.set('pass');
    }
    expect(await s.requests()).toHaveLength(1);
  });
});
