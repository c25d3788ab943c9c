/**
 * Guardrails through the app, over the fake upstreams: requests masked or refused before they
 * leave the edge on every ingress (chat, completions, embeddings, /v1/messages, /v1/responses),
 * answers masked or refused (JSON whole, streams as they flow, a block after the first byte
 * ending the stream with the format's error event), webhooks on a real loopback service
 * (timeouts fail open or closed), per-key and per-tenant policy selection, and decisions in
 * the log line and the usage event without the matched text.
 */
import { env } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import { createApp } from '../../src/app.ts';
import { loadConfig } from '../../src/config/index.ts';
import type { EventQueue, UsageEvent } from '../../src/events/index.ts';
import {
  createKey,
  eventually,
  gateway,
  openaiAt,
  type Scenario,
  type Step,
  scenario,
  sseData,
} from './helpers.ts';

// biome-ignore lint/suspicious/noExplicitAny: reads of loosely shaped JSON answers in assertions
type Loose = any;

const WEBHOOK_URL = (env as unknown as Record<string, string>).FAKE_WEBHOOK_URL!;

const CARD = '4111 1111 1111 1111';
/** `value` as JSON without ids and times, for "no digit of the card got out": random hex ids
 * (`resp_…`, `chatcmpl-…`, request ids) hold "4111" now and then by chance. */
const withoutIds = (value: unknown) =>
  JSON.stringify(value, (key, v) => (/(^|_)id$|^created(_at)?$|^at$/.test(key) ? undefined : v));
const AWS_KEY = 'AKIAIOSFODNN7EXAMPLE';
const EMAIL = 'jane.roe@example.com';

const POLICIES = {
  pii: { checks: [{ type: 'pii', action: 'mask' }] },
  secrets: { checks: [{ type: 'secrets', action: 'block', name: 'no-secrets' }] },
  watch: { checks: [{ type: 'keywords', action: 'flag', words: ['zeus'] }] },
};

async function setup(steps: Step[], extra: Record<string, unknown> = {}) {
  const s = await scenario(...steps);
  const gw = gateway({
    cache: { enabled: false },
    providers: { up: openaiAt(s) },
    models: {
      m: { targets: [{ provider: 'up', model: 'up-model' }] },
      e: { type: 'embedding', targets: [{ provider: 'up', model: 'up-embed' }] },
    },
    guardrails: { policies: POLICIES, defaultPolicies: ['pii', 'secrets', 'watch'] },
    ...extra,
  });
  return { s, gw };
}

const STREAMED_MESSAGE = {
  model: 'm',
  max_tokens: 50,
  stream: true,
  messages: [{ role: 'user', content: 'hi' }],
};

const post = (gw: ReturnType<typeof gateway>, path: string, body: unknown) =>
  gw.request(path, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'anthropic-version': '2023-06-01' },
    body: JSON.stringify(body),
  });

/** Events of an SSE body: `{event, data}`. */
async function sseEvents(res: Response): Promise<{ event?: string; data: string }[]> {
  const text = await res.text();
  return text
    .split('\n\n')
    .filter((block) => block.trim() !== '')
    .map((block) => {
      const lines = block.split('\n');
      const event = lines.find((l) => l.startsWith('event: '))?.slice(7);
      const data = lines
        .filter((l) => l.startsWith('data: '))
        .map((l) => l.slice(6))
        .join('\n');
      return event ? { event, data } : { data };
    });
}

const chatText = (events: string[]) =>
  events
    .filter((e) => e !== '[DONE]')
    .map((e) => JSON.parse(e) as { choices?: { delta?: { content?: string } }[] })
    .map((c) => c.choices?.[0]?.delta?.content ?? '')
    .join('');

const lastUserContent = async (s: Scenario) => {
  const [seen] = await s.requests();
  return seen!.body as Record<string, unknown>;
};

