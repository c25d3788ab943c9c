/**
 * The picking policies on crafted endpoint states (pure: no servers, no clock).
 */
import { describe, expect, it } from 'vitest';
import { schedulerSchema } from '../../origin/src/config.ts';
import { createPolicy } from '../../origin/src/policy/index.ts';
import { type EndpointView, estimateLoad } from '../../origin/src/policy/load.ts';
import { blockHashes, PrefixIndex, promptText } from '../../origin/src/policy/prefix-index.ts';
import {
  type Candidate,
  choose,
  scoreCandidates,
  withinLoadBound,
} from '../../origin/src/policy/scheduler.ts';

const SCHED = schedulerSchema.parse({});
const NOW = 10_000;

const cand = (id: string, load: number, prefixBlocks = 0, kvUsage?: number): Candidate => ({
  id,
  estimate: { load, waiting: 0, kvUsage, fresh: true },
  prefixBlocks,
});

const view = (
  id: string,
  inflight: number,
  scraped?: Partial<NonNullable<EndpointView['scraped']>>,
): EndpointView => ({
  id,
  inflight,
  scraped: scraped
    ? { at: NOW, inflightAtScrape: inflight, running: 0, waiting: 0, kvUsage: 0, ...scraped }
    : undefined,
});

describe('load estimate (scrape + own in-flight count)', () => {
  it('adds what this router sent since the scrape and removes what finished', () => {
    const e = view('a', 5, { running: 8, waiting: 2, inflightAtScrape: 3 });
    expect(estimateLoad(e, NOW, 1_000)).toEqual({ load: 12, waiting: 4, kvUsage: 0, fresh: true });
    const fewer = view('a', 1, { running: 8, waiting: 2, inflightAtScrape: 3 });
    expect(estimateLoad(fewer, NOW, 1_000)).toMatchObject({ load: 8, waiting: 2 });
  });

  it('falls back to the in-flight count when the scrape is stale or missing', () => {
    const stale = view('a', 3, { running: 50, waiting: 20 });
    expect(estimateLoad(stale, NOW + 5_000, 1_000)).toEqual({
      load: 3,
      waiting: 0,
      kvUsage: undefined,
      fresh: false,
    });
    expect(estimateLoad(view('b', 2), NOW, 1_000).load).toBe(2);
  });

  it('never reports less than this router alone has outstanding (TEI: no running count)', () => {
    const tei = view('t', 6, { running: undefined, waiting: 1, inflightAtScrape: 6 });
    expect(estimateLoad(tei, NOW, 1_000).load).toBe(6);
  });
});

describe('scheduler scoring', () => {
  it('prefers the endpoint holding the prompt prefix over an idler one', () => {
    const pick = choose([cand('a', 0), cand('b', 3, 40), cand('c', 1)], 42, SCHED);
    expect(pick).toBe('b');
  });

  it('without a prefix match, picks the shortest queue', () => {
    expect(choose([cand('a', 5), cand('b', 2), cand('c', 7)], 10, SCHED)).toBe('b');
  });

  it('breaks queue ties by KV cache pressure', () => {
    expect(choose([cand('a', 2, 0, 0.9), cand('b', 2, 0, 0.2)], 10, SCHED)).toBe('b');
  });

  it('bounds load: a prefix holder far above the mean is skipped', () => {
    // mean 5.25, bound max(1 + 4, 5.25 × 1.5) = 7.9: the holder at 18 is out.
    const cands = [cand('hot', 18, 40), cand('a', 1), cand('b', 1), cand('c', 1)];
    expect(withinLoadBound(cands, SCHED.loadBound).map((c) => c.id)).toEqual(['a', 'b', 'c']);
    expect(choose(cands, 42, SCHED, () => 0)).toBe('a');
    // Within the bound it still wins.
    expect(choose([cand('hot', 5, 40), cand('a', 1)], 42, SCHED)).toBe('hot');
  });

  it('partial prefix matches rank by length', () => {
    expect(choose([cand('short', 2, 5), cand('long', 2, 30)], 40, SCHED)).toBe('long');
  });

  it('scores are documented weighted sums', () => {
    const [a, b] = scoreCandidates([cand('a', 0, 10, 0.5), cand('b', 4, 0, 0.1)], 20, {
      prefix: 3,
      queue: 2,
      kv: 1,
    });
    expect(a).toMatchObject({ prefix: 0.5, queue: 1, kv: 0.5, score: 1.5 + 2 + 0.5 });
    expect(b).toMatchObject({ prefix: 0, queue: 0, kv: 0.9, score: 0.9 });
  });

  it('ties go to random among equals', () => {
    const cands = [cand('a', 1), cand('b', 1)];
    expect(choose(cands, 0, SCHED, () => 0)).toBe('a');
    expect(choose(cands, 0, SCHED, () => 0.99)).toBe('b');
    expect(choose([], 0, SCHED)).toBeUndefined();
  });
});

