// The simulator's timing model: a continuous-batching scheduler over simulated time (ms).
// Pure and deterministic: the server drives it with real timers, tests with advance()/drain().
//
// - Running batch of at most maxBatch requests, FIFO waiting queue with head-of-line blocking
//   (vLLM's FCFS policy).
// - KV cache of kvBlocks × blockSize tokens, allocated lazily as tokens are produced. When a
//   decode step finds no free block, the most recently admitted request is preempted: it frees
//   its blocks and goes back to the head of the queue, to recompute prompt+output on readmission.
// - Prefix cache: full prompt blocks are keyed by a chained hash (parent hash, block tokens);
//   blocks no request holds stay cached and are evicted least recently released first.
// - Prefill runs on one serial lane (prefill is compute-bound, so concurrent prefills queue);
//   its cost is the uncached tokens × prefillMsPerToken, scaled up with the running batch.
//   Each decode step costs decodeMsPerToken × (1 + decodeBatchSlowdown × (running − 1)).
import { createHash } from 'node:crypto';

export interface ModelConfig {
  maxBatch: number;
  kvBlocks: number;
  blockSize: number;
  prefillMsPerToken: number;
  prefillBatchSlowdown: number;
  decodeMsPerToken: number;
  decodeBatchSlowdown: number;
  prefixCaching: boolean;
}

export interface SubmitRequest {
  id: string;
  tokens: readonly string[];
  /** 0 for embedding requests: they finish when prefill ends. */
  maxOutputTokens: number;
}

export interface RequestView {
  readonly id: string;
  readonly promptTokens: number;
  readonly maxOutputTokens: number;
  readonly arrivedAt: number;
  readonly admittedAt: number | undefined;
  readonly firstTokenAt: number | undefined;
  readonly generated: number;
  /** Prompt tokens served from the prefix cache at (last) admission. */
  readonly cachedTokens: number;
}

export type SimEvent =
  | { type: 'token'; at: number; req: RequestView; itlMs: number | undefined }
  | { type: 'finished'; at: number; req: RequestView };

export interface ModelStats {
  running: number;
  waiting: number;
  kvUsedBlocks: number;
  kvCachedBlocks: number;
  kvCapacityBlocks: number;
  /** Held blocks / capacity, 0..1 (cached blocks nobody holds count as free, as in vLLM). */
  kvUsage: number;
  promptTokens: number;
  generationTokens: number;
  prefixQueryTokens: number;
  prefixHitTokens: number;
  reusedBlocks: number;
  missedBlocks: number;
  preemptions: number;
  finished: number;
  cancelled: number;
}

interface Req {
  id: string;
  tokens: readonly string[];
  hashes: string[];
  maxOutputTokens: number;
  arrivedAt: number;
  admittedAt: number | undefined;
  firstTokenAt: number | undefined;
  lastTokenAt: number | undefined;
  generated: number;
  cachedTokens: number;
  prefilled: boolean;
  nextAt: number;
  held: string[];
  privateBlocks: number;
  admitOrder: number;
}

export class GpuModel {
  readonly cfg: ModelConfig;
  private now = 0;
  private laneFreeAt = 0;
  private admitSeq = 0;
  private readonly waiting: Req[] = [];
  private readonly running: Req[] = [];
  /** hash → number of running requests holding the block. */
  private readonly cache = new Map<string, number>();
  /** Cached blocks with no holder, in eviction (LRU) order. */
  private readonly evictable = new Set<string>();
  private sharedHeld = 0;
  private privateHeld = 0;
  private readonly counters = {
    promptTokens: 0,
    generationTokens: 0,
    prefixQueryTokens: 0,
    prefixHitTokens: 0,
    reusedBlocks: 0,
    missedBlocks: 0,
    preemptions: 0,
    finished: 0,
    cancelled: 0,
  };

  constructor(cfg: ModelConfig) {
    this.cfg = cfg;
  }

  get time(): number {
    return this.now;
  }

  /** Queues a request at the model's current time (advance() to the present first). */
  submit(r: SubmitRequest): void {
    if (r.tokens.length === 0) throw new RangeError('empty prompt');
    // Admission reserves room for at least one more token, even for embeddings.
    if (this.blocksFor(r.tokens.length + Math.max(1, r.maxOutputTokens)) > this.cfg.kvBlocks) {
      throw new RangeError(
        `prompt (${r.tokens.length} tokens) + max_tokens (${r.maxOutputTokens}) exceeds the KV cache (${this.cfg.kvBlocks * this.cfg.blockSize} tokens)`,
      );
    }
    this.waiting.push({
      id: r.id,
      tokens: r.tokens,
      hashes: this.cfg.prefixCaching ? blockHashes(r.tokens, this.cfg.blockSize) : [],
      maxOutputTokens: r.maxOutputTokens,
      arrivedAt: this.now,
      admittedAt: undefined,
      firstTokenAt: undefined,
      lastTokenAt: undefined,
      generated: 0,
      cachedTokens: 0,
      prefilled: false,
      nextAt: Number.POSITIVE_INFINITY,
      held: [],
      privateBlocks: 0,
      admitOrder: 0,
    });
    this.admit();
  }

