/**
 * The origin in-process over gpu-sim endpoints: signature checks at the door, the official
 * openai client through it (chat, stream, embeddings), metrics, DNS discovery.
 */
import OpenAI from 'openai';
import { afterEach, describe, expect, it } from 'vitest';
import type { Origin } from '../../origin/src/server.ts';
import { SIGNING_HEADERS, signRequest } from '../../src/signing/index.ts';
import type { GpuSim } from '../../tools/gpu-sim/server.ts';
import {
  BGE,
  chat,
  KEY,
  LLAMA,
  metricValue,
  post,
  signingFetch,
  startSims,
  startTestOrigin,
  waitFor,
} from './helpers.ts';

const sims: GpuSim[] = [];
let origin: Origin | undefined;
afterEach(async () => {
  await origin?.close();
  origin = undefined;
  await Promise.all(sims.splice(0).map((s) => s.close()));
});

async function vllmOrigin(n = 2, extra: Record<string, unknown> = {}) {
  const started = await startSims(n);
  sims.push(...started);
  origin = await startTestOrigin({
    pools: { vllm: { kind: 'vllm', endpoints: started.map((s) => s.url) } },
    models: { [LLAMA]: 'vllm' },
    ...extra,
  });
  return origin;
}

const client = (o: Origin, headers: Record<string, string> = {}) =>
  new OpenAI({
    baseURL: `${o.url}/v1`,
    apiKey: 'not-used-by-the-origin',
    maxRetries: 0,
    fetch: signingFetch(KEY, headers),
  });

