/**
 * Reading the model servers' own metrics: the parser on crafted text, and the snapshot from
 * the simulator's real /metrics output for vLLM, TensorRT-LLM and TEI.
 */
import { afterEach, describe, expect, it } from 'vitest';
import {
  DEFAULT_METRICS_PATH,
  loadSnapshot,
  parsePrometheus,
  wantedNames,
} from '../../origin/src/scrape.ts';
import type { GpuSim } from '../../tools/gpu-sim/server.ts';
import { BGE, chat, startSims, waitFor } from './helpers.ts';

const sims: GpuSim[] = [];
afterEach(async () => {
  await Promise.all(sims.splice(0).map((s) => s.close()));
});

describe('parsePrometheus', () => {
  it('sums and maxes series by name, skipping comments, labels with spaces, and junk', () => {
    const text = [
      '# HELP vllm:num_requests_running running',
      '# TYPE vllm:num_requests_running gauge',
      'vllm:num_requests_running{model_name="m",engine="0"} 3',
      'vllm:num_requests_running{model_name="m",engine="1"} 4',
      'vllm:kv_cache_usage_perc{model_name="a b} c",engine="0"} 0.25',
      'vllm:kv_cache_usage_perc{engine="1"} 0.75 1700000000000',
      'te_queue_size 2',
      'broken_line{x="1"} NaN',
      '',
    ].join('\n');
    const s = parsePrometheus(text);
    expect(s.get('vllm:num_requests_running')).toEqual({ sum: 7, max: 4 });
    expect(s.get('vllm:kv_cache_usage_perc')).toEqual({ sum: 1, max: 0.75 });
    expect(s.get('te_queue_size')).toEqual({ sum: 2, max: 2 });
    expect(s.has('broken_line')).toBe(false);
    expect(parsePrometheus(text, new Set(['te_queue_size'])).size).toBe(1);
  });

  it('knows the older vLLM KV metric name, and refuses text without the queue metric', () => {
    const old = parsePrometheus('vllm:num_requests_waiting 1\nvllm:gpu_cache_usage_perc 0.5\n');
    expect(loadSnapshot('vllm', old)).toMatchObject({ waiting: 1, running: 0, kvUsage: 0.5 });
    expect(loadSnapshot('vllm', parsePrometheus('node_cpu 1\n'))).toBeUndefined();
  });
});

async function scrape(sim: GpuSim, kind: 'vllm' | 'trt' | 'tei') {
  const text = await (await fetch(`${sim.url}${DEFAULT_METRICS_PATH[kind]}`)).text();
  return loadSnapshot(kind, parsePrometheus(text, wantedNames(kind)));
}

describe('snapshots from the simulator (same names as the real servers)', () => {
  for (const kind of ['vllm', 'trt'] as const) {
    it(`${kind}: running, waiting, KV usage and prefix counters`, async () => {
      const [sim] = await startSims(1, { kind, maxBatch: 1, decodeMsPerToken: 20 });
      sims.push(sim!);
      const system = 'A long shared system prompt with many words in it. '.repeat(10);
      const body = (q: string) =>
        JSON.stringify({
          ...chat(q, { max_tokens: 12 }),
          messages: [
            { role: 'system', content: system },
            { role: 'user', content: q },
          ],
        });
      const send = (q: string) =>
        fetch(`${sim!.url}/v1/chat/completions`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: body(q),
        });
      const first = send('one');
      const second = send('two');
      await waitFor(async () => (await scrape(sim!, kind))?.waiting === 1);
      const busy = await scrape(sim!, kind);
      expect(busy).toMatchObject({ running: 1, waiting: 1 });
      expect(busy!.kvUsage).toBeGreaterThan(0);
      await Promise.all([(await first).text(), (await second).text()]);
      const idle = await scrape(sim!, kind);
      expect(idle).toMatchObject({ running: 0, waiting: 0, kvUsage: 0 });
      // The second request reused the first one's system prompt blocks.
      expect(idle!.prefixHits).toBeGreaterThan(0);
      expect(idle!.prefixQueries).toBeGreaterThan(idle!.prefixHits!);
    });
  }

  it('tei: waiting only (no running count, no KV cache)', async () => {
    const [sim] = await startSims(1, { kind: 'tei' });
    sims.push(sim!);
    const res = await fetch(`${sim!.url}/v1/embeddings`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model: BGE, input: 'hello' }),
    });
    expect(res.status).toBe(200);
    expect(await scrape(sim!, 'tei')).toEqual({
      running: undefined,
      waiting: 0,
      kvUsage: undefined,
      prefixQueries: undefined,
      prefixHits: undefined,
    });
  });
});