describe('guardrails on the request', () => {
  it('masks every message, content part, tool call argument and the system prompt', async () => {
    const { s, gw } = await setup([{ content: 'ok' }]);
    const res = await gw.chat({
      model: 'm',
      messages: [
        { role: 'system', content: `Escalate to ${EMAIL}.` },
        { role: 'user', content: [{ type: 'text', text: `my card is ${CARD}` }] },
        {
          role: 'assistant',
          content: null,
          tool_calls: [
            {
              id: 'call_1',
              type: 'function',
              function: { name: 'lookup', arguments: JSON.stringify({ phone: '+1 415 555 2671' }) },
            },
          ],
        },
        { role: 'tool', tool_call_id: 'call_1', content: 'found 10.0.0.7' },
      ],
    });
    expect(res.status).toBe(200);
    const sent = (await lastUserContent(s)).messages as Record<string, unknown>[];
    expect(sent[0]!.content).toBe('Escalate to [EMAIL].');
    expect(sent[1]!.content).toEqual([{ type: 'text', text: 'my card is [CREDIT_CARD]' }]);
    const call = (sent[2]!.tool_calls as { function: { arguments: string } }[])[0]!;
    expect(JSON.parse(call.function.arguments)).toEqual({ phone: '[PHONE]' });
    expect(sent[3]!.content).toBe('found [IP_ADDRESS]');
    expect(sent[3]!.tool_call_id).toBe('call_1');

    await eventually(() => expect(gw.logs).toHaveLength(1));
    expect(gw.logs[0]!.guardrails).toEqual([
      { policy: 'pii', check: 'pii', action: 'mask', on: 'request', matches: 4 },
    ]);
    const line = JSON.stringify(gw.logs[0]);
    for (const secret of [EMAIL, CARD, '415 555 2671', '10.0.0.7'])
      expect(line).not.toContain(secret);
  });

  it('masks completions prompts and embeddings inputs', async () => {
    const { s, gw } = await setup([{ content: 'ok' }, {}]);
    expect(
      (await post(gw, '/v1/completions', { model: 'm', prompt: [`to ${EMAIL}`] })).status,
    ).toBe(200);
    expect((await post(gw, '/v1/embeddings', { model: 'e', input: `card ${CARD}` })).status).toBe(
      200,
    );
    const [completion, embedding] = await s.requests();
    expect(completion!.body!.prompt).toEqual(['to [EMAIL]']);
    expect(embedding!.body!.input).toBe('card [CREDIT_CARD]');
  });

  it('a block is a 400 in each API shape, naming the check, and nothing goes upstream', async () => {
    const { s, gw } = await setup([{ content: 'never' }]);
    const secret = `my key ${AWS_KEY}`;
    const chat = await gw.chat({ model: 'm', messages: [{ role: 'user', content: secret }] });
    const messages = await post(gw, '/v1/messages', {
      model: 'm',
      max_tokens: 50,
      system: secret,
      messages: [{ role: 'user', content: 'hi' }],
    });
    const responses = await post(gw, '/v1/responses', {
      model: 'm',
      instructions: 'be brief',
      input: secret,
    });
    for (const res of [chat, messages, responses]) expect(res.status).toBe(400);
    const [c, m, r] = [await chat.json(), await messages.json(), await responses.json()] as Loose[];
    expect(c!.error).toMatchObject({ code: 'guardrail_blocked', type: 'invalid_request_error' });
    expect(c!.error.message).toContain("'no-secrets'");
    expect(m).toMatchObject({ type: 'error', error: { type: 'invalid_request_error' } });
    expect(m!.error.message).toContain("'no-secrets'");
    expect(r!.error).toMatchObject({ code: 'guardrail_blocked' });
    for (const body of [c, m, r]) expect(JSON.stringify(body)).not.toContain(AWS_KEY);
    expect(await s.requests()).toHaveLength(0);
    await eventually(() => expect(gw.logs).toHaveLength(3));
    for (const log of gw.logs) {
      expect(log.error_code).toBe('guardrail_blocked');
      expect(log.guardrails).toContainEqual({
        policy: 'secrets',
        check: 'no-secrets',
        action: 'block',
        on: 'request',
        matches: 1,
      });
    }
  });

  it('masks an Anthropic request as it came (system, blocks, tool_use input) for any target', async () => {
    const { s, gw } = await setup([{ content: 'ok' }]);
    const res = await post(gw, '/v1/messages', {
      model: 'm',
      max_tokens: 50,
      system: [{ type: 'text', text: `reach ${EMAIL}` }],
      messages: [
        { role: 'user', content: 'look me up' },
        {
          role: 'assistant',
          content: [{ type: 'tool_use', id: 'tu_1', name: 'find', input: { card: CARD } }],
        },
        {
          role: 'user',
          content: [
            {
              type: 'tool_result',
              tool_use_id: 'tu_1',
              content: 'IBAN DE89 3704 0044 0532 0130 00',
            },
          ],
        },
      ],
    });
    expect(res.status).toBe(200);
    const body = JSON.stringify(await lastUserContent(s));
    expect(body).toContain('[EMAIL]');
    expect(body).toContain('[CREDIT_CARD]');
    expect(body).toContain('[IBAN]');
    expect(body).not.toContain(EMAIL);
    expect(body).not.toContain('DE89');
  });

  it('max prompt size in tokens: the estimate over the limit blocks', async () => {
    const { s, gw } = await setup([{ content: 'ok' }], {
      guardrails: {
        policies: {
          size: { checks: [{ type: 'max_prompt_tokens', action: 'block', maxTokens: 10 }] },
        },
        defaultPolicies: ['size'],
      },
    });
    const small = await gw.chat({ model: 'm', messages: [{ role: 'user', content: 'short one' }] });
    expect(small.status).toBe(200);
    const big = await gw.chat({
      model: 'm',
      messages: [{ role: 'user', content: 'x'.repeat(41) }],
    });
    expect(big.status).toBe(400);
    expect(((await big.json()) as Loose).error.code).toBe('guardrail_blocked');
    expect(await s.requests()).toHaveLength(1);
  });
});

