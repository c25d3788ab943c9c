import { describe, expect, it, vi } from 'vitest';
import { chunks, EventBatcher } from './batcher.ts';
import { usageEventFrom } from './event.ts';

const event = (i: number) =>
  usageEventFrom(
    {
      request_id: `r${i}`,
      method: 'POST',
      path: '/v1/chat/completions',
      status: 200,
      latency_ms: i,
    },
    0,
    `id-${i}`,
  );

/** A queue producer that records its calls and fails the first `failures` of them. */
function recordingQueue(failures = 0) {
  const calls: string[][] = [];
  let failed = 0;
  return {
    calls,
    sendBatch: async (messages: Iterable<MessageSendRequest<ReturnType<typeof event>>>) => {
      if (failed < failures) {
        failed++;
        throw new Error('Queue send failed: 500');
      }
      calls.push([...messages].map((m) => m.body.request_id));
    },
  };
}

const options = { batchSize: 100, flushMs: 5, sendAttempts: 3, retryDelayMs: 1 };

describe('EventBatcher', () => {
  it('sends the events of one window in one sendBatch; only the first add waits for it', async () => {
    const queue = recordingQueue();
    const batcher = new EventBatcher(queue, options);
    const first = batcher.add(event(0));
    const others = [1, 2, 3].map((i) => batcher.add(event(i)));
    let othersDone = false;
    await Promise.all(others).then(() => {
      othersDone = true;
    });
    expect(othersDone).toBe(true);
    expect(queue.calls).toEqual([]); // nothing sent before the window closes
    await first;
    expect(queue.calls).toEqual([['r0', 'r1', 'r2', 'r3']]);
    expect(batcher.stats).toEqual({ sent: 4, dropped: 0, pending: 0 });
  });

  it('a full batch goes at once, and the next window starts empty', async () => {
    const queue = recordingQueue();
    const batcher = new EventBatcher(queue, { ...options, batchSize: 3 });
    const windows = [0, 1, 2, 3, 4].map((i) => batcher.add(event(i)));
    await Promise.all(windows);
    expect(queue.calls).toEqual([
      ['r0', 'r1', 'r2'],
      ['r3', 'r4'],
    ]);
  });

  it('retries a refused sendBatch, then counts and logs what it gives up', async () => {
    const errors = vi.spyOn(console, 'error').mockImplementation(() => undefined);
    try {
      const flaky = recordingQueue(2);
      const ok = new EventBatcher(flaky, options);
      await ok.add(event(0));
      expect(flaky.calls).toEqual([['r0']]);
      expect(ok.stats.dropped).toBe(0);

      const down = recordingQueue(10);
      const batcher = new EventBatcher(down, options);
      await Promise.all([batcher.add(event(1)), batcher.add(event(2))]);
      expect(batcher.stats).toEqual({ sent: 0, dropped: 2, pending: 0 });
      const line = JSON.parse(String(errors.mock.calls.at(-1)?.[0]));
      expect(line).toMatchObject({
        msg: expect.stringContaining('dropped'),
        dropped: 2,
        attempts: 3,
      });
    } finally {
      errors.mockRestore();
    }
  });
});

describe('chunks', () => {
  it('keeps each sendBatch within 100 messages and 256 KB', () => {
    const big = Array.from({ length: 250 }, (_, i) => ({
      ...event(i),
      failures: ['x'.repeat(3_000)],
    }));
    const out = chunks(big, 100);
    expect(out.flat().map((e) => e.id)).toEqual(big.map((e) => e.id));
    for (const c of out) {
      expect(c.length).toBeLessThanOrEqual(100);
      expect(JSON.stringify(c).length).toBeLessThanOrEqual(256_000);
    }
    expect(out.length).toBeGreaterThan(3);
  });
});
