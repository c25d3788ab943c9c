/**
 * A router-side, approximate index of which endpoint likely holds which prompt prefix in its
 * KV cache (the idea of llm-d's and the Gateway API Inference Extension's prefix-cache
 * scorer): prompts are cut into fixed-size character blocks, each block hashed together with
 * the hash of everything before it, and every endpoint remembers the block hashes of the
 * prompts recently sent to it, in an LRU sized like its cache. Pure (no I/O, no clock).
 */

/** The text a request's prompt is made of, in order: roles and contents of the messages. */
export function promptText(body: Record<string, unknown>): string {
  const { messages, prompt, input } = body;
  if (Array.isArray(messages)) {
    let out = '';
    for (const m of messages as { role?: unknown; content?: unknown }[]) {
      const content = Array.isArray(m?.content)
        ? (m.content as { text?: unknown }[])
            .map((p) => (typeof p?.text === 'string' ? p.text : ''))
            .join('\n')
        : typeof m?.content === 'string'
          ? m.content
          : '';
      out += `<${String(m?.role ?? '')}>${content}\n`;
    }
    return out;
  }
  if (typeof prompt === 'string') return prompt;
  if (Array.isArray(prompt)) return prompt.map(String).join('\n');
  if (typeof input === 'string') return input;
  return '';
}

/**
 * Chained hashes of the full `charsPerBlock` blocks of `text` (a partial last block is not
 * hashed: servers cache full blocks only), at most `maxBlocks`. 53-bit numbers from two
 * 32-bit FNV-1a lanes; block i's hash covers blocks 0..i.
 */
export function blockHashes(text: string, charsPerBlock: number, maxBlocks: number): number[] {
  const out: number[] = [];
  let a = 0x811c9dc5;
  let b = 0x01000193 ^ 0x5bd1e995;
  for (let start = 0; start + charsPerBlock <= text.length && out.length < maxBlocks; ) {
    const end = start + charsPerBlock;
    for (let i = start; i < end; i++) {
      const c = text.charCodeAt(i);
      a = Math.imul(a ^ c, 0x01000193);
      b = Math.imul(b ^ c, 0x5bd1e995) ^ (b >>> 13);
    }
    out.push((a >>> 0) * 0x200000 + ((b >>> 0) & 0x1fffff));
    start = end;
  }
  return out;
}

export class PrefixIndex {
  /** block hash → endpoints holding it. */
  private readonly holders = new Map<number, Set<string>>();
  /** endpoint → its block hashes, least recently used first. */
  private readonly lru = new Map<string, Map<number, true>>();
  private readonly capacity: number;

  constructor(capacityPerEndpoint: number) {
    this.capacity = capacityPerEndpoint;
  }

  /** For each endpoint, how many leading blocks of `hashes` it holds (0 when none). */
  match(hashes: readonly number[], endpoints: readonly string[]): Map<string, number> {
    const matched = new Map<string, number>();
    let alive = endpoints.filter((id) => this.lru.has(id));
    for (const id of endpoints) matched.set(id, 0);
    for (let i = 0; i < hashes.length && alive.length > 0; i++) {
      const holders = this.holders.get(hashes[i]!);
      if (!holders) break;
      alive = alive.filter((id) => holders.has(id));
      for (const id of alive) matched.set(id, i + 1);
    }
    return matched;
  }

  /** Remembers that `endpoint` now holds these blocks (most recently used). */
  record(hashes: readonly number[], endpoint: string): void {
    let blocks = this.lru.get(endpoint);
    if (!blocks) {
      blocks = new Map();
      this.lru.set(endpoint, blocks);
    }
    // Tail first, head last: the head of a prefix (shared by the most prompts) is the most
    // recently used block, so eviction takes tails first, as the servers' caches do.
    for (let i = hashes.length - 1; i >= 0; i--) {
      const h = hashes[i]!;
      if (blocks.has(h)) blocks.delete(h);
      blocks.set(h, true);
      let holders = this.holders.get(h);
      if (!holders) {
        holders = new Set();
        this.holders.set(h, holders);
      }
      holders.add(endpoint);
    }
    while (blocks.size > this.capacity) {
      const oldest = blocks.keys().next().value as number;
      blocks.delete(oldest);
      this.drop(oldest, endpoint);
    }
  }

  /** Forgets an endpoint (removed from the pool, or its server restarted). */
  remove(endpoint: string): void {
    const blocks = this.lru.get(endpoint);
    if (!blocks) return;
    for (const h of blocks.keys()) this.drop(h, endpoint);
    this.lru.delete(endpoint);
  }

  blocksOf(endpoint: string): number {
    return this.lru.get(endpoint)?.size ?? 0;
  }

  private drop(hash: number, endpoint: string): void {
    const holders = this.holders.get(hash);
    holders?.delete(endpoint);
    if (holders?.size === 0) this.holders.delete(hash);
  }
}
