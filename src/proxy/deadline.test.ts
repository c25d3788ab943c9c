import { describe, expect, it } from 'vitest';
import { Deadline, UpstreamTimeout } from './deadline.ts';

const never = () => new Promise<never>(() => {});

describe('Deadline', () => {
  it('passes a value through and leaves the upstream alone', async () => {
    const abort = new AbortController();
    const deadline = new Deadline(abort);
    await expect(deadline.race(Promise.resolve('ok'), 50)).resolves.toBe('ok');
    await expect(deadline.race(Promise.reject(new Error('boom')), 50)).rejects.toThrow('boom');
    deadline.clear();
    expect(abort.signal.aborted).toBe(false);
  });

  it('times out a silent read: rejects and aborts the upstream', async () => {
    const abort = new AbortController();
    const race = new Deadline(abort).race(never(), 20);
    await expect(race).rejects.toBeInstanceOf(UpstreamTimeout);
    expect(abort.signal.reason).toBeInstanceOf(UpstreamTimeout);
  });

  it('still times out after many settled races share its timer', async () => {
    const abort = new AbortController();
    const deadline = new Deadline(abort);
    for (let i = 0; i < 10; i++) await deadline.race(Promise.resolve(i), 20);
    await expect(deadline.race(never(), 20)).rejects.toBeInstanceOf(UpstreamTimeout);
  });

  it('a shorter race after a longer one gets the shorter deadline', async () => {
    const deadline = new Deadline(new AbortController());
    void deadline.race(never(), 60_000).catch(() => {});
    await expect(deadline.race(never(), 20)).rejects.toBeInstanceOf(UpstreamTimeout);
    deadline.clear();
  });

  it('re-arms when its timer fires before the current race is due', async () => {
    let clock = 0; // the deadline's clock; real timers still drive it
    const deadline = new Deadline(new AbortController(), () => clock);
    await deadline.race(Promise.resolve(), 30); // arms a 30 ms timer, due at 30
    clock = 20;
    let settled = false;
    const race = deadline.race(never(), 30).catch(() => {
      settled = true;
    }); // due at 50: the armed timer is kept
    await new Promise((resolve) => setTimeout(resolve, 60)); // it fired (maybe again): not due
    expect(settled).toBe(false);
    clock = 100; // past due: the re-armed timer expires the race
    await race;
    expect(settled).toBe(true);
  });
});
