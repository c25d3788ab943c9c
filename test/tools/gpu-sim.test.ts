import OpenAI from 'openai';
import { afterEach, describe, expect, it } from 'vitest';
import { type GpuSim, type SimOptions, startGpuSim } from '../../tools/gpu-sim/server.ts';

const LLAMA = 'meta-llama/Llama-3.1-8B-Instruct';
const sims: GpuSim[] = [];
afterEach(async () => {
  await Promise.all(sims.splice(0).map((s) => s.close()));
});

async function start(opts: SimOptions = {}): Promise<GpuSim> {
  const sim = await startGpuSim({ prefillMsPerToken: 0.01, decodeMsPerToken: 1, ...opts });
  sims.push(sim);
  return sim;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function waitFor(cond: () => boolean | Promise<boolean>, ms = 3000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await sleep(5);
  }
}

function post(sim: GpuSim, path: string, body: unknown, headers: Record<string, string> = {}) {
  return fetch(`${sim.url}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify(body),
  });
}

interface Answer {
  error: { code: number; type: string };
  usage: { prompt_tokens: number; completion_tokens: number };
}
/** Typed response body (the DOM lib types it as unknown). */
const json = async <T = Answer>(res: Response) => (await res.json()) as T;

const chat = (content: string, extra: Record<string, unknown> = {}) => ({
  model: LLAMA,
  messages: [{ role: 'user', content }],
  ...extra,
});

/** Reads SSE `data:` payloads into `out` (kept when the stream breaks); notes first arrival. */
async function readSse(res: Response, out: string[] = [], onFirst?: () => void) {
  const reader = res.body!.getReader();
  const decoder = new TextDecoder();
  let buf = '';
  for (;;) {
    const { done, value } = await reader.read();
    if (done) return out;
    buf += decoder.decode(value, { stream: true });
    for (let i = buf.indexOf('\n\n'); i >= 0; i = buf.indexOf('\n\n')) {
      const event = buf.slice(0, i);
      buf = buf.slice(i + 2);
      if (!event.startsWith('data: ')) continue;
      if (out.length === 0) onFirst?.();
      out.push(event.slice(6));
    }
  }
}

interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

/** Strict parser of the Prometheus text format as prom-client writes it. */
function parseProm(text: string) {
  const types = new Map<string, string>();
  const samples: Sample[] = [];
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('# HELP ')) continue;
    const t = /^# TYPE ([a-zA-Z_:][\w:]*) (counter|gauge|histogram|summary|untyped)$/.exec(line);
    if (t) {
      types.set(t[1]!, t[2]!);
      continue;
    }
    const m = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!m) throw new Error(`not Prometheus text: ${line}`);
    const labels: Record<string, string> = {};
    for (const l of (m[2] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)) labels[l[1]!] = l[2]!;
    const value = Number(m[3]);
    if (Number.isNaN(value) && m[3] !== 'NaN') throw new Error(`bad value: ${line}`);
    const base = m[1]!.replace(/_(bucket|sum|count)$/, '');
    if (!types.has(m[1]!) && types.get(base) !== 'histogram') {
      throw new Error(`sample without TYPE: ${line}`);
    }
    samples.push({ name: m[1]!, labels, value });
  }
  const value = (name: string, match: Record<string, string> = {}) => {
    const hits = samples.filter(
      (s) => s.name === name && Object.entries(match).every(([k, v]) => s.labels[k] === v),
    );
    if (hits.length === 0) throw new Error(`no sample ${name}`);
    return hits.reduce((a, s) => a + s.value, 0);
  };
  return { types, samples, value };
}

async function scrape(sim: GpuSim, path = '/metrics') {
  const res = await fetch(`${sim.url}${path}`);
  expect(res.status).toBe(200);
  expect(res.headers.get('content-type')).toMatch(/^text\/plain/);
  return parseProm(await res.text());
}

describe('gpu-sim: OpenAI-compatible surface (vllm)', () => {
  it('streams a chat completion to the official SDK, with a final usage chunk', async () => {
    const sim = await start();
    const client = new OpenAI({ baseURL: `${sim.url}/v1`, apiKey: 'unused', maxRetries: 0 });
    const stream = await client.chat.completions.create({
      model: LLAMA,
      messages: [{ role: 'user', content: 'Say something.' }],
      max_tokens: 5,
      stream: true,
      stream_options: { include_usage: true },
    });
    let text = '';
    const chunks = [];
    for await (const chunk of stream) {
      chunks.push(chunk);
      text += chunk.choices[0]?.delta.content ?? '';
    }
    expect(text.split(' ')).toHaveLength(5);
    const usage = chunks.at(-1)!;
    expect(usage.choices).toEqual([]);
    expect(usage.usage).toMatchObject({ completion_tokens: 5 });
    expect(usage.usage!.prompt_tokens).toBeGreaterThan(3);
    expect(usage.usage!.total_tokens).toBe(usage.usage!.prompt_tokens + 5);
    expect(chunks.at(-2)!.choices[0]!.finish_reason).toBe('length');

    const full = await client.chat.completions.create({
      model: LLAMA,
      messages: [{ role: 'user', content: 'Say something.' }],
      max_tokens: 3,
    });
    expect(full.object).toBe('chat.completion');
    expect(full.choices[0]!.message).toMatchObject({ role: 'assistant' });
    expect(full.choices[0]!.message.content!.split(' ')).toHaveLength(3);
    expect(full.usage).toMatchObject({ completion_tokens: 3 });

    const text2 = await client.completions.create({ model: LLAMA, prompt: 'Once', max_tokens: 4 });
    expect(text2.object).toBe('text_completion');
    expect(text2.choices[0]!.text.split(' ')).toHaveLength(4);

    const models = await client.models.list();
    expect(models.data.map((m) => m.id)).toEqual([LLAMA]);
  });

  it('writes chunks in vLLM chat.completion.chunk and text_completion shapes', async () => {
    const sim = await start();
    const res = await post(
      sim,
      '/v1/chat/completions',
      chat('hi', { max_tokens: 3, stream: true, stream_options: { include_usage: true } }),
    );
    expect(res.headers.get('content-type')).toMatch(/^text\/event-stream/);
    const data = await readSse(res);
    expect(data.at(-1)).toBe('[DONE]');
    const chunks = data.slice(0, -1).map((d) => JSON.parse(d));
    expect(new Set(chunks.map((c) => c.id)).size).toBe(1);
    expect(chunks[0].id).toMatch(/^chatcmpl-/);
    for (const c of chunks) {
      expect(c).toMatchObject({ object: 'chat.completion.chunk', model: LLAMA });
      expect(typeof c.created).toBe('number');
    }
    expect(chunks[0].choices[0]).toEqual({
      index: 0,
      delta: { role: 'assistant', content: '' },
      logprobs: null,
      finish_reason: null,
    });
    expect(chunks[1].choices[0]).toMatchObject({ index: 0, logprobs: null, finish_reason: null });
    expect(chunks[3].choices[0]).toMatchObject({ finish_reason: 'length', stop_reason: null });
    expect(chunks[4]).toMatchObject({ choices: [], usage: { completion_tokens: 3 } });

    const plain = await readSse(
      await post(sim, '/v1/completions', {
        model: LLAMA,
        prompt: 'x',
        max_tokens: 2,
        stream: true,
      }),
    );
    expect(plain).toHaveLength(3); // two tokens, no usage chunk unless asked, [DONE]
    const first = JSON.parse(plain[0]!);
    expect(first.id).toMatch(/^cmpl-/);
    expect(first).toMatchObject({
      object: 'text_completion',
      choices: [{ index: 0, logprobs: null }],
    });
    expect(typeof first.choices[0].text).toBe('string');

    const unknown = await post(sim, '/v1/chat/completions', { ...chat('x'), model: 'gpt-nope' });
    expect(unknown.status).toBe(404);
    expect((await json(unknown)).error).toMatchObject({ type: 'NotFoundError', code: 404 });
    const bad = await post(sim, '/v1/chat/completions', { model: LLAMA });
    expect(bad.status).toBe(400);
  });
});

describe('gpu-sim: /metrics', () => {
  it('vllm: real metric names, labelled by model_name, consistent with usage', async () => {
    const sim = await start();
    const res = await post(sim, '/v1/chat/completions', chat('count me', { max_tokens: 4 }));
    const { usage } = await json(res);
    const m = await scrape(sim);
    const expected = {
      'vllm:num_requests_running': 'gauge',
      'vllm:num_requests_waiting': 'gauge',
      'vllm:kv_cache_usage_perc': 'gauge',
      'vllm:gpu_cache_usage_perc': 'gauge',
      'vllm:prefix_cache_queries_total': 'counter',
      'vllm:prefix_cache_hits_total': 'counter',
      'vllm:prompt_tokens_total': 'counter',
      'vllm:generation_tokens_total': 'counter',
      'vllm:time_to_first_token_seconds': 'histogram',
      'vllm:e2e_request_latency_seconds': 'histogram',
    };
    for (const [name, type] of Object.entries(expected)) expect(m.types.get(name)).toBe(type);
    const model = { model_name: LLAMA };
    expect(m.value('vllm:prompt_tokens_total', model)).toBe(usage.prompt_tokens);
    expect(m.value('vllm:generation_tokens_total', model)).toBe(4);
    expect(m.value('vllm:prefix_cache_queries_total', model)).toBe(usage.prompt_tokens);
    expect(m.value('vllm:time_to_first_token_seconds_count', model)).toBe(1);
    expect(m.value('vllm:e2e_request_latency_seconds_count', model)).toBe(1);
    expect(m.value('vllm:num_requests_running', model)).toBe(0);
  });

  it('trt: trtllm_* names at /metrics and /prometheus/metrics', async () => {
    const sim = await start({ kind: 'trt' });
    await (await post(sim, '/v1/completions', { prompt: 'a b c', max_tokens: 2 })).json();
    for (const path of ['/metrics', '/prometheus/metrics']) {
      const m = await scrape(sim, path);
      for (const name of [
        'trtllm_num_requests_running',
        'trtllm_num_requests_waiting',
        'trtllm_kv_cache_utilization',
        'trtllm_kv_cache_used_blocks',
        'trtllm_kv_cache_free_blocks',
        'trtllm_kv_cache_reused_blocks_total',
        'trtllm_prompt_tokens_total',
        'trtllm_generation_tokens_total',
        'trtllm_time_to_first_token_seconds',
        'trtllm_e2e_request_latency_seconds',
      ]) {
        expect(m.types.has(name), name).toBe(true);
      }
      const labels = { model_name: LLAMA, engine_type: 'trtllm' };
      expect(m.value('trtllm_generation_tokens_total', labels)).toBe(2);
      expect(m.value('trtllm_kv_cache_free_blocks', labels)).toBe(2048);
    }
    expect(await (await fetch(`${sim.url}/metrics`)).text()).not.toContain('vllm:');
  });

  it('tei: te_* names; embeddings count and queue size', async () => {
    const sim = await start({ kind: 'tei' });
    await (await post(sim, '/embed', { inputs: ['one', 'two'] })).json();
    await (await post(sim, '/v1/embeddings', { input: 'three' })).json();
    const m = await scrape(sim);
    expect(m.types.get('te_queue_size')).toBe('gauge');
    for (const name of ['te_request_count', 'te_request_success', 'te_embed_count']) {
      expect(m.types.get(name)).toBe('counter');
    }
    for (const name of [
      'te_request_duration',
      'te_request_queue_duration',
      'te_request_inference_duration',
      'te_request_input_length',
    ]) {
      expect(m.types.get(name)).toBe('histogram');
    }
    expect(m.value('te_request_count', { method: 'batch' })).toBe(1);
    expect(m.value('te_request_success', { method: 'single' })).toBe(1);
    expect(m.value('te_request_duration_count')).toBe(2);
    expect(m.value('te_queue_size')).toBe(0);
  });
});

describe('gpu-sim: load and timing', () => {
  it('running/waiting and KV usage rise under concurrent load and return to 0', async () => {
    const sim = await start({ maxBatch: 2, decodeMsPerToken: 15 });
    const idle = await scrape(sim);
    expect(idle.value('vllm:kv_cache_usage_perc')).toBe(0);
    const requests = Array.from({ length: 6 }, (_, i) =>
      post(sim, '/v1/chat/completions', chat(`request number ${i}`, { max_tokens: 12 })).then((r) =>
        json(r),
      ),
    );
    const peak = { running: 0, waiting: 0, kv: 0 };
    await waitFor(async () => {
      const m = await scrape(sim);
      peak.running = Math.max(peak.running, m.value('vllm:num_requests_running'));
      peak.waiting = Math.max(peak.waiting, m.value('vllm:num_requests_waiting'));
      peak.kv = Math.max(peak.kv, m.value('vllm:kv_cache_usage_perc'));
      return peak.running === 2 && peak.waiting > 0 && peak.kv > 0;
    });
    expect(peak.running).toBe(2); // never above maxBatch
    expect(peak.kv).toBeLessThanOrEqual(1);
    const results = await Promise.all(requests);
    expect(results.every((r) => r.usage.completion_tokens === 12)).toBe(true);
    const after = await scrape(sim);
    expect(after.value('vllm:num_requests_running')).toBe(0);
    expect(after.value('vllm:num_requests_waiting')).toBe(0);
    expect(after.value('vllm:kv_cache_usage_perc')).toBe(0);
    expect(after.value('vllm:request_success_total', { finished_reason: 'length' })).toBe(6);
  });

  it('a prompt sharing a long cached prefix gets its first token much sooner', async () => {
    // Prefill dominates: 2000 uncached tokens × 0.5 ms ≈ 1 s, a cached prefix leaves ~10 tokens.
    const sim = await start({ prefillMsPerToken: 0.5, prefillBatchSlowdown: 0 });
    const prefix = Array.from({ length: 1990 }, (_, i) => `x${i.toString(36)}`).join(' ');
    const ttft = async (tail: string) => {
      const t0 = performance.now();
      let first = 0;
      const data = await readSse(
        await post(sim, '/v1/completions', {
          prompt: `${prefix} ${tail}`,
          max_tokens: 2,
          stream: true,
          stream_options: { include_usage: true },
        }),
        [],
        () => {
          first = performance.now() - t0;
        },
      );
      return { ms: first, usage: JSON.parse(data.at(-2)!).usage };
    };
    const cold = await ttft('first question here ok');
    const warm = await ttft('second question now ok');
    expect(cold.usage.prompt_tokens).toBeGreaterThanOrEqual(1994);
    expect(cold.usage.prompt_tokens_details.cached_tokens).toBe(0);
    expect(warm.usage.prompt_tokens_details.cached_tokens).toBeGreaterThanOrEqual(1968);
    // Lower bound from the latency model (load only adds to it) and an ordering: the warm
    // prefix skips most of the prefill, so its first token comes sooner.
    expect(cold.ms).toBeGreaterThan(800);
    expect(warm.ms).toBeLessThan(cold.ms);
    const m = await scrape(sim);
    expect(m.value('vllm:prefix_cache_hits_total')).toBe(
      warm.usage.prompt_tokens_details.cached_tokens,
    );
  });
});

describe('gpu-sim: faults and disconnects', () => {
  it('error: 500 with an OpenAI-shaped body', async () => {
    const sim = await start();
    const res = await post(sim, '/v1/chat/completions', chat('x'), { 'x-sim-fault': 'error' });
    expect(res.status).toBe(500);
    expect((await json(res)).error).toMatchObject({ type: 'InternalServerError', code: 500 });
    const client = new OpenAI({ baseURL: `${sim.url}/v1`, apiKey: 'unused', maxRetries: 0 });
    await expect(
      client.chat.completions.create(chat('x') as never, { headers: { 'x-sim-fault': 'error' } }),
    ).rejects.toMatchObject({ status: 500 });
    expect(sim.state().injectedErrors).toBe(2);
    const always = await start({ errorRate: 1 });
    expect((await post(always, '/v1/chat/completions', chat('x'))).status).toBe(500);
  });

  it('hang: no answer until the client leaves, then it is counted', async () => {
    const sim = await start();
    const ac = new AbortController();
    const pending = fetch(`${sim.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-sim-fault': 'hang' },
      body: JSON.stringify(chat('x')),
      signal: ac.signal,
    }).catch((e: unknown) => e);
    await waitFor(() => sim.state().hanging === 1);
    expect(
      await Promise.race([pending.then(() => 'answered'), sleep(250).then(() => 'hung')]),
    ).toBe('hung');
    ac.abort();
    expect(await pending).toBeInstanceOf(Error);
    await waitFor(() => sim.state().hanging === 0);
    expect(sim.state().disconnects).toBe(1);
  });

  it('reset: the connection drops mid-stream after some chunks; the slot is freed', async () => {
    const sim = await start({ decodeMsPerToken: 5, resetAfterTokens: 3 });
    const res = await post(
      sim,
      '/v1/chat/completions',
      chat('x', { max_tokens: 50, stream: true }),
      {
        'x-sim-fault': 'reset',
      },
    );
    expect(res.status).toBe(200);
    const got: string[] = [];
    await expect(readSse(res, got)).rejects.toThrow();
    expect(got.length).toBeGreaterThanOrEqual(2);
    expect(got.length).toBeLessThan(10);
    expect(got).not.toContain('[DONE]');
    expect(sim.state()).toMatchObject({ resets: 1, running: 0, kvUsage: 0 });
    await expect(
      post(sim, '/v1/completions', { prompt: 'x', max_tokens: 5 }, { 'x-sim-fault': 'reset' }),
    ).rejects.toThrow();
    const always = await start({ resetRate: 1 });
    await expect(post(always, '/v1/completions', { prompt: 'x', max_tokens: 5 })).rejects.toThrow();
  });

  it('slow start: /health and requests answer 503 until the start delay has passed', async () => {
    const sim = await start({ slowStartMs: 400 });
    expect((await fetch(`${sim.url}/health`)).status).toBe(503);
    const early = await post(sim, '/v1/chat/completions', chat('x'));
    expect(early.status).toBe(503);
    expect(Number(early.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    expect((await json(early)).error.code).toBe(503);
    await waitFor(async () => (await fetch(`${sim.url}/health`)).status === 200);
    expect((await post(sim, '/v1/chat/completions', chat('x', { max_tokens: 1 }))).status).toBe(
      200,
    );
    const slow = await post(sim, '/v1/chat/completions', chat('x'), { 'x-sim-fault': 'slow' });
    expect(slow.status).toBe(503);
  });

  it('injected faults follow the seed', async () => {
    const statuses = async () => {
      const sim = await start({ errorRate: 0.5, seed: 7 });
      const out: number[] = [];
      for (let i = 0; i < 8; i++) {
        const res = await post(sim, '/v1/completions', { prompt: 'x', max_tokens: 1 });
        await res.text();
        out.push(res.status);
      }
      return out;
    };
    const a = await statuses();
    expect(a).toContain(200);
    expect(a).toContain(500);
    expect(await statuses()).toEqual(a);
  });

  it('a client that leaves frees its running slot or its queue place', async () => {
    const sim = await start({ maxBatch: 1, decodeMsPerToken: 10 });
    const running = new AbortController();
    const res = await fetch(`${sim.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(chat('long', { max_tokens: 500, stream: true })),
      signal: running.signal,
    });
    await res.body!.getReader().read();
    const queued = new AbortController();
    const second = fetch(`${sim.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(chat('queued', { max_tokens: 5 })),
      signal: queued.signal,
    }).catch((e: unknown) => e);
    await waitFor(() => sim.state().waiting === 1);
    expect(sim.state()).toMatchObject({ running: 1, waiting: 1 });
    expect(sim.state().kvUsage).toBeGreaterThan(0);
    queued.abort();
    await second;
    await waitFor(() => sim.state().waiting === 0);
    running.abort();
    await waitFor(() => sim.state().running === 0);
    expect(sim.state()).toMatchObject({ disconnects: 2, cancelled: 2, kvUsage: 0 });
  });
});