describe('guardrails on the answer', () => {
  const answer = `Your card ${CARD} is on file, write to ${EMAIL} now.`;
  const maskedAnswer = 'Your card [CREDIT_CARD] is on file, write to [EMAIL] now.';

  it('JSON answers are masked in each API shape', async () => {
    const { gw } = await setup([{ content: answer }, { content: answer }, { content: answer }]);
    const chat = (await (
      await gw.chat({ model: 'm', messages: [{ role: 'user', content: 'hi' }] })
    ).json()) as Loose;
    expect(chat.choices[0].message.content).toBe(maskedAnswer);
    const message = (await (
      await post(gw, '/v1/messages', {
        model: 'm',
        max_tokens: 50,
        messages: [{ role: 'user', content: 'hi' }],
      })
    ).json()) as Loose;
    expect(message.content[0].text).toBe(maskedAnswer);
    const response = (await (
      await post(gw, '/v1/responses', { model: 'm', input: 'hi' })
    ).json()) as Loose;
    expect(JSON.stringify(response.output)).toContain(maskedAnswer);
    expect(JSON.stringify(response)).not.toContain(CARD);
    await eventually(() => expect(gw.logs).toHaveLength(3));
    for (const log of gw.logs) {
      expect(log.guardrails).toEqual([
        { policy: 'pii', check: 'pii', action: 'mask', on: 'response', matches: 2 },
      ]);
    }
  });

  it('a JSON answer that must be blocked is a 400, before any byte', async () => {
    const { gw } = await setup([{ content: `here: ${AWS_KEY}` }]);
    const res = await gw.chat({ model: 'm', messages: [{ role: 'user', content: 'hi' }] });
    expect(res.status).toBe(400);
    const text = await res.text();
    expect(JSON.parse(text).error.code).toBe('guardrail_blocked');
    expect(text).not.toContain(AWS_KEY);
  });

  it('streams are masked as they flow, the card split across chunks (chat)', async () => {
    const { gw } = await setup([{ content: answer }]);
    const res = await gw.chat({
      model: 'm',
      stream: true,
      messages: [{ role: 'user', content: 'hi' }],
    });
    expect(res.status).toBe(200);
    const events = await sseData(res);
    expect(events.at(-1)).toBe('[DONE]');
    expect(chatText(events)).toBe(maskedAnswer);
    // the card came in four chunks; none of its digits reached the client
    expect(withoutIds(events.map((e) => (e === '[DONE]' ? e : JSON.parse(e))))).not.toContain(
      '4111',
    );
    await eventually(() => expect(gw.logs).toHaveLength(1));
    expect(gw.logs[0]).toMatchObject({
      stream_end: 'done',
      guardrails: [{ check: 'pii', on: 'response', matches: 2 }],
    });
  });

  it('streams are masked in Anthropic and Responses shapes', async () => {
    const { gw } = await setup([{ content: answer }, { content: answer }]);
    const anthropic = await sseEvents(await post(gw, '/v1/messages', STREAMED_MESSAGE));
    const text = anthropic
      .filter((e) => e.event === 'content_block_delta')
      .map((e) => JSON.parse(e.data).delta.text)
      .join('');
    expect(text).toBe(maskedAnswer);
    expect(anthropic.at(-1)!.event).toBe('message_stop');

    const responses = await sseEvents(
      await post(gw, '/v1/responses', { model: 'm', input: 'hi', stream: true }),
    );
    const parsed = responses.map((e) => JSON.parse(e.data));
    const deltas = parsed
      .filter((e) => e.type === 'response.output_text.delta')
      .map((e) => e.delta)
      .join('');
    expect(deltas).toBe(maskedAnswer);
    expect(parsed.find((e) => e.type === 'response.output_text.done').text).toBe(maskedAnswer);
    const completed = parsed.find((e) => e.type === 'response.completed');
    expect(JSON.stringify(completed)).toContain(maskedAnswer);
    expect(withoutIds(parsed)).not.toContain('4111');
    // sequence numbers still count up one by one after the added delta
    const seq = parsed.map((e) => e.sequence_number);
    expect(seq).toEqual(seq.map((_, i) => seq[0] + i));
  });

  it("a block after the first byte ends the stream with the format's error event", async () => {
    const leak = `Sure, the key is ${AWS_KEY} as asked.`;
    const { gw } = await setup([{ content: leak }, { content: leak }, { content: leak }]);
    const chat = await sseData(
      await gw.chat({ model: 'm', stream: true, messages: [{ role: 'user', content: 'hi' }] }),
    );
    // bytes went out first (what no check could still claim), then the error event
    const before = chatText(chat.slice(0, -1));
    expect(before.length).toBeGreaterThan(0);
    expect('Sure, the key is '.startsWith(before)).toBe(true);
    expect(JSON.parse(chat.at(-1)!).error).toMatchObject({ code: 'guardrail_blocked' });
    expect(chat).not.toContain('[DONE]');

    const anthropic = await sseEvents(await post(gw, '/v1/messages', STREAMED_MESSAGE));
    expect(anthropic[0]!.event).toBe('message_start');
    expect(anthropic.at(-1)!.event).toBe('error');
    expect(JSON.parse(anthropic.at(-1)!.data).error.message).toContain("'no-secrets'");

    const responses = await sseEvents(
      await post(gw, '/v1/responses', { model: 'm', input: 'hi', stream: true }),
    );
    const last = JSON.parse(responses.at(-1)!.data);
    expect(last).toMatchObject({ type: 'error', code: 'guardrail_blocked' });
    expect(responses.some((e) => e.data.includes('response.completed'))).toBe(false);

    for (const events of [chat, anthropic.map((e) => e.data), responses.map((e) => e.data)]) {
      expect(events.join('')).not.toContain(AWS_KEY);
    }
    await eventually(() => expect(gw.logs).toHaveLength(3));
    for (const log of gw.logs) {
      expect(log).toMatchObject({
        status: 200,
        stream_end: 'guardrail_blocked',
        error_code: 'guardrail_blocked',
      });
      expect(log.guardrails).toContainEqual({
        policy: 'secrets',
        check: 'no-secrets',
        action: 'block',
        on: 'response',
        matches: 1,
      });
    }
  });

  it('JSON schema conformance of a structured answer', async () => {
    const schemaPolicy = {
      guardrails: {
        policies: { shape: { checks: [{ type: 'json_schema', action: 'block' }] } },
        defaultPolicies: ['shape'],
      },
    };
    const { gw } = await setup(
      [{ content: '{"name":"Ada","age":36}' }, { content: '{"name":"Ada"}' }],
      schemaPolicy,
    );
    const request = {
      model: 'm',
      messages: [{ role: 'user', content: 'who?' }],
      response_format: {
        type: 'json_schema',
        json_schema: {
          name: 'person',
          schema: {
            type: 'object',
            required: ['name', 'age'],
            properties: { name: { type: 'string' }, age: { type: 'integer' } },
          },
        },
      },
    };
    expect((await gw.chat(request)).status).toBe(200);
    const bad = await gw.chat(request);
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as Loose).error.message).toContain("'json_schema'");
  });
});

