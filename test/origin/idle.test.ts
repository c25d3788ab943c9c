/**
 * `scrape.pauseWhenIdleMs`: a pool that has seen no request for that long stops scraping its
 * endpoints (so an idle local stack does no busy work) and scrapes again once traffic comes.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { resolveConfig } from '../../origin/src/config.ts';
import { createMetrics } from '../../origin/src/metrics.ts';
import { Pool } from '../../origin/src/pool.ts';
import type { GpuSim } from '../../tools/gpu-sim/server.ts';
import { KEYS_SPEC, startSims, waitFor } from './helpers.ts';

let sims: GpuSim[] = [];
afterAll(async () => {
  await Promise.all(sims.map((s) => s.close()));
});

function poolOver(sim: GpuSim, pauseWhenIdleMs: number, now: () => number) {
  const { config } = resolveConfig({
    signingKeys: KEYS_SPEC,
    pools: { vllm: { kind: 'vllm', endpoints: [sim.url] } },
    models: { m: 'vllm' },
    scrape: { intervalMs: 5, pauseWhenIdleMs },
    health: { intervalMs: 60_000 },
  });
  const scrapes: number[] = [];
  const counting: typeof fetch = (input, init) => {
    if (String(input).endsWith('/metrics')) scrapes.push(now());
    return fetch(input, init);
  };
  const pool = new Pool('vllm', config.pools.vllm!, config, {
    metrics: createMetrics({ defaultMetrics: false }),
    now,
    fetch: counting,
  });
  return { pool, scrapes };
}

describe('scrape.pauseWhenIdleMs', () => {
  it('is idle before any request and after the pause, busy while a request is in flight', async () => {
    sims = await startSims(1);
    let t = 1_000;
    const { pool } = poolOver(sims[0]!, 100, () => t);
    await pool.start();
    expect(pool.idle()).toBe(true);
    const lease = (await pool.acquire({ hashes: [], priority: 'normal' }))!;
    t += 500;
    expect(pool.idle()).toBe(false); // in flight, however long ago it started
    lease.release('ok');
    expect(pool.idle()).toBe(false);
    t += 50;
    expect(pool.idle()).toBe(false); // within the pause
    t += 51;
    expect(pool.idle()).toBe(true);
    pool.stop();
  });

  it('scrapes again once a request arrives after a pause', async () => {
    let t = 0;
    const { pool, scrapes } = poolOver(sims[0]!, 100, () => t);
    await pool.start(); // the first scrape is always done
    t = 10_000; // long idle: the loop skips
    const before = scrapes.length;
    const lease = (await pool.acquire({ hashes: [], priority: 'normal' }))!;
    await waitFor(() => scrapes.length > before);
    lease.release('ok');
    pool.stop();
  });

  it('never pauses when 0 (the default)', async () => {
    let t = 0;
    const { pool, scrapes } = poolOver(sims[0]!, 0, () => t);
    await pool.start();
    t = 10_000_000;
    expect(pool.idle()).toBe(false);
    const before = scrapes.length;
    await waitFor(() => scrapes.length > before);
    pool.stop();
  });
});
