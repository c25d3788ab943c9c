/**
 * OpenTelemetry through real processes on loopback: the official openai client (with its own
 * W3C `traceparent`) → `wrangler dev` (test/e2e/fixtures/telemetry-worker.ts, OTLP/JSON to a
 * test receiver) → a cloud fake and the regional origin (`node origin/src/main.ts`, OTel SDK
 * for Node, same receiver) → gpu-sim. Asserts one trace from the client to the simulator, the
 * parent links, the GenAI attributes and token counts (JSON and stream), the failed attempt's
 * error span before the fallback's, and the metrics for this known workload.
 */
import { randomBytes } from 'node:crypto';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeOpenAI } from '../../tools/fakes/openai.ts';
import type { GpuSim } from '../../tools/gpu-sim/server.ts';
import {
  type OtlpReceiver,
  type ReceivedPoint,
  type ReceivedSpan,
  startOtlpReceiver,
} from '../../tools/otlp/receiver.ts';
import {
  LLAMA,
  type OriginProcess,
  startOriginProcess,
  startSims,
  waitFor,
} from '../origin/helpers.ts';
import { freePort, type Running, startWranglerDev } from './processes.ts';

let receiver: OtlpReceiver;
let cloud: Awaited<ReturnType<typeof startFakeOpenAI>>;
let sims: GpuSim[] = [];
let origin: OriginProcess;
let edge: Running;

const OTEL = (url: string) => ({
  OTEL_EXPORTER_OTLP_ENDPOINT: url,
  OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
  OTEL_METRIC_EXPORT_INTERVAL: '0',
  // batched across requests as in production, on a short schedule
  OTEL_BSP_SCHEDULE_DELAY: '200',
});

beforeAll(async () => {
  receiver = await startOtlpReceiver();
  cloud = await startFakeOpenAI({ port: 0 });
  const scenario = (await (
    await fetch(`${cloud.url}/__scenarios`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ steps: [{ status: 500 }] }),
    })
  ).json()) as { baseUrl: string };
  sims = await startSims(1, { decodeMsPerToken: 1 });
  origin = await startOriginProcess(
    {
      pools: { vllm: { kind: 'vllm', endpoints: sims.map((s) => s.url) } },
      models: { [LLAMA]: 'vllm' },
    },
    { ...OTEL(receiver.url), OTEL_METRIC_EXPORT_INTERVAL: '200' },
  );
  const vars = {
    CLOUD_URL: cloud.url,
    CLOUD_DOWN_URL: scenario.baseUrl,
    ORIGIN_URL: origin.url,
    ...OTEL(receiver.url),
  };
  edge = await startWranglerDev(await freePort(), vars, {
    config: 'test/e2e/fixtures/wrangler.telemetry.toml',
    readyPath: '/health/live',
  });
}, 120_000);

afterAll(async () => {
  await edge?.stop();
  origin?.child.kill('SIGKILL');
  await Promise.all(sims.map((s) => s.close()));
  await cloud?.close();
  await receiver?.close();
});

/** A fresh client-side trace: the traceparent the client sends, and its ids. */
function clientTrace() {
  const traceId = randomBytes(16).toString('hex');
  const spanId = randomBytes(8).toString('hex');
  return { traceId, spanId, traceparent: `00-${traceId}-${spanId}-01` };
}

const client = (traceparent: string) =>
  new OpenAI({
    baseURL: `${edge.url}/v1`,
    apiKey: 'sk-unused',
    maxRetries: 0,
    defaultHeaders: { traceparent },
  });

async function spansOf(traceId: string, until: (spans: ReceivedSpan[]) => boolean) {
  await waitFor(() => until(receiver.spans.filter((s) => s.traceId === traceId)), 20_000);
  return receiver.spans.filter((s) => s.traceId === traceId);
}

const SERVER = 2;
const CLIENT = 3;

