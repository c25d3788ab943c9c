/**
 * Payload capture (src/capture) through the real app: a capturing tenant's prompt and answer
 * ride in its usage event, redacted of secrets and cut to its budget; a tenant without
 * capture leaves no text in any event or log line; an EU-resident request's payload goes only
 * to the EU queue, and is left out when no EU queue is bound. Queues here record what they
 * are given (the path through the real queue into Postgres: test/e2e/).
 */
import { describe, expect, it, vi } from 'vitest';
import { createApp } from '../../src/app.ts';
import { jsonBytes } from '../../src/capture/index.ts';
import { loadConfig } from '../../src/config/index.ts';
import type { EventQueue, UsageEvent } from '../../src/events/index.ts';
import type { RequestLogRecord } from '../../src/observability/index.ts';
import { ADMIN_TOKEN, eventually, openaiAt, REDIS, scenario } from './helpers.ts';

const ANSWER = 'the answer is forty two';
const SECRET = 'sk-proj-AbCdEfGhIjKlMnOpQrStUvWxYz0123456789';

function recordingQueue() {
  const sent: UsageEvent[] = [];
  const queue: EventQueue = {
    sendBatch: async (messages) => {
      for (const m of messages) sent.push(m.body);
    },
  };
  return { sent, queue };
}

async function setup(options: { euQueue: boolean }) {
  const s = await scenario({ content: ANSWER });
  const suffix = crypto.randomUUID().slice(0, 8);
  const config = loadConfig(
    {
      redis: REDIS,
      auth: { enabled: true },
      admin: { tokens: { tester: ADMIN_TOKEN } },
      regions: { 'eu-west': { zone: 'eu' } },
      providers: { [`eu-${suffix}`]: openaiAt(s, { zones: ['eu'], region: 'eu-west' }) },
      models: { m: { targets: [{ provider: `eu-${suffix}`, model: 'up' }] } },
      tenants: {
        [`capture-${suffix}`]: { payloadCapture: { enabled: true, maxBytes: 1_024 } },
        [`capture-eu-${suffix}`]: { residency: 'eu', payloadCapture: { enabled: true } },
        [`plain-${suffix}`]: {},
      },
      events: { flushMs: 1, zoneQueues: { eu: 'USAGE_EVENTS_EU' } },
    },
    {},
  );
  const main = recordingQueue();
  const eu = recordingQueue();
  const logs: RequestLogRecord[] = [];
  const app = createApp({
    config,
    events: main.queue,
    zoneEvents: options.euQueue ? { eu: eu.queue } : {},
    log: (r) => logs.push(r),
  });
  const address = `203.0.113.${Math.floor(Math.random() * 250) + 1}`;
  const request = (path: string, init: RequestInit) => {
    const headers = new Headers(init.headers);
    headers.set('cf-connecting-ip', address);
    return app.request(`http://gateway.test${path}`, { ...init, headers });
  };
  const keyOf = async (tenant: string) => {
    const res = await request('/admin/keys', {
      method: 'POST',
      headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' },
      body: JSON.stringify({ name: tenant, tenant: `${tenant}-${suffix}`, residency: 'tenant' }),
    });
    expect(res.status).toBe(201);
    return ((await res.json()) as { key: string }).key;
  };
  const keys = {
    capture: await keyOf('capture'),
    captureEu: await keyOf('capture-eu'),
    plain: await keyOf('plain'),
  };
  /** One chat request; resolves with the usage event it produced, from whichever queue. */
  const chat = async (key: string, content: string, extra: Record<string, unknown> = {}) => {
    const id = crypto.randomUUID();
    const res = await request('/v1/chat/completions', {
      method: 'POST',
      headers: {
        authorization: `Bearer ${key}`,
        'content-type': 'application/json',
        'x-request-id': id,
      },
      body: JSON.stringify({ model: 'm', messages: [{ role: 'user', content }], ...extra }),
    });
    expect(res.status).toBe(200);
    await res.text();
    const all = () => [...main.sent, ...eu.sent].filter((e) => e.request_id === id);
    await eventually(() => expect(all()).toHaveLength(1));
    return all()[0]!;
  };
  return { chat, keys, main: main.sent, eu: eu.sent, logs };
}

