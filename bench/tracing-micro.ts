/**
 * The edge's per-request telemetry work alone, in Node (`node bench/tracing-micro.ts`): one
 * request's trace (server span, one attempt span with its first byte, success with usage,
 * end, metrics) and the OTLP encoding of its spans, N times, each part timed on its own. For
 * finding which part costs what; the recorded figure is `npm run bench`'s gateway-tracing.
 */
import { JsonTraceSerializer, ProtobufTraceSerializer } from '@opentelemetry/otlp-transformer';
import type { ReadableSpan } from '@opentelemetry/sdk-trace';
import { RequestTrace } from '../src/telemetry/request.ts';
import { telemetrySettings } from '../src/telemetry/settings.ts';
import { encodeSpans } from '../src/telemetry/span-encoder.ts';
import { Telemetry } from '../src/telemetry/telemetry.ts';

const N = 20_000;
const settings = telemetrySettings({
  OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:1',
  OTEL_BSP_MAX_QUEUE_SIZE: String(N * 4),
})!;
const telemetry = new Telemetry(settings);
const headers = new Headers({
  traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01',
});
const body = { model: 'up', messages: [{ role: 'user', content: 'hi' }], max_tokens: 20 };

function oneRequest(i: number): void {
  const trace = new RequestTrace(telemetry, headers, {
    method: 'POST',
    path: '/v1/chat/completions',
    requestId: `req-${i}`,
  });
  const attempt = trace.attempt({
    endpoint: 'chat',
    body,
    requestModel: 'm',
    providerKind: 'openai',
    url: 'http://127.0.0.1:8787/v1/chat/completions',
    attempt: 1,
    providerId: 'openai',
    region: undefined,
  });
  void attempt.traceparent;
  attempt.firstByte();
  attempt.succeeded({ id: 'chatcmpl-1', model: 'up', finishReasons: ['stop'] }, {
    prompt_tokens: 9,
    completion_tokens: 12,
    total_tokens: 21,
  } as never);
  trace.end({ status: 200, key_id: 'k1', tenant: 't', cache: 'bypass', provider: 'openai' });
}

function timed(label: string, fn: () => void): void {
  const t0 = performance.now();
  fn();
  const us = ((performance.now() - t0) * 1000) / N;
  console.log(`${label.padEnd(72)} ${us.toFixed(2)} µs/request`);
}

// the spans each request ends, kept here instead of the sender's queue
let ended: ReadableSpan[] = [];
telemetry.sender.enqueue = (span) => {
  ended.push(span);
};
for (let i = 0; i < 2000; i++) oneRequest(i); // warm-up
ended = [];
timed('trace: 2 spans, events, attributes, metrics', () => {
  for (let i = 0; i < N; i++) oneRequest(i);
});
const spans = ended;
const encodings = {
  'protobuf (the edge: src/telemetry/span-encoder.ts)': encodeSpans,
  'protobuf (otlp-transformer)': ProtobufTraceSerializer.serializeRequest,
  'JSON (otlp-transformer)': JsonTraceSerializer.serializeRequest,
};
for (const [label, encode] of Object.entries(encodings)) {
  const encodeAll = () => {
    for (let i = 0; i < spans.length; i += 512) encode(spans.slice(i, i + 512));
  };
  encodeAll(); // warm-up
  timed(`OTLP/${label}, its 2 spans in batches of 512`, encodeAll);
}