describe('traces from the client through the edge to the origin and the simulator', () => {
  it('continues the client trace on a JSON answer, with GenAI attributes and usage', async () => {
    const t = clientTrace();
    const { data, response } = await client(t.traceparent)
      .chat.completions.create({
        model: 'gpt',
        messages: [{ role: 'user', content: 'Hello, traced world' }],
        max_tokens: 12,
        temperature: 0.5,
      })
      .withResponse();
    expect(response.status).toBe(200);
    const spans = await spansOf(t.traceId, (s) => s.length >= 2);
    const server = spans.find((s) => s.kind === SERVER && s.service === 'edge-llm-gateway')!;
    expect(server.parentSpanId).toBe(t.spanId);
    expect(server.name).toBe('POST /v1/chat/completions');
    // model attributes belong to the inference span, not the server span
    expect(Object.keys(server.attributes).some((k) => k.startsWith('gen_ai.'))).toBe(false);
    expect(server.attributes['http.response.status_code']).toBe(200);
    const attempt = spans.find((s) => s.kind === CLIENT)!;
    expect(attempt.parentSpanId).toBe(server.spanId);
    expect(attempt.name).toBe('chat gpt');
    expect(attempt.attributes).toMatchObject({
      'gen_ai.operation.name': 'chat',
      'gen_ai.provider.name': 'openai',
      'gen_ai.request.model': 'gpt',
      'gen_ai.request.max_tokens': 12,
      'gen_ai.request.temperature': 0.5,
      'gen_ai.request.stream': false,
      'gen_ai.response.id': data.id,
      'gen_ai.response.model': data.model,
      'gen_ai.response.finish_reasons': [data.choices[0]!.finish_reason],
      'gen_ai.usage.input_tokens': data.usage!.prompt_tokens,
      'gen_ai.usage.output_tokens': data.usage!.completion_tokens,
      'gateway.attempt': 1,
      'gateway.provider': 'cloud',
      'server.address': '127.0.0.1',
      'server.port': Number(new URL(cloud.url).port),
    });
    expect(attempt.status).not.toBe(2);
  });

  it('records the failed attempt as an error span, then the fallback to the origin, one trace down to gpu-sim', async () => {
    const t = clientTrace();
    const stream = await client(t.traceparent).chat.completions.create({
      model: 'llama',
      messages: [{ role: 'user', content: 'Stream me through the origin' }],
      max_tokens: 8,
      stream: true,
      stream_options: { include_usage: true },
    });
    let usage: OpenAI.CompletionUsage | undefined;
    let id = '';
    for await (const chunk of stream) {
      id ||= chunk.id;
      if (chunk.usage) usage = chunk.usage;
    }
    expect(usage).toBeDefined();
    // the simulator got a traceparent of the same trace
    const simTrace = sims[0]!.state().lastTrace.traceparent;
    expect(simTrace?.split('-')[1]).toBe(t.traceId);

    const spans = await spansOf(
      t.traceId,
      (s) =>
        s.some((x) => x.service === 'edge-llm-gateway' && x.kind === SERVER) &&
        s.some((x) => x.service === 'edge-llm-origin' && x.kind === CLIENT),
    );
    const edgeServer = spans.find((s) => s.kind === SERVER && s.service === 'edge-llm-gateway')!;
    const attempts = spans
      .filter((s) => s.kind === CLIENT && s.service === 'edge-llm-gateway')
      .sort(
        (a, b) => Number(a.attributes['gateway.attempt']) - Number(b.attributes['gateway.attempt']),
      );
    expect(attempts.map((a) => a.attributes['gateway.provider'])).toEqual(['cloud-down', 'origin']);
    const [failed, served] = attempts as [ReceivedSpan, ReceivedSpan];
    expect(failed.parentSpanId).toBe(edgeServer.spanId);
    expect(failed.status).toBe(2);
    expect(failed.attributes['error.type']).toBe('500');
    expect(served.parentSpanId).toBe(edgeServer.spanId);
    expect(served.startMs).toBeGreaterThanOrEqual(failed.endMs);
    expect(served.attributes).toMatchObject({
      'gen_ai.provider.name': 'origin',
      'gen_ai.request.model': 'llama',
      'gen_ai.request.stream': true,
      'gen_ai.response.id': id,
      'gen_ai.usage.input_tokens': usage!.prompt_tokens,
      'gen_ai.usage.output_tokens': usage!.completion_tokens,
      'gateway.attempt': 2,
    });
    expect(served.events.map((e) => e.name)).toEqual(['gateway.first_byte', 'gateway.stream_end']);
    expect(served.events[1]!.attributes['gateway.stream_end']).toBe('done');

    // the origin continues from the served attempt's span, and the simulator from its forward
    const originServer = spans.find((s) => s.service === 'edge-llm-origin' && s.kind === SERVER)!;
    expect(originServer.parentSpanId).toBe(served.spanId);
    const names = spans.filter((s) => s.parentSpanId === originServer.spanId).map((s) => s.name);
    expect(names).toEqual(expect.arrayContaining(['queue', 'pick', `chat ${LLAMA}`]));
    const pick = spans.find((s) => s.name === 'pick' && s.parentSpanId === originServer.spanId)!;
    expect(pick.attributes).toMatchObject({
      'gateway.origin.policy': 'scheduler',
      'gateway.origin.candidates': 1,
    });
    expect(typeof pick.attributes['gateway.origin.score.load']).toBe('number');
    const forward = spans.find((s) => s.name === `chat ${LLAMA}`)!;
    expect(simTrace?.split('-')[2]).toBe(forward.spanId);
  });

  it('exports the metrics of the workload: tokens by type, durations, requests, fallbacks', async () => {
    const before = latest('gateway.fallbacks', { 'gateway.provider': 'origin' })?.value ?? 0;
    const t = clientTrace();
    const { data } = await client(t.traceparent)
      .chat.completions.create({
        model: 'llama',
        messages: [{ role: 'user', content: 'count my tokens' }],
        max_tokens: 4,
      })
      .withResponse();
    const attrs = { 'gen_ai.request.model': 'llama', 'gen_ai.provider.name': 'origin' };
    // cumulative per isolate: the newest point includes this request
    await waitFor(
      () => (latest('gateway.fallbacks', { 'gateway.provider': 'origin' })?.value ?? 0) > before,
      20_000,
    );
    const input = latest('gen_ai.client.token.usage', { ...attrs, 'gen_ai.token.type': 'input' })!;
    const output = latest('gen_ai.client.token.usage', {
      ...attrs,
      'gen_ai.token.type': 'output',
    })!;
    // the two llama requests of this file: the stream above and this one
    expect(input.count).toBe(2);
    expect(output.count).toBe(2);
    expect(output.value).toBeGreaterThanOrEqual(data.usage!.completion_tokens);
    const failedDuration = latest('gen_ai.client.operation.duration', {
      'gen_ai.request.model': 'llama',
      'gen_ai.provider.name': 'openai',
      'error.type': '500',
    })!;
    expect(failedDuration.count).toBe(2);
    const requests = latest('gateway.requests', {
      'http.response.status_code': 200,
      'gateway.provider': 'origin',
    })!;
    expect(requests.value).toBe(2);
    expect(latest('gateway.fallbacks', { 'gateway.provider': 'origin' })!.value).toBe(2);
    expect(latest('gen_ai.client.operation.time_to_first_chunk', attrs)!.count).toBe(1);

    // the origin exports the same names through the OTel SDK for Node (every 200 ms here)
    const fromOrigin = (metric: string, a: Record<string, unknown>) =>
      latest(metric, a, 'edge-llm-origin');
    await waitFor(
      () =>
        fromOrigin('gateway.requests', { 'http.response.status_code': 200 })?.value === 2 &&
        fromOrigin('gen_ai.client.token.usage', { 'gen_ai.token.type': 'output' })?.count === 2,
      20_000,
    );
    expect(
      fromOrigin('gen_ai.client.operation.duration', { 'gen_ai.request.model': LLAMA })!.count,
    ).toBe(2);
  });
});

/** The newest point of `service` (by its own time: exports may arrive out of order) of `metric` whose
 * attributes include `attrs`. */
function latest(metric: string, attrs: Record<string, unknown>, service = 'edge-llm-gateway') {
  return receiver.points
    .filter(
      (p) =>
        p.service === service &&
        p.metric === metric &&
        Object.entries(attrs).every(([k, v]) => p.attributes[k] === v),
    )
    .reduce<ReceivedPoint | undefined>((a, p) => (!a || p.timeMs >= a.timeMs ? p : a), undefined);
}