describe('signature checks at the door', () => {
  const body = JSON.stringify(chat('hi', { max_tokens: 2 }));

  async function send(
    headers: Record<string, string>,
    sendBody = body,
    path = '/v1/chat/completions',
  ) {
    return fetch(`${origin!.url}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers },
      body: sendBody,
    });
  }

  const sign = (over: Partial<Parameters<typeof signRequest>[0]> = {}) =>
    signRequest({ key: KEY, method: 'POST', url: '/v1/chat/completions', body, ...over });

  it('answers 401 to unsigned, wrongly signed, stale, tampered and replayed requests', async () => {
    const o = await vllmOrigin(1);
    const reasons: Record<string, string> = {};
    const check = async (name: string, res: Promise<Response>) => {
      const r = await res;
      const json = (await r.json()) as { error?: { code: string; type: string } };
      reasons[name] = `${r.status} ${json.error?.code ?? 'ok'}`;
      if (r.status === 401) expect(json.error?.type).toBe('authentication_error');
    };
    await check('unsigned', send({}));
    await check('unknown key', send(await sign({ key: { id: 'k9', secret: KEY.secret } })));
    await check(
      'wrong secret',
      send(await sign({ key: { id: KEY.id, secret: 'wrong-secret-000000' } })),
    );
    await check('stale', send(await sign({ now: Date.now() - 61_000 })));
    await check('future', send(await sign({ now: Date.now() + 61_000 })));
    await check('other path', send(await sign({ url: '/v1/completions' })));
    await check('tampered body', send(await sign(), body.replace('hi', 'ho')));
    const good = await sign();
    await check('first use', send(good));
    await check('replay', send(good));
    expect(reasons).toEqual({
      unsigned: '401 missing_headers',
      'unknown key': '401 unknown_key',
      'wrong secret': '401 bad_signature',
      stale: '401 stale',
      future: '401 stale',
      'other path': '401 bad_signature',
      'tampered body': '401 body_mismatch',
      'first use': '200 ok',
      replay: '401 replayed',
    });
    // Nothing rejected reached a model server.
    expect(sims[0]!.state().finished).toBe(1);
    const text = await (await fetch(`${o.url}/metrics`)).text();
    expect(metricValue(text, 'origin_requests_total', { status: '401' })).toBe(8);
  });

  it('keeps health and metrics unsigned, and /v1/models signed', async () => {
    const o = await vllmOrigin(1);
    expect((await fetch(`${o.url}/health/live`)).status).toBe(200);
    expect((await fetch(`${o.url}/health/ready`)).status).toBe(200);
    expect((await fetch(`${o.url}/v1/models`)).status).toBe(401);
    const models = await client(o).models.list();
    expect(models.data.map((m) => m.id)).toEqual([LLAMA]);
    expect(SIGNING_HEADERS.signature).toBe('x-gateway-signature');
  });
});

describe('through the origin with the official openai client', () => {
  it('answers chat completions, streamed and not, with usage', async () => {
    const o = await vllmOrigin(2);
    const openai = client(o, { 'x-request-id': 'req-123' });
    const reply = await openai.chat.completions.create({
      model: LLAMA,
      messages: [{ role: 'user', content: 'Hello' }],
      max_tokens: 4,
    });
    expect(reply.usage?.completion_tokens).toBe(4);
    expect(reply.choices[0]?.message.content?.split(' ')).toHaveLength(4);

    const stream = await openai.chat.completions.create({
      model: LLAMA,
      messages: [{ role: 'user', content: 'Hello again' }],
      max_tokens: 6,
      stream: true,
      stream_options: { include_usage: true },
    });
    let text = '';
    let usage: number | undefined;
    for await (const chunk of stream) {
      text += chunk.choices[0]?.delta?.content ?? '';
      if (chunk.usage) usage = chunk.usage.completion_tokens;
    }
    expect(text.split(' ')).toHaveLength(6);
    expect(usage).toBe(6);

    const metrics = await (await fetch(`${o.url}/metrics`)).text();
    expect(metricValue(metrics, 'origin_generated_tokens_total', { model: LLAMA })).toBe(10);
    expect(metricValue(metrics, 'origin_ttft_seconds_count', { pool: 'vllm' })).toBe(1);
    expect(metricValue(metrics, 'origin_requests_total', { pool: 'vllm', status: '200' })).toBe(2);
  });

  it('forwards the request id and trace context to the endpoint and answers with them', async () => {
    const o = await vllmOrigin(1);
    const res = await post(o, '/v1/chat/completions', chat('Hi', { max_tokens: 2 }), {
      'x-request-id': 'req-abc',
      traceparent: '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01',
    });
    expect(res.status).toBe(200);
    expect(res.headers.get('x-request-id')).toBe('req-abc');
    expect(res.headers.get('x-origin-pool')).toBe('vllm');
    expect(res.headers.get('server-timing')).toMatch(/^dispatch;dur=\d+\.\d+/);
    // ...and the endpoint itself got both.
    expect(sims.at(-1)!.state().lastTrace).toEqual({
      requestId: 'req-abc',
      traceparent: '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01',
    });
  });

  it('sends each model to its pool: vLLM, TensorRT-LLM, TEI', async () => {
    const BIG = 'meta-llama/Llama-3.1-70B-Instruct';
    const [vllm] = await startSims(1);
    const [trt] = await startSims(1, { kind: 'trt', model: BIG });
    const [tei] = await startSims(1, { kind: 'tei' });
    sims.push(vllm!, trt!, tei!);
    origin = await startTestOrigin({
      pools: {
        vllm: { kind: 'vllm', endpoints: [vllm!.url] },
        trt: { kind: 'trt', endpoints: [trt!.url] },
        bert: { kind: 'tei', endpoints: [tei!.url] },
      },
      models: { [LLAMA]: 'vllm', [BIG]: 'trt', [BGE]: 'bert' },
    });
    const openai = client(origin);
    const emb = await openai.embeddings.create({ model: BGE, input: ['one', 'two'] });
    expect(emb.data).toHaveLength(2);
    expect(emb.data[0]!.embedding).toHaveLength(384);
    const big = await openai.chat.completions.create({
      model: BIG,
      messages: [{ role: 'user', content: 'hi' }],
      max_tokens: 3,
    });
    expect(big.usage?.completion_tokens).toBe(3);
    // A chat request for an embedding model is refused before any endpoint sees it.
    const wrong = await post(origin, '/v1/chat/completions', chat('x', { model: BGE }));
    expect(wrong.status).toBe(400);
    const unknown = await post(origin, '/v1/chat/completions', chat('x', { model: 'nope' }));
    expect(unknown.status).toBe(404);
    expect([vllm!.state().finished, trt!.state().finished, tei!.state().finished]).toEqual([
      0, 1, 1,
    ]);
    // The TRT pool scrapes trtllm-serve's Prometheus path.
    await waitFor(() => origin!.pools.get('trt')!.endpoints[0]!.scraped !== undefined);
  });

  it('exposes every origin_* metric the dashboards use, with their types', async () => {
    const o = await vllmOrigin(1);
    await (
      await post(o, '/v1/chat/completions', chat('x', { max_tokens: 2, stream: true }))
    ).text();
    const text = await (await fetch(`${o.url}/metrics`)).text();
    const types = Object.fromEntries(
      [...text.matchAll(/^# TYPE (origin_\w+) (\w+)$/gm)].map((m) => [m[1], m[2]]),
    );
    expect(types).toEqual({
      origin_requests_total: 'counter',
      origin_request_duration_seconds: 'histogram',
      origin_dispatch_latency_seconds: 'histogram',
      origin_ttft_seconds: 'histogram',
      origin_generated_tokens_total: 'counter',
      origin_queue_depth: 'gauge',
      origin_inflight_requests: 'gauge',
      origin_endpoint_healthy: 'gauge',
      origin_endpoint_ejections_total: 'counter',
      origin_shed_total: 'counter',
    });
    const endpoint = new URL(sims[0]!.url).host;
    expect(text).toContain(`origin_endpoint_healthy{pool="vllm",endpoint="${endpoint}"} 1`);
    expect(text).toContain(`origin_inflight_requests{pool="vllm",endpoint="${endpoint}"} 0`);
  });
});

describe('prefix affinity through the pool', () => {
  it('sends requests sharing a prompt prefix to the endpoint that served it first', async () => {
    const started = await startSims(4);
    sims.push(...started);
    // Ties rotate over the candidates, so without a recorded prefix (Pool.lease -> commit)
    // the follow-ups would spread over the endpoints instead of following the first.
    let turn = 0;
    const rotating = () => [0.1, 0.35, 0.6, 0.85][turn++ % 4]!;
    origin = await startTestOrigin(
      {
        pools: {
          vllm: { kind: 'vllm', endpoints: started.map((s) => s.url), policy: 'scheduler' },
        },
        models: { [LLAMA]: 'vllm' },
      },
      { random: rotating },
    );
    const shared = 'You are a careful assistant. '.repeat(40); // ~1 200 chars: 18 blocks
    const ask = async (question: string) => {
      const res = await post(origin!, '/v1/chat/completions', {
        model: LLAMA,
        max_tokens: 2,
        messages: [
          { role: 'system', content: shared },
          { role: 'user', content: question },
        ],
      });
      expect(res.status).toBe(200);
      await res.text();
      return res.headers.get('x-origin-endpoint');
    };
    const first = await ask('first question');
    const followUps = [];
    for (let i = 0; i < 6; i++) followUps.push(await ask(`follow-up number ${i}`));
    expect(followUps).toEqual(Array(6).fill(first));
  });
});

describe('DNS discovery', () => {
  it('follows a headless Service as its A records change', async () => {
    const a = (await startSims(1, { host: '127.0.0.1' }))[0]!;
    sims.push(a);
    // Same port on another loopback address (Linux routes all of 127/8 to lo).
    const [b] = await startSims(1, { host: '127.0.0.2', port: a.port });
    sims.push(b!);
    let records: string[] | undefined = ['127.0.0.1'];
    let failedResolutions = 0;
    origin = await startTestOrigin(
      {
        pools: {
          vllm: {
            kind: 'vllm',
            dns: { name: 'vllm.models.svc.cluster.local', port: a.port, intervalMs: 50 },
          },
        },
        models: { [LLAMA]: 'vllm' },
      },
      {
        resolve4: async (name) => {
          expect(name).toBe('vllm.models.svc.cluster.local');
          if (!records) {
            failedResolutions++;
            throw Object.assign(new Error('queryA ENOTFOUND'), { code: 'ENOTFOUND' });
          }
          return records;
        },
      },
    );
    const pool = origin.pools.get('vllm')!;
    expect(pool.endpoints.map((e) => e.id)).toEqual([`127.0.0.1:${a.port}`]);
    records = ['127.0.0.2', '127.0.0.1'];
    await waitFor(() => pool.endpoints.length === 2);
    records = ['127.0.0.2'];
    await waitFor(() => pool.endpoints.length === 1);
    const res = await post(origin, '/v1/chat/completions', chat('hi', { max_tokens: 2 }));
    expect(res.headers.get('x-origin-endpoint')).toBe(`127.0.0.2:${a.port}`);
    // A failing resolution keeps the last known list.
    records = undefined;
    // Two failed rounds: the pool has seen the failure, and handled it, at least once.
    await waitFor(() => failedResolutions >= 2);
    expect(pool.endpoints.map((e) => e.id)).toEqual([`127.0.0.2:${a.port}`]);
  });
});