  /** Drops a request (client left): frees its slot and blocks. Returns whether it was known. */
  cancel(id: string): boolean {
    const w = this.waiting.findIndex((r) => r.id === id);
    if (w >= 0) this.waiting.splice(w, 1);
    const r = this.running.find((x) => x.id === id);
    if (r) this.stop(r);
    if (w < 0 && !r) return false;
    this.counters.cancelled++;
    this.admit();
    return true;
  }

  nextEventTime(): number | undefined {
    let t: number | undefined;
    for (const r of this.running) if (t === undefined || r.nextAt < t) t = r.nextAt;
    return t;
  }

  /** Processes every event due at or before `to`, in time order, and moves the clock to `to`. */
  advance(to: number): SimEvent[] {
    const out: SimEvent[] = [];
    for (;;) {
      let next: Req | undefined;
      for (const r of this.running) if (!next || r.nextAt < next.nextAt) next = r;
      if (!next || next.nextAt > to) break;
      this.now = Math.max(this.now, next.nextAt);
      this.fire(next, out);
      this.admit();
    }
    this.now = Math.max(this.now, to);
    return out;
  }

  /** Runs until idle (nothing running): for tests. */
  drain(): SimEvent[] {
    const out: SimEvent[] = [];
    for (let t = this.nextEventTime(); t !== undefined; t = this.nextEventTime()) {
      out.push(...this.advance(t));
    }
    return out;
  }

  stats(): ModelStats {
    const used = this.sharedHeld + this.privateHeld;
    return {
      running: this.running.length,
      waiting: this.waiting.length,
      kvUsedBlocks: used,
      kvCachedBlocks: this.evictable.size,
      kvCapacityBlocks: this.cfg.kvBlocks,
      kvUsage: used / this.cfg.kvBlocks,
      ...this.counters,
    };
  }

  itlMs(): number {
    const { decodeMsPerToken, decodeBatchSlowdown } = this.cfg;
    return decodeMsPerToken * (1 + decodeBatchSlowdown * Math.max(0, this.running.length - 1));
  }

  private blocksFor(tokens: number): number {
    return Math.ceil(tokens / this.cfg.blockSize);
  }

  private admit(): void {
    while (this.waiting.length > 0 && this.running.length < this.cfg.maxBatch) {
      const r = this.waiting[0]!;
      if (!this.allocatePrompt(r)) return;
      this.waiting.shift();
      this.running.push(r);
      r.admittedAt ??= this.now;
      r.admitOrder = ++this.admitSeq;
      const uncached = r.tokens.length + r.generated - r.cachedTokens;
      const { prefillMsPerToken, prefillBatchSlowdown } = this.cfg;
      const cost =
        uncached * prefillMsPerToken * (1 + prefillBatchSlowdown * (this.running.length - 1));
      const start = Math.max(this.now, this.laneFreeAt);
      this.laneFreeAt = start + cost;
      r.nextAt = this.laneFreeAt;
    }
  }

  /** Takes blocks for the prompt (+ output so far) and the next token, or returns false. */
  private allocatePrompt(r: Req): boolean {
    const { blockSize } = this.cfg;
    const total = r.tokens.length + r.generated;
    let hit = 0;
    while (hit < r.hashes.length && this.cache.has(r.hashes[hit]!)) hit++;
    // Like vLLM, always compute at least the last prompt token.
    if (hit > 0 && hit * blockSize >= total) hit--;
    let reactivate = 0;
    let fresh = 0;
    for (const h of r.hashes) {
      if (!this.cache.has(h)) fresh++;
      else if (this.cache.get(h) === 0) reactivate++;
    }
    const priv = this.blocksFor(total + 1) - r.hashes.length;
    if (reactivate + fresh + priv > this.cfg.kvBlocks - this.sharedHeld - this.privateHeld) {
      return false;
    }
    // Reactivate cached blocks before allocating, so eviction cannot pick them.
    for (const h of r.hashes) {
      const refs = this.cache.get(h);
      if (refs === undefined) continue;
      if (refs === 0) {
        this.evictable.delete(h);
        this.sharedHeld++;
      }
      this.cache.set(h, refs + 1);
    }
    this.makeRoom(fresh + priv);
    for (const h of r.hashes) {
      if (this.cache.has(h)) continue;
      this.cache.set(h, 1);
      this.sharedHeld++;
    }
    r.held = [...r.hashes];
    r.privateBlocks = priv;
    this.privateHeld += priv;
    r.cachedTokens = hit * blockSize;
    this.counters.prefixQueryTokens += total;
    this.counters.prefixHitTokens += r.cachedTokens;
    this.counters.reusedBlocks += hit;
    this.counters.missedBlocks += r.hashes.length - hit;
    return true;
  }

