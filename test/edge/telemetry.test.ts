/**
 * Telemetry in workerd: spans reach a loopback OTLP receiver (tools/otlp/receiver.ts) in both
 * encodings, /health spans carry no model attributes, every upstream gets a traceparent of the
 * client's trace (also when not sampled), and a collector that is down or never answers
 * changes nothing for the client while the drops are counted in the request log line.
 */
import { describe, expect, it } from 'vitest';
import type { ReceivedPoint, ReceivedSpan } from '../../tools/otlp/receiver.ts';
import {
  createKey,
  gateway,
  OTLP_HANG_URL,
  OTLP_URL,
  openaiAt,
  scenario,
  sseData,
  UPSTREAM_KEY,
} from './helpers.ts';
import { fakeScenario } from './providers-fakes.ts';

interface Received {
  spans: ReceivedSpan[];
  points: ReceivedPoint[];
  exports: Record<string, number>;
}

const received = async () => (await (await fetch(`${OTLP_URL}/received`)).json()) as Received;

/** Polls the receiver until `ready` holds (or 10 s pass, and the assertions after fail). */
async function receivedWhen(ready: (r: Received) => boolean): Promise<Received> {
  for (let i = 0; i < 200; i++) {
    const r = await received();
    if (ready(r)) return r;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return received();
}

const CHAT = { model: 'm', messages: [{ role: 'user', content: 'hi' }] };
const traceparent = (traceId: string) => `00-${traceId}-00f067aa0ba902b7-01`;
const randomHex = (bytes: number) =>
  [...crypto.getRandomValues(new Uint8Array(bytes))]
    .map((b) => b.toString(16).padStart(2, '0'))
    .join('');

async function modelGateway(otel: Record<string, string>, steps = [{}]) {
  const s = await scenario(...steps);
  const gw = gateway(
    { providers: { p: openaiAt(s) }, models: { m: { targets: [{ provider: 'p', model: 'up' }] } } },
    { otel },
  );
  return { s, gw };
}

describe('edge telemetry (workerd)', () => {
  it('exports OTLP/JSON: a server span with HTTP attributes only on /health', async () => {
    const service = `edge-json-${randomHex(4)}`;
    const { gw } = await modelGateway({
      OTEL_EXPORTER_OTLP_ENDPOINT: OTLP_URL,
      OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
      OTEL_SERVICE_NAME: service,
    });
    const traceId = randomHex(16);
    expect(
      (await gw.request('/health', { headers: { traceparent: traceparent(traceId) } })).status,
    ).toBe(200);
    const r = await receivedWhen((x) => x.spans.some((s) => s.traceId === traceId));
    const span = r.spans.find((s) => s.traceId === traceId)!;
    expect(span.service).toBe(service);
    expect(span.parentSpanId).toBe('00f067aa0ba902b7');
    expect(span.attributes['http.response.status_code']).toBe(200);
    expect(Object.keys(span.attributes).filter((k) => k.startsWith('gen_ai.'))).toEqual([]);
    expect(r.spans.filter((s) => s.traceId === traceId)).toHaveLength(1);
  });

  it('names the rendered prompt template and its version on the server span', async () => {
    const s = await scenario({});
    const gw = gateway(
      {
        auth: { enabled: true },
        providers: { p: openaiAt(s) },
        models: { m: { targets: [{ provider: 'p', model: 'up' }] } },
      },
      {
        otel: { OTEL_EXPORTER_OTLP_ENDPOINT: OTLP_URL, OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json' },
      },
    );
    const key = await createKey(gw);
    const created = await gw.admin('POST', '/templates', {
      version: {
        messages: [{ role: 'user', content: 'Say {{word}}.' }],
        variables: [{ name: 'word' }],
      },
    });
    expect(created.status).toBe(201);
    const { id } = (await created.json()) as { id: string };
    const traceId = randomHex(16);
    const res = await gw.chat(
      { model: 'm', prompt: { id, variables: { word: 'hi' } } },
      { traceparent: traceparent(traceId), ...key.headers },
    );
    expect(res.status).toBe(200);
    const r = await receivedWhen((x) =>
      x.spans.some((s) => s.traceId === traceId && s.parentSpanId === '00f067aa0ba902b7'),
    );
    const server = r.spans.find(
      (s) => s.traceId === traceId && s.parentSpanId === '00f067aa0ba902b7',
    )!;
    expect(server.attributes['gateway.template.id']).toBe(id);
    expect(server.attributes['gateway.template.version']).toBe(1);
    // Only on the request's span, not on its attempt's.
    const attempt = r.spans.find((s) => s.traceId === traceId && s !== server);
    expect(attempt?.attributes['gateway.template.id']).toBeUndefined();
  });

  it('batches the spans of several requests into one export (the batch span processor settings)', async () => {
    const { gw } = await modelGateway({
      OTEL_EXPORTER_OTLP_ENDPOINT: OTLP_URL,
      OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
      // a full batch is sent at once; the schedule never comes due within the test
      OTEL_BSP_SCHEDULE_DELAY: '600000',
      OTEL_BSP_MAX_EXPORT_BATCH_SIZE: '4',
    });
    const traceIds = [randomHex(16), randomHex(16)];
    for (const traceId of traceIds) {
      expect((await gw.chat(CHAT, { traceparent: traceparent(traceId) })).status).toBe(200);
    }
    const ours = (r: Received) => r.spans.filter((sp) => traceIds.includes(sp.traceId));
    const r = await receivedWhen((x) => ours(x).length >= 4);
    // two requests, a server and an attempt span each, all in the same export
    expect(ours(r)).toHaveLength(4);
    expect(new Set(ours(r).map((sp) => sp.exportNo)).size).toBe(1);
  });

  it('exports OTLP/protobuf when asked (the default protocol)', async () => {
    const key = '/v1/traces application/x-protobuf';
    const before = (await received()).exports[key] ?? 0;
    const { gw } = await modelGateway({ OTEL_EXPORTER_OTLP_ENDPOINT: OTLP_URL });
    expect((await gw.chat(CHAT)).status).toBe(200);
    const r = await receivedWhen((x) => (x.exports[key] ?? 0) > before);
    expect(r.exports[key]).toBeGreaterThan(before);
  });

  it('sends every upstream a traceparent of the client trace naming the attempt, sampled or not', async () => {
    for (const sampler of ['always_on', 'always_off']) {
      const { s, gw } = await modelGateway({
        OTEL_EXPORTER_OTLP_ENDPOINT: OTLP_URL,
        OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
        OTEL_TRACES_SAMPLER: sampler,
      });
      const traceId = randomHex(16);
      expect((await gw.chat(CHAT, { traceparent: traceparent(traceId) })).status).toBe(200);
      const [sent] = await s.requests();
      const [, tid, spanId, flags] = sent!.headers.traceparent!.split('-');
      expect(tid).toBe(traceId);
      expect(spanId).not.toBe('00f067aa0ba902b7');
      // always_off: not recorded, and says so downstream
      expect(flags).toBe(sampler === 'always_on' ? '01' : '00');
      if (sampler === 'always_on') {
        const r = await receivedWhen((x) => x.spans.some((sp) => sp.spanId === spanId));
        const attempt = r.spans.find((sp) => sp.spanId === spanId)!;
        expect(attempt.name).toBe('chat m');
        expect(attempt.attributes['gen_ai.provider.name']).toBe('openai');
      }
    }
  });

  it('answers as usual with the collector down or silent, and counts the drops', async () => {
    for (const endpoint of ['http://127.0.0.1:1', OTLP_HANG_URL]) {
      const { gw } = await modelGateway({
        OTEL_EXPORTER_OTLP_ENDPOINT: endpoint,
        OTEL_EXPORTER_OTLP_TIMEOUT: '200',
      });
      let dropped = 0;
      for (let i = 0; i < 100 && dropped === 0; i++) {
        const res = await gw.chat(CHAT);
        expect(res.status).toBe(200);
        const body = (await res.json()) as { choices: { message: { content: string } }[] };
        expect(body.choices[0]!.message.content).toBe('Hello! This is the fake upstream.');
        dropped = gw.logs.at(-1)!.telemetry_dropped ?? 0;
        if (dropped === 0) await new Promise((r) => setTimeout(r, 50));
      }
      // the first request's two spans (server, attempt; no metric export is due yet) were
      // lost, and counted
      expect(dropped).toBeGreaterThanOrEqual(2);
    }
  });

  it('counts requests, limit refusals and residency refusals in the exported metrics', async () => {
    const service = `edge-metrics-${randomHex(4)}`;
    const s = await scenario({});
    const gw = gateway(
      {
        auth: { enabled: true },
        regions: {
          'us-east': { zone: 'us', continents: ['NA'], location: { lat: 39, lon: -77.5 } },
          'ap-south': { zone: 'apac', continents: ['AS'], location: { lat: 19.1, lon: 72.9 } },
        },
        providers: { us: openaiAt(s, { region: 'us-east' }) },
        models: { m: { targets: [{ provider: 'us', model: 'up' }] } },
      },
      {
        otel: {
          OTEL_EXPORTER_OTLP_ENDPOINT: OTLP_URL,
          OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
          OTEL_SERVICE_NAME: service,
          OTEL_METRIC_EXPORT_INTERVAL: '0',
        },
      },
    );
    const apac = await createKey(gw, { residency: 'apac' });
    const limited = await createKey(gw, { limits: { requestsPerMinute: 1 } });
    expect((await gw.chat(CHAT, apac.headers)).status).toBe(403);
    expect((await gw.chat(CHAT, limited.headers)).status).toBe(200);
    expect((await gw.chat(CHAT, limited.headers)).status).toBe(429);
    const value = (r: Received, metric: string, attrs: Record<string, unknown> = {}) =>
      r.points
        .filter(
          (p) =>
            p.service === service &&
            p.metric === metric &&
            Object.entries(attrs).every(([k, v]) => p.attributes[k] === v),
        )
        .reduce((a, p) => (p.timeMs >= a.timeMs ? p : a), { timeMs: -1, value: 0 }).value;
    const r = await receivedWhen((x) => value(x, 'gateway.limit.refusals') > 0);
    expect(value(r, 'gateway.residency.refusals')).toBe(1);
    expect(value(r, 'gateway.limit.refusals', { 'gateway.refusal': 'rate_limit_exceeded' })).toBe(
      1,
    );
    expect(value(r, 'gateway.requests', { 'http.response.status_code': 403 })).toBe(1);
    expect(value(r, 'gateway.requests', { 'http.response.status_code': 429 })).toBe(1);
    expect(
      value(r, 'gateway.requests', {
        'http.response.status_code': 200,
        'gateway.provider': 'us',
        'gateway.region': 'us-east',
      }),
    ).toBe(1);
  });

  it('puts usage and finish reasons on the span of a translated stream (Anthropic)', async () => {
    const s = await fakeScenario('anthropic', {});
    const gw = gateway(
      {
        providers: {
          a: { kind: 'anthropic', baseUrl: `${s.baseUrl}/v1`, apiKey: UPSTREAM_KEY },
        },
        models: { m: { targets: [{ provider: 'a', model: 'claude-x' }] } },
      },
      { otel: { OTEL_EXPORTER_OTLP_ENDPOINT: OTLP_URL, OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json' } },
    );
    const traceId = randomHex(16);
    const res = await gw.chat(
      { ...CHAT, max_tokens: 20, stream: true, stream_options: { include_usage: true } },
      { traceparent: traceparent(traceId) },
    );
    expect(res.status).toBe(200);
    const chunks = (await sseData(res))
      .filter((d) => d !== '[DONE]')
      .map(
        (d) =>
          JSON.parse(d) as {
            id: string;
            usage?: { prompt_tokens: number; completion_tokens: number };
            choices: { finish_reason: string | null }[];
          },
      );
    const usage = chunks.find((c) => c.usage)!.usage!;
    const finish = chunks.flatMap((c) => c.choices.map((x) => x.finish_reason)).filter(Boolean);
    const r = await receivedWhen((x) =>
      x.spans.some((sp) => sp.traceId === traceId && sp.kind === 3),
    );
    const attempt = r.spans.find((sp) => sp.traceId === traceId && sp.kind === 3)!;
    expect(attempt.attributes).toMatchObject({
      'gen_ai.provider.name': 'anthropic',
      'gen_ai.request.stream': true,
      'gen_ai.response.id': chunks[0]!.id,
      'gen_ai.response.finish_reasons': finish,
      'gen_ai.usage.input_tokens': usage.prompt_tokens,
      'gen_ai.usage.output_tokens': usage.completion_tokens,
    });
    expect(usage.completion_tokens).toBeGreaterThan(0);
    expect(attempt.events.map((e) => e.name)).toEqual(['gateway.first_byte', 'gateway.stream_end']);
  });

  it('emits the GenAI development names with OTEL_SEMCONV_STABILITY_OPT_IN=gen_ai_latest_experimental', async () => {
    const named = async (optIn: string | undefined) => {
      const service = `edge-semconv-${randomHex(4)}`;
      const { gw } = await modelGateway({
        OTEL_EXPORTER_OTLP_ENDPOINT: OTLP_URL,
        OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
        OTEL_SERVICE_NAME: service,
        OTEL_METRIC_EXPORT_INTERVAL: '0',
        ...(optIn ? { OTEL_SEMCONV_STABILITY_OPT_IN: optIn } : {}),
      });
      const traceId = randomHex(16);
      const res = await gw.chat(CHAT, { traceparent: traceparent(traceId) });
      expect(res.status).toBe(200);
      const usage = ((await res.json()) as { usage: { prompt_tokens: number } }).usage;
      const r = await receivedWhen(
        (x) =>
          x.spans.some((sp) => sp.traceId === traceId && sp.kind === 3) &&
          x.points.some((p) => p.service === service && p.metric.includes('duration')),
      );
      const attempt = r.spans.find((sp) => sp.traceId === traceId && sp.kind === 3)!;
      const points = r.points.filter((p) => p.service === service);
      return { attempt, points, usage };
    };
    const latest = await named('http, gen_ai_latest_experimental');
    expect(latest.attempt.name).toBe('gen_ai.client.inference');
    expect(latest.attempt.attributes['gen_ai.request.model']).toBe('m');
    const input = latest.points.find(
      (p) => p.metric === 'gen_ai.client.inference.usage.input_tokens',
    )!;
    expect(input.value).toBe(latest.usage.prompt_tokens);
    expect(input.attributes['gen_ai.token.type']).toBeUndefined();
    expect(latest.points.some((p) => p.metric === 'gen_ai.client.inference.duration')).toBe(true);
    expect(latest.points.some((p) => p.metric.startsWith('gen_ai.client.operation'))).toBe(false);
    expect(latest.points.some((p) => p.metric === 'gen_ai.client.token.usage')).toBe(false);

    const stable = await named(undefined);
    expect(stable.attempt.name).toBe('chat m');
    const typed = stable.points.find(
      (p) =>
        p.metric === 'gen_ai.client.token.usage' && p.attributes['gen_ai.token.type'] === 'input',
    )!;
    expect(typed.value).toBe(stable.usage.prompt_tokens);
    expect(stable.points.some((p) => p.metric.startsWith('gen_ai.client.inference'))).toBe(false);
  });

  it('puts the messages and the answer on the attempt span only for a tenant that opts in', async () => {
    const service = `edge-content-${randomHex(4)}`;
    const s = await scenario({ content: 'Sunny in Paris.' }, { content: 'Sunny in Paris.' }, {});
    const gw = gateway(
      {
        auth: { enabled: true },
        tenants: { open: { traceContent: true } },
        providers: { p: openaiAt(s) },
        models: { m: { targets: [{ provider: 'p', model: 'up' }] } },
      },
      {
        otel: {
          OTEL_EXPORTER_OTLP_ENDPOINT: OTLP_URL,
          OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
          OTEL_SERVICE_NAME: service,
          OTEL_BSP_SCHEDULE_DELAY: '0',
        },
      },
    );
    const open = await createKey(gw, { tenant: 'open' });
    const closed = await createKey(gw, { tenant: 'closed' });
    const ask = {
      model: 'm',
      messages: [
        { role: 'system', content: 'Be brief.' },
        { role: 'user', content: `Weather? ${UPSTREAM_KEY}` },
      ],
    };
    const [json, stream, other] = [randomHex(16), randomHex(16), randomHex(16)];
    const tp = (id: string) => ({ traceparent: traceparent(id) });
    expect((await gw.chat(ask, { ...open.headers, ...tp(json) })).status).toBe(200);
    const streamed = await gw.chat({ ...ask, stream: true }, { ...open.headers, ...tp(stream) });
    expect((await sseData(streamed)).at(-1)).toBe('[DONE]');
    expect((await gw.chat(ask, { ...closed.headers, ...tp(other) })).status).toBe(200);

    const attempt = (r: Received, id: string) =>
      r.spans.find((x) => x.traceId === id && x.kind === 3);
    const r = await receivedWhen((x) => [json, stream, other].every((id) => attempt(x, id)));
    for (const id of [json, stream]) {
      const attrs = attempt(r, id)!.attributes;
      expect(JSON.parse(String(attrs['gen_ai.system_instructions']))).toEqual([
        { type: 'text', content: 'Be brief.' },
      ]);
      const input = String(attrs['gen_ai.input.messages']);
      expect(JSON.parse(input)[0].parts[0].content).toMatch(/^Weather\? /);
      expect(input).not.toContain(UPSTREAM_KEY); // the gateway's secrets are redacted
      expect(JSON.parse(String(attrs['gen_ai.output.messages']))).toEqual([
        {
          role: 'assistant',
          parts: [{ type: 'text', content: 'Sunny in Paris.' }],
          finish_reason: 'stop',
        },
      ]);
    }
    const closedAttrs = Object.keys(attempt(r, other)!.attributes);
    expect(closedAttrs.filter((k) => /messages|instructions/.test(k))).toEqual([]);
    const server = r.spans.find((x) => x.traceId === json && x.kind === 2)!;
    expect(Object.keys(server.attributes).filter((k) => /messages|instructions/.test(k))).toEqual(
      [],
    );
  });
});
