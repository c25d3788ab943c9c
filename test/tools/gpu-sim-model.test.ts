import { describe, expect, it } from 'vitest';
import {
  blockHashes,
  GpuModel,
  type ModelConfig,
  type SimEvent,
  tokenize,
} from '../../tools/gpu-sim/model.ts';

const base: ModelConfig = {
  maxBatch: 4,
  kvBlocks: 512,
  blockSize: 16,
  prefillMsPerToken: 0.5,
  prefillBatchSlowdown: 0.1,
  decodeMsPerToken: 10,
  decodeBatchSlowdown: 0.2,
  prefixCaching: true,
};

const words = (n: number, tag = 'w') => Array.from({ length: n }, (_, i) => `${tag}${i}`);

function firstTokenDelay(events: SimEvent[], id: string): number {
  const ev = events.find((e) => e.type === 'token' && e.req.id === id);
  if (!ev) throw new Error(`no token for ${id}`);
  return ev.at - ev.req.arrivedAt;
}

function itls(events: SimEvent[], id: string): number[] {
  return events.flatMap((e) =>
    e.type === 'token' && e.req.id === id && e.itlMs !== undefined ? [e.itlMs] : [],
  );
}

describe('tokenize and block hashes', () => {
  it('is deterministic, and shared prefixes give shared chained block hashes', () => {
    const a = tokenize('The quick brown fox, jumps over the lazy dog. '.repeat(8));
    expect(tokenize('The quick brown fox, jumps over the lazy dog. '.repeat(8))).toEqual(a);
    expect(tokenize('extraordinary!')).toEqual(['extr', 'aord', 'inar', 'y', '!']);
    const b = [...a.slice(0, 40), ...words(30, 'other')];
    const ha = blockHashes(a, 16);
    const hb = blockHashes(b, 16);
    expect(ha.slice(0, 2)).toEqual(hb.slice(0, 2));
    expect(ha[2]).not.toBe(hb[2]);
    // Chained: the same block content after a different parent hashes differently.
    const c = [...words(16, 'x'), ...a.slice(16, 32)];
    expect(blockHashes(c, 16)[1]).not.toBe(ha[1]);
  });
});