describe('the webhook check (a real loopback service)', () => {
  async function hook(options: Record<string, unknown>) {
    const res = await fetch(`${WEBHOOK_URL}/__hooks`, {
      method: 'POST',
      body: JSON.stringify(options),
    });
    const { id, url } = (await res.json()) as { id: string; url: string };
    return {
      url,
      calls: async () =>
        (
          (await (await fetch(`${WEBHOOK_URL}/__hooks/${id}`)).json()) as {
            calls: { body: Loose; headers: Loose }[];
          }
        ).calls,
    };
  }
  const withHook = (url: string, failMode: string, timeoutMs = 2_000) => ({
    guardrails: {
      policies: {
        hook: {
          checks: [
            {
              type: 'webhook',
              action: 'block',
              url,
              failMode,
              timeoutMs,
              on: 'request',
              headers: { authorization: 'Bearer hook-secret-123' },
            },
          ],
        },
      },
      defaultPolicies: ['hook'],
    },
  });
  const ask = { model: 'm', messages: [{ role: 'user', content: 'is this fine?' }] };
  const hookDecision = (matches: number, outcome: string) => ({
    policy: 'hook',
    check: 'webhook',
    action: 'block',
    on: 'request',
    matches,
    outcome,
  });

  it('posts the text and metadata; a fail verdict blocks, a pass lets it through', async () => {
    const pass = await hook({ verdict: 'pass' });
    const ok = await setup([{ content: 'yes' }], withHook(pass.url, 'closed'));
    expect((await ok.gw.chat(ask)).status).toBe(200);
    const [call] = await pass.calls();
    expect(call!.body).toMatchObject({
      direction: 'request',
      text: 'is this fine?',
      metadata: { policy: 'hook', check: 'webhook', model: 'm' },
    });
    expect(call!.headers.authorization).toBe('Bearer hook-secret-123');

    const fail = await hook({ verdict: 'fail' });
    const refused = await setup([{ content: 'yes' }], withHook(fail.url, 'open'));
    const res = await refused.gw.chat(ask);
    expect(res.status).toBe(400);
    expect(await refused.s.requests()).toHaveLength(0);
  });

  it('a timeout fails open (through, noted) or closed (blocked, noted)', async () => {
    const slow = await hook({ verdict: 'fail', delayMs: 3_000 });
    const open = await setup([{ content: 'yes' }], withHook(slow.url, 'open', 150));
    expect((await open.gw.chat(ask)).status).toBe(200);
    await eventually(() => expect(open.gw.logs).toHaveLength(1));
    expect(open.gw.logs[0]!.guardrails).toEqual([hookDecision(0, 'failed_open')]);

    const closed = await setup([{ content: 'yes' }], withHook(slow.url, 'closed', 150));
    const res = await closed.gw.chat(ask);
    expect(res.status).toBe(400);
    await eventually(() => expect(closed.gw.logs).toHaveLength(1));
    expect(closed.gw.logs[0]!.guardrails).toEqual([hookDecision(1, 'failed_closed')]);
    expect(await closed.s.requests()).toHaveLength(0);
    // both calls reached the service: the verdict came too late, not never asked
    expect(await slow.calls()).toHaveLength(2);
  });
});