describe('prefix index', () => {
  const system = 'You are a careful assistant. '.repeat(20);

  it('hashes full blocks, chained: equal prefixes give equal leading hashes', () => {
    const a = blockHashes(`${system}${'question one '.repeat(10)}`, 64, 256);
    const b = blockHashes(`${system}${'another question '.repeat(10)}`, 64, 256);
    expect(a.length).toBe(Math.floor((system.length + 130) / 64));
    const shared = Math.floor(system.length / 64);
    expect(a.slice(0, shared)).toEqual(b.slice(0, shared));
    expect(a[shared]).not.toBe(b[shared]);
    // Same block text at another position hashes differently (the chain covers the past).
    const repeated = blockHashes('x'.repeat(128), 64, 256);
    expect(repeated[0]).not.toBe(repeated[1]);
    expect(blockHashes('short', 64, 256)).toEqual([]);
    expect(blockHashes('y'.repeat(640), 64, 3)).toHaveLength(3);
  });

  it('reads chat messages, completion prompts and content parts', () => {
    expect(
      promptText({
        messages: [
          { role: 'system', content: 'S' },
          { role: 'user', content: [{ type: 'text', text: 'U' }] },
        ],
      }),
    ).toBe('<system>S\n<user>U\n');
    expect(promptText({ prompt: 'P' })).toBe('P');
    expect(promptText({})).toBe('');
  });

  it('matches leading blocks per endpoint and evicts least recently used blocks', () => {
    const index = new PrefixIndex(5);
    const p1 = [1, 2, 3, 4];
    const p2 = [1, 2, 9];
    index.record(p1, 'a');
    index.record([7, 8], 'b');
    expect(Object.fromEntries(index.match(p1, ['a', 'b', 'c']))).toEqual({ a: 4, b: 0, c: 0 });
    expect(index.match(p2, ['a']).get('a')).toBe(2);
    // 'a' holds 5 blocks at most: recording p3 evicts p1's tail, never the freshly used head.
    index.record([1, 2, 5, 6], 'a');
    expect(index.blocksOf('a')).toBe(5);
    expect(index.match([1, 2, 5, 6], ['a']).get('a')).toBe(4);
    expect(index.match(p1, ['a']).get('a')).toBe(3);
    index.remove('a');
    expect(index.match(p1, ['a']).get('a')).toBe(0);
  });
});

describe('policies over endpoint views', () => {
  const opts = { scheduler: SCHED, staleAfterMs: 1_000 };

  it('round-robin cycles in a stable order, skipping what is not offered', () => {
    const rr = createPolicy('round-robin', opts);
    const all = [view('c', 0), view('a', 9), view('b', 0)];
    const picks = Array.from({ length: 6 }, () => rr.pick(all, { hashes: [] }, NOW));
    expect(picks).toEqual(['a', 'b', 'c', 'a', 'b', 'c']);
    expect(rr.pick([], { hashes: [] }, NOW)).toBeUndefined();
  });

  it('least-request picks the fewest in flight, whatever the scrape says', () => {
    const lr = createPolicy('least-request', { ...opts, random: () => 0 });
    const all = [view('a', 4, { waiting: 0 }), view('b', 1, { waiting: 30 }), view('c', 2)];
    expect(lr.pick(all, { hashes: [] }, NOW)).toBe('b');
  });

  it('scheduler: requests sharing a prefix follow the first one, until it is overloaded', () => {
    const s = createPolicy('scheduler', { ...opts, random: () => 0 });
    const hashes = blockHashes(`${'shared system prompt '.repeat(40)}q`, 64, 256);
    const views = [view('a', 0, {}), view('b', 0, {}), view('c', 0, {})];
    const first = s.pick(views, { hashes }, NOW)!;
    s.commit(first, { hashes });
    // The holder has more load than the others, but within the bound: it keeps the prefix.
    const busier = views.map((v) =>
      v.id === first ? view(v.id, 2, { running: 2, inflightAtScrape: 2 }) : v,
    );
    expect(s.pick(busier, { hashes }, NOW)).toBe(first);
    // Overloaded (load 12 vs 0, 0): the bound sends the request elsewhere.
    const hot = views.map((v) =>
      v.id === first ? view(v.id, 12, { running: 8, waiting: 4, inflightAtScrape: 12 }) : v,
    );
    expect(s.pick(hot, { hashes }, NOW)).not.toBe(first);
    // A forgotten endpoint (restarted server) has no prefix any more.
    s.forget(first);
    const other = views.find((v) => v.id !== first)!.id;
    s.commit(other, { hashes });
    expect(s.pick(busier, { hashes }, NOW)).toBe(other);
  });

  it('scheduler: KV pressure and waiting queues from the scrape count', () => {
    const s = createPolicy('scheduler', { ...opts, random: () => 0 });
    const views = [
      view('a', 1, { running: 1, waiting: 6, kvUsage: 0.9 }),
      view('b', 1, { running: 4, waiting: 0, kvUsage: 0.3 }),
    ];
    expect(s.pick(views, { hashes: [] }, NOW)).toBe('b');
  });
});