describe('GpuModel', () => {
  it('reuses a cached prefix: only uncached tokens cost prefill time', () => {
    const m = new GpuModel(base);
    const prefix = words(992, 'p');
    m.submit({ id: 'cold', tokens: [...prefix, ...words(8, 'a')], maxOutputTokens: 4 });
    const cold = m.drain();
    m.submit({ id: 'warm', tokens: [...prefix, ...words(8, 'b')], maxOutputTokens: 4 });
    const warm = m.drain();
    const coldTtft = firstTokenDelay(cold, 'cold');
    const warmTtft = firstTokenDelay(warm, 'warm');
    expect(coldTtft).toBeCloseTo(1000 * 0.5);
    expect(warmTtft).toBeCloseTo(8 * 0.5);
    expect(warm.at(-1)?.req.cachedTokens).toBe(992);
    const s = m.stats();
    expect(s.prefixQueryTokens).toBe(2000);
    expect(s.prefixHitTokens).toBe(992);
    expect(s.running).toBe(0);
    expect(s.kvUsage).toBe(0);
    // 62 shared prefix blocks + 0 for each 8-token tail (tails are private, not cached).
    expect(s.kvCachedBlocks).toBe(62);
  });

  it('always recomputes at least one token of a fully cached prompt', () => {
    const m = new GpuModel(base);
    m.submit({ id: 'a', tokens: words(64), maxOutputTokens: 1 });
    m.drain();
    m.submit({ id: 'b', tokens: words(64), maxOutputTokens: 1 });
    const ev = m.drain();
    expect(ev[0]?.req.cachedTokens).toBe(48);
    expect(firstTokenDelay(ev, 'b')).toBeCloseTo(16 * 0.5);
  });

  it('evicts the least recently released cached blocks when space is needed', () => {
    const m = new GpuModel({ ...base, kvBlocks: 20, blockSize: 4 });
    const [a, b, c] = [words(32, 'a'), words(32, 'b'), words(32, 'c')];
    for (const [id, tokens] of [
      ['a', a],
      ['b', b],
      ['c', c],
    ] as const) {
      m.submit({ id, tokens, maxOutputTokens: 1 });
      m.drain();
    }
    // c needed 9 blocks with 4 free: 5 evicted, all from a (released first, tail first).
    expect(m.stats().kvCachedBlocks).toBe(19);
    m.submit({ id: 'b2', tokens: b, maxOutputTokens: 1 });
    const b2 = m.drain();
    expect(b2[0]?.req.cachedTokens).toBe(28); // all 8 blocks cached, last one recomputed
    m.submit({ id: 'a2', tokens: a, maxOutputTokens: 1 });
    const a2 = m.drain();
    expect(a2[0]?.req.cachedTokens).toBe(12); // only a's first 3 blocks survived
  });

  it('queues requests FIFO when the running batch is full', () => {
    const m = new GpuModel({ ...base, maxBatch: 2 });
    for (let i = 0; i < 5; i++) {
      m.submit({ id: `r${i}`, tokens: words(32, `r${i}-`), maxOutputTokens: 5 });
    }
    expect(m.stats()).toMatchObject({ running: 2, waiting: 3 });
    const events = m.drain();
    expect(m.stats()).toMatchObject({ running: 0, waiting: 0, finished: 5, kvUsage: 0 });
    const finishedAt = (id: string) =>
      events.find((e) => e.type === 'finished' && e.req.id === id)!;
    const r2 = finishedAt('r2').req;
    expect(r2.admittedAt).toBeGreaterThanOrEqual(finishedAt('r0').at);
    const order = events.filter((e) => e.type === 'finished').map((e) => e.req.id);
    expect(order).toEqual(['r0', 'r1', 'r2', 'r3', 'r4']);
  });

  it('inter-token latency grows with the running batch', () => {
    const solo = new GpuModel(base);
    solo.submit({ id: 's', tokens: words(16), maxOutputTokens: 10 });
    const soloItl = itls(solo.drain(), 's');
    expect(soloItl.every((x) => Math.abs(x - 10) < 1e-9)).toBe(true);

    const busy = new GpuModel(base);
    for (let i = 0; i < 4; i++) {
      busy.submit({ id: `b${i}`, tokens: words(16, `b${i}-`), maxOutputTokens: 10 });
    }
    const busyItl = itls(busy.drain(), 'b0');
    // Mid-stream, all four are decoding: 10 ms × (1 + 0.2 × 3).
    expect(busyItl[4]).toBeCloseTo(16);
    expect(Math.max(...busyItl)).toBeGreaterThan(Math.max(...soloItl));
  });

  it('time to first token grows with the work queued ahead', () => {
    const m = new GpuModel({ ...base, maxBatch: 8 });
    for (let i = 0; i < 4; i++) {
      m.submit({ id: `q${i}`, tokens: words(200, `q${i}-`), maxOutputTokens: 2 });
    }
    const events = m.drain();
    const ttfts = [0, 1, 2, 3].map((i) => firstTokenDelay(events, `q${i}`));
    expect(ttfts[0]).toBeCloseTo(100);
    for (let i = 1; i < 4; i++) expect(ttfts[i]!).toBeGreaterThan(ttfts[i - 1]! + 90);

    // With a one-slot batch, the queue wait adds whole requests' decode time.
    const narrow = new GpuModel({ ...base, maxBatch: 1 });
    narrow.submit({ id: 'n0', tokens: words(16, 'n0-'), maxOutputTokens: 20 });
    narrow.submit({ id: 'n1', tokens: words(16, 'n1-'), maxOutputTokens: 20 });
    const ne = narrow.drain();
    expect(firstTokenDelay(ne, 'n1')).toBeGreaterThan(firstTokenDelay(ne, 'n0') + 19 * 10);
  });

  it('KV usage rises with load; a full cache preempts and recomputes, nothing is lost', () => {
    const m = new GpuModel({ ...base, kvBlocks: 12, blockSize: 4 });
    m.submit({ id: 'x', tokens: words(8, 'x'), maxOutputTokens: 20 });
    m.submit({ id: 'y', tokens: words(8, 'y'), maxOutputTokens: 20 });
    expect(m.stats().kvUsage).toBeGreaterThan(0);
    const events = m.drain();
    const s = m.stats();
    expect(s.preemptions).toBeGreaterThan(0);
    expect(s.finished).toBe(2);
    expect(s.generationTokens).toBe(40);
    for (const id of ['x', 'y']) {
      expect(events.filter((e) => e.type === 'token' && e.req.id === id)).toHaveLength(20);
    }
    expect(s.kvUsage).toBe(0);
  });

  it('cancel frees the slot and the blocks for the next request', () => {
    const m = new GpuModel({ ...base, maxBatch: 1 });
    m.submit({ id: 'a', tokens: words(40, 'a'), maxOutputTokens: 50 });
    m.submit({ id: 'b', tokens: words(40, 'b'), maxOutputTokens: 1 });
    m.advance(100);
    expect(m.stats()).toMatchObject({ running: 1, waiting: 1 });
    expect(m.cancel('a')).toBe(true);
    expect(m.stats()).toMatchObject({ running: 1, waiting: 0, cancelled: 1 });
    const events = m.drain();
    expect(events.at(-1)).toMatchObject({ type: 'finished', req: { id: 'b' } });
    expect(m.stats().kvUsage).toBe(0);
    expect(m.cancel('nope')).toBe(false);
  });

  it('rejects a request that can never fit in the KV cache', () => {
    const m = new GpuModel({ ...base, kvBlocks: 4, blockSize: 4 });
    expect(() => m.submit({ id: 'big', tokens: words(16), maxOutputTokens: 1 })).toThrow(
      RangeError,
    );
  });
});