describe('policy selection and the admin view', () => {
  it("a key names its policies; others get their tenant's, else the defaults; unknown names are a 400", async () => {
    const s = await scenario({ content: 'ok' }, { content: 'ok' }, { content: 'ok' });
    const gw = gateway({
      auth: { enabled: true },
      cache: { enabled: false },
      providers: { up: openaiAt(s) },
      models: { m: { targets: [{ provider: 'up', model: 'up-model' }] } },
      tenants: { acme: { guardrails: ['watch'] } },
      guardrails: { policies: POLICIES, defaultPolicies: ['pii'] },
    });
    const strict = await createKey(gw, { guardrails: ['secrets'] });
    const plain = await createKey(gw);
    const acme = await createKey(gw, { tenant: 'acme' });
    const content = `mail ${EMAIL} about zeus`;
    const ask = (headers: Record<string, string>) =>
      gw.chat({ model: 'm', messages: [{ role: 'user', content }] }, headers);
    expect((await ask(strict.headers)).status).toBe(200);
    expect((await ask(plain.headers)).status).toBe(200);
    expect((await ask(acme.headers)).status).toBe(200);
    const sent = (await s.requests()).map(
      (r) => (r.body!.messages as { content: string }[])[0]!.content,
    );
    // secrets only: untouched; defaults (pii): masked; tenant (keyword flag): untouched, flagged
    expect(sent).toEqual([content, 'mail [EMAIL] about zeus', content]);
    await eventually(() => expect(gw.logs).toHaveLength(6));
    const acmeLog = gw.logs.find((l) => l.key_id === acme.id && l.path === '/v1/chat/completions');
    expect(acmeLog!.guardrails).toEqual([
      { policy: 'watch', check: 'keywords', action: 'flag', on: 'request', matches: 1 },
    ]);

    const unknown = await gw.admin('POST', '/keys', { name: 'k', guardrails: ['pii', 'nope'] });
    expect(unknown.status).toBe(400);
    expect(((await unknown.json()) as Loose).error).toMatchObject({ param: 'guardrails.1' });
    const patched = await gw.admin('PATCH', `/keys/${plain.id}`, { guardrails: ['nope'] });
    expect(patched.status).toBe(400);
  });

  it('GET /admin/guardrails shows the policies without webhook secrets', async () => {
    const gw = gateway({
      auth: { enabled: true },
      providers: {},
      models: {},
      guardrails: {
        policies: {
          ...POLICIES,
          hook: {
            checks: [
              {
                type: 'webhook',
                action: 'flag',
                url: 'https://hooks.example.com/check?token=qs-secret',
                headers: { authorization: 'Bearer hdr-secret' },
              },
            ],
          },
        },
        defaultPolicies: ['pii'],
      },
    });
    const res = await gw.admin('GET', '/guardrails');
    expect(res.status).toBe(200);
    const text = await res.text();
    expect(text).not.toContain('hdr-secret');
    expect(text).not.toContain('qs-secret');
    const body = JSON.parse(text);
    expect(body.defaultPolicies).toEqual(['pii']);
    expect(body.policies.hook.checks[0]).toMatchObject({
      type: 'webhook',
      url: 'https://hooks.example.com/check',
      headers: ['authorization'],
    });
    expect(body.policies.secrets.checks[0]).toMatchObject({
      type: 'secrets',
      action: 'block',
      name: 'no-secrets',
    });
  });

  it('the usage event carries the decisions, never the text', async () => {
    const s = await scenario({ content: `card ${CARD}` });
    const sent: UsageEvent[] = [];
    const queue: EventQueue = {
      sendBatch: async (messages) => void sent.push(...[...messages].map((m) => m.body)),
    };
    const config = loadConfig(
      {
        auth: { enabled: false },
        providers: { up: openaiAt(s) },
        models: { m: { targets: [{ provider: 'up', model: 'up-model' }] } },
        guardrails: { policies: POLICIES, defaultPolicies: ['pii'] },
        events: { flushMs: 5 },
      },
      {},
    );
    const app = createApp({ config, log: () => undefined, events: queue });
    const res = await app.request('http://gateway.test/v1/chat/completions', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        model: 'm',
        stream: true,
        messages: [{ role: 'user', content: `mail ${EMAIL}` }],
      }),
    });
    expect(await res.text()).toContain('[CREDIT_CARD]');
    await eventually(() => expect(sent).toHaveLength(1));
    expect(sent[0]!.guardrails).toEqual([
      { policy: 'pii', check: 'pii', action: 'mask', on: 'request', matches: 1 },
      { policy: 'pii', check: 'pii', action: 'mask', on: 'response', matches: 1 },
    ]);
    expect(JSON.stringify(sent[0])).not.toContain(EMAIL);
    expect(withoutIds(sent[0])).not.toContain('4111');
  });
});
