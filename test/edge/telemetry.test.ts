/**
 * Telemetry in workerd: spans reach a loopback OTLP receiver (tools/otlp/receiver.ts) in both
 * encodings, /health spans carry no model attributes, every upstream gets a traceparent of the
 * client's trace (also when not sampled), and a collector that is down or never answers
 * changes nothing for the client while the drops are counted in the request log line.
 */
import { describe, expect, it } from 'vitest';
import type { ReceivedSpan } from '../../tools/otlp/receiver.ts';
import { gateway, OTLP_HANG_URL, OTLP_URL, openaiAt, scenario } from './helpers.ts';

interface Received {
  spans: ReceivedSpan[];
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
    otel,
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
        OTEL_METRIC_EXPORT_INTERVAL: '0',
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
      // the first request's two spans (server, attempt) at least were lost, and counted
      expect(dropped).toBeGreaterThanOrEqual(2);
    }
  });
});