  private free(): number {
    return this.cfg.kvBlocks - this.sharedHeld - this.privateHeld - this.evictable.size;
  }

  private makeRoom(n: number): void {
    for (const h of this.evictable) {
      if (this.free() >= n) return;
      this.evictable.delete(h);
      this.cache.delete(h);
    }
  }

  private fire(r: Req, out: SimEvent[]): void {
    if (!r.prefilled) {
      r.prefilled = true;
      if (r.generated === 0) this.counters.promptTokens += r.tokens.length;
      if (r.maxOutputTokens === 0) {
        this.finish(r, out);
        return;
      }
    }
    // One more token needs one more block whenever it crosses a block boundary.
    const needed = this.blocksFor(r.tokens.length + r.generated + 1) - r.hashes.length;
    while (r.privateBlocks < needed) {
      if (this.free() + this.evictable.size > 0) {
        this.makeRoom(1);
        r.privateBlocks++;
        this.privateHeld++;
        continue;
      }
      const victim = this.running.reduce((a, b) => (b.admitOrder > a.admitOrder ? b : a));
      this.preempt(victim);
      if (victim === r) return;
    }
    r.generated++;
    this.counters.generationTokens++;
    const itlMs = r.lastTokenAt === undefined ? undefined : this.now - r.lastTokenAt;
    r.firstTokenAt ??= this.now;
    r.lastTokenAt = this.now;
    out.push({ type: 'token', at: this.now, req: view(r), itlMs });
    if (r.generated >= r.maxOutputTokens) this.finish(r, out);
    else r.nextAt = this.now + this.itlMs();
  }

  private finish(r: Req, out: SimEvent[]): void {
    this.stop(r);
    this.counters.finished++;
    out.push({ type: 'finished', at: this.now, req: view(r) });
  }

  private preempt(r: Req): void {
    this.stop(r);
    r.prefilled = false;
    r.nextAt = Number.POSITIVE_INFINITY;
    this.waiting.unshift(r);
    this.counters.preemptions++;
  }

  /** Removes a running request and releases its blocks. */
  private stop(r: Req): void {
    this.running.splice(this.running.indexOf(r), 1);
    // Release tail blocks first so they are evicted before the shared head of the prefix.
    for (const h of [...r.held].reverse()) {
      const refs = (this.cache.get(h) ?? 1) - 1;
      this.cache.set(h, refs);
      if (refs === 0) {
        this.evictable.add(h);
        this.sharedHeld--;
      }
    }
    this.privateHeld -= r.privateBlocks;
    r.held = [];
    r.privateBlocks = 0;
  }
}

function view(r: Req): RequestView {
  return {
    id: r.id,
    promptTokens: r.tokens.length,
    maxOutputTokens: r.maxOutputTokens,
    arrivedAt: r.arrivedAt,
    admittedAt: r.admittedAt,
    firstTokenAt: r.firstTokenAt,
    generated: r.generated,
    cachedTokens: r.cachedTokens,
  };
}

/** Chained hashes of the full blocks of a token sequence (like vLLM's prefix caching). */
export function blockHashes(tokens: readonly string[], blockSize: number): string[] {
  const out: string[] = [];
  let parent = '';
  for (let i = 0; i + blockSize <= tokens.length; i += blockSize) {
    parent = createHash('sha1')
      .update(parent)
      .update('\0')
      .update(tokens.slice(i, i + blockSize).join('\u0001'))
      .digest('base64');
    out.push(parent);
  }
  return out;
}

/** Cheap deterministic tokenizer: words and punctuation, words split into ≤ 4-char pieces. */
export function tokenize(text: string): string[] {
  const out: string[] = [];
  for (const m of text.match(/\w+|[^\w\s]/g) ?? []) {
    for (let i = 0; i < m.length; i += 4) out.push(m.slice(i, i + 4));
  }
  return out;
}

/** mulberry32: small seeded PRNG returning floats in [0, 1). */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
