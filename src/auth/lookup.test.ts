import { describe, expect, it } from 'vitest';
import { digestKey, type KeyRecord } from './keys.ts';
import { KeyLookup } from './lookup.ts';
import type { KeyStore } from './store.ts';

/** A store whose answer the test changes (a revocation), counting the reads it serves. */
function store(initial: KeyRecord | null) {
  let current = initial;
  const reads: string[] = [];
  const fake = {
    findByDigest: async (digest: string) => {
      reads.push(digest);
      return current;
    },
  } as unknown as KeyStore;
  return { fake, reads, set: (r: KeyRecord | null) => (current = r) };
}

const record = { id: 'key_1' } as KeyRecord;

describe('KeyLookup', () => {
  it('trusts a cached answer for exactly ttlMs, then asks the store again', async () => {
    let now = 1_000;
    const s = store(record);
    const lookup = new KeyLookup(s.fake, 500, () => now);
    expect(await lookup.find('sk-gw-a')).toBe(record);
    s.set(null); // revoked in Redis
    now = 1_499;
    expect(await lookup.find('sk-gw-a')).toBe(record);
    expect(s.reads).toHaveLength(1);
    now = 1_500;
    expect(await lookup.find('sk-gw-a')).toBeNull();
    expect(s.reads).toEqual([await digestKey('sk-gw-a'), await digestKey('sk-gw-a')]);
  });

  it('forget() drops the key at once', async () => {
    const s = store(record);
    const lookup = new KeyLookup(s.fake, 60_000, () => 0);
    await lookup.find('sk-gw-a');
    s.set(null);
    lookup.forget('key_1');
    expect(await lookup.find('sk-gw-a')).toBeNull();
  });
});