describe('gpu-sim: tei embeddings', () => {
  it('answers OpenAI embeddings and TEI /embed with deterministic unit vectors', async () => {
    const sim = await start({ kind: 'tei' });
    const client = new OpenAI({ baseURL: `${sim.url}/v1`, apiKey: 'unused', maxRetries: 0 });
    const r = await client.embeddings.create({
      model: 'BAAI/bge-small-en-v1.5',
      input: ['hello world', 'another text'],
    });
    expect(r.data.map((d) => d.index)).toEqual([0, 1]);
    const [a, b] = r.data.map((d) => d.embedding);
    expect(a).toHaveLength(384);
    expect(Math.hypot(...a!)).toBeCloseTo(1, 4);
    expect(a).not.toEqual(b);
    expect(r.usage.prompt_tokens).toBe(7); // hell·o·worl·d + anot·her·text

    const floats = await json<{ data: { embedding: number[] }[] }>(
      await post(sim, '/v1/embeddings', { input: 'hello world', encoding_format: 'float' }),
    );
    expect(floats).toMatchObject({ object: 'list', data: [{ object: 'embedding', index: 0 }] });
    const native = await json<number[][]>(await post(sim, '/embed', { inputs: 'hello world' }));
    expect(native).toHaveLength(1);
    expect(native[0]).toEqual(floats.data[0]!.embedding);
    native[0]!.forEach((x, i) => {
      expect(x).toBeCloseTo(a![i]!, 5);
    });

    expect((await post(sim, '/v1/chat/completions', chat('x'))).status).toBe(404);
    const invalid = await post(sim, '/embed', { inputs: [] });
    expect(invalid.status).toBe(400);
    expect(await invalid.json()).toMatchObject({ error_type: 'Validation' });
  });
});
