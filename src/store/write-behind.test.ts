import { describe, expect, it } from 'vitest';
import type { Redis } from './redis.ts';
import { writeBehind } from './write-behind.ts';

const client = () => ({}) as Redis; // writeBehind only keys its window by the client

describe('writeBehind', () => {
  it('starts the jobs of one window together; the first holds the window', async () => {
    const redis = client();
    const started: string[] = [];
    let finished = 0;
    const job = (name: string) => async () => {
      started.push(name);
      await Promise.resolve();
      finished++;
    };
    const first = writeBehind(redis, job('a'));
    const joiners = [writeBehind(redis, job('b')), writeBehind(redis, job('c'))];
    await Promise.all(joiners); // settled at once: nothing of theirs waits on the window
    expect(started).toEqual([]);
    await first; // the opener's promise: every job started in order and finished
    expect(started).toEqual(['a', 'b', 'c']);
    expect(finished).toBe(3);
  });

  it('a failing job does not stop the others; a new window opens after a flush', async () => {
    const redis = client();
    let ran = 0;
    const first = writeBehind(redis, () => Promise.reject(new Error('redis down')));
    void writeBehind(redis, async () => {
      ran++;
    });
    await expect(first).resolves.toBeUndefined();
    expect(ran).toBe(1);
    await writeBehind(redis, async () => {
      ran++;
    });
    expect(ran).toBe(2);
  });

  it('windows are per client', async () => {
    const [one, two] = [client(), client()];
    let ran = 0;
    const count = async () => {
      ran++;
    };
    await Promise.all([writeBehind(one, count), writeBehind(two, count)]);
    expect(ran).toBe(2);
  });
});
