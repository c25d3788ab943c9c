/**
 * The origin's signed `GET /admin/pools` (origin/src/app.ts, Pool.view()): the scheduler's
 * view of every pool, which the edge's `GET /admin/health` shows, over real gpu-sim
 * endpoints: health, ejection, queue and KV-cache use.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { endpointId } from '../../origin/src/discovery.ts';
import type { PoolView } from '../../origin/src/pool.ts';
import type { Origin } from '../../origin/src/server.ts';
import type { GpuSim } from '../../tools/gpu-sim/server.ts';
import {
  BGE,
  chat,
  LLAMA,
  post,
  signingFetch,
  startSims,
  startTestOrigin,
  waitFor,
} from './helpers.ts';

interface PoolsAnswer {
  status: string;
  pools: (PoolView & { models: string[] })[];
}

const sims: GpuSim[] = [];
let origin: Origin | undefined;
afterEach(async () => {
  await origin?.close();
  origin = undefined;
  await Promise.all(sims.splice(0).map((s) => s.close()));
});

const pools = async (o: Origin): Promise<PoolsAnswer> => {
  const res = await signingFetch()(`${o.url}/admin/pools`);
  expect(res.status).toBe(200);
  return (await res.json()) as PoolsAnswer;
};

describe('GET /admin/pools', () => {
  it('answers only signed requests', async () => {
    const [sim] = await startSims(1);
    sims.push(sim!);
    origin = await startTestOrigin({
      pools: { vllm: { kind: 'vllm', endpoints: [sim!.url] } },
      models: { [LLAMA]: 'vllm' },
    });
    const unsigned = await fetch(`${origin.url}/admin/pools`);
    expect(unsigned.status).toBe(401);
    expect(await unsigned.text()).not.toContain(sim!.url);
    expect((await pools(origin)).status).toBe('ready');
  });

  it("shows each pool's endpoints: healthy, ejected, load and KV-cache use", async () => {
    const [good, bad] = [...(await startSims(1)), ...(await startSims(1, { errorRate: 1 }))];
    const [tei] = await startSims(1, { kind: 'tei' });
    sims.push(good!, bad!, tei!);
    origin = await startTestOrigin({
      policy: 'round-robin',
      outlier: { consecutiveFailures: 1, baseEjectionMs: 60_000 },
      pools: {
        vllm: { kind: 'vllm', endpoints: [good!.url, bad!.url] },
        bert: { kind: 'tei', endpoints: [tei!.url] },
      },
      models: { [LLAMA]: 'vllm', 'llama-alias': 'vllm', [BGE]: 'bert' },
    });

    const first = await pools(origin);
    expect(first.pools.map((p) => [p.name, p.engine, p.models])).toEqual([
      ['vllm', 'vllm', [LLAMA, 'llama-alias']],
      ['bert', 'tei', [BGE]],
    ]);
    const vllm = first.pools[0]!;
    expect(vllm.endpoints.map((e) => e.id).sort()).toEqual(
      [endpointId(good!.url), endpointId(bad!.url)].sort(),
    );
    expect(vllm.endpoints.every((e) => e.healthy && !e.ejected && e.ejectedUntil === null)).toBe(
      true,
    );
    expect(vllm).toMatchObject({ queueDepth: 0, inflight: 0 });

    // The failing endpoint answers 500: the origin retries elsewhere and ejects it.
    for (let i = 0; i < 4; i++) {
      const res = await post(origin, '/v1/chat/completions', chat(`hello ${i}`));
      expect(res.status).toBe(200);
      await res.text();
    }
    const after = (await pools(origin)).pools[0]!;
    const byId = new Map(after.endpoints.map((e) => [e.id, e]));
    const ejected = byId.get(endpointId(bad!.url))!;
    expect(ejected.ejected).toBe(true);
    expect(Date.parse(ejected.ejectedUntil!)).toBeGreaterThan(Date.now());
    expect(byId.get(endpointId(good!.url))).toMatchObject({ ejected: false, ejectedUntil: null });

    // vLLM exports its KV-cache use; the scrape brings it in.
    await waitFor(async () => {
      const e = (await pools(origin!)).pools[0]!.endpoints.find(
        (x) => x.id === endpointId(good!.url),
      );
      return typeof e?.kvCacheUsage === 'number' && typeof e.waiting === 'number';
    });

    // A model server that goes away turns unhealthy after the failed health checks.
    await tei!.close();
    await waitFor(async () => (await pools(origin!)).pools[1]!.endpoints[0]!.healthy === false);
  });
});