describe('payload capture', () => {
  it("a capturing tenant's prompt and answer are in its event, its secrets redacted", async () => {
    const { chat, keys, main, logs } = await setup({ euQueue: true });
    const prompt = `summarise this; my key is ${SECRET} and Authorization: Bearer abcdefghijklmnop`;
    const json = await chat(keys.capture, prompt);
    expect(main).toContain(json);
    expect(json.payload).toMatchObject({ answer: ANSWER, prompt_truncated: false });
    expect(json.payload!.prompt).toContain('summarise this; my key is [redacted]');
    expect(json.payload!.prompt).toContain('Bearer [redacted]');
    expect(JSON.stringify(json)).not.toContain(SECRET);
    expect(JSON.stringify(json)).not.toContain('abcdefghijklmnop');

    const stream = await chat(keys.capture, 'stream me', { stream: true });
    expect(stream.payload).toMatchObject({ answer: ANSWER });
    expect(stream.payload!.prompt).toContain('stream me');
    // Retention: the request's UTC day + 7 (the default).
    const expires = new Date(`${json.at.slice(0, 10)}T00:00:00Z`);
    expires.setUTCDate(expires.getUTCDate() + 7);
    expect(json.payload!.expires_on).toBe(expires.toISOString().slice(0, 10));
    // The log line never holds the text.
    expect(JSON.stringify(logs)).not.toContain('summarise this');
    expect(JSON.stringify(logs)).not.toContain('stream me');
  });

  it('cuts each side to maxBytes with a marker', async () => {
    const { chat, keys } = await setup({ euQueue: true });
    const event = await chat(keys.capture, `"é${'x'.repeat(5_000)}`);
    expect(event.payload!.prompt_truncated).toBe(true);
    expect(event.payload!.prompt).toMatch(/…\[truncated: \d+ chars in all\]$/);
    expect(jsonBytes(event.payload!.prompt!)).toBeLessThanOrEqual(1_024);
    expect(jsonBytes(event.payload!.prompt!)).toBeGreaterThan(900);
  });

  it('a tenant without capture leaves no text in any event or log line', async () => {
    const { chat, keys, main, eu, logs } = await setup({ euQueue: true });
    const warn = vi.spyOn(console, 'warn');
    try {
      const event = await chat(keys.plain, 'plain tenant prompt text');
      await chat(keys.plain, 'plain tenant streamed text', { stream: true });
      expect(event).not.toHaveProperty('payload');
      const everything = JSON.stringify([main, eu, logs, warn.mock.calls]);
      expect(everything).not.toContain('plain tenant');
      expect(everything).not.toContain(ANSWER);
    } finally {
      warn.mockRestore();
    }
  });

  it("an EU tenant's payload goes only to the EU queue, never to the default one", async () => {
    const { chat, keys, main, eu } = await setup({ euQueue: true });
    const event = await chat(keys.captureEu, 'eu-only prompt');
    expect(eu).toContain(event);
    expect(event.zone).toBe('eu');
    expect(event.payload).toMatchObject({ answer: ANSWER });
    expect(event.payload!.prompt).toContain('eu-only prompt');
    expect(main.some((e) => e.request_id === event.request_id)).toBe(false);
    expect(JSON.stringify(main)).not.toContain('eu-only prompt');
  });

  it('with no EU queue bound, the EU payload is left out (and said so), the event kept', async () => {
    const { chat, keys, main, eu } = await setup({ euQueue: false });
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => undefined);
    try {
      const event = await chat(keys.captureEu, 'eu prompt with nowhere to go');
      expect(main).toContain(event);
      expect(event).not.toHaveProperty('payload');
      expect(eu).toEqual([]);
      expect(JSON.stringify(main)).not.toContain('nowhere to go');
      const said = warn.mock.calls.map((c) => String(c[0]));
      expect(said.some((l) => l.includes('payload not captured: no queue in its zone'))).toBe(true);
      expect(said.join('\n')).not.toContain('nowhere to go');
    } finally {
      warn.mockRestore();
    }
  });
});
