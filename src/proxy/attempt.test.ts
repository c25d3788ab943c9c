import { afterEach, describe, expect, it, vi } from 'vitest';
import type { Provider } from '../providers/index.ts';
import { tripsCircuit } from '../routing/index.ts';
import { attemptUpstream, MAX_ANSWER_BYTES } from './attempt.ts';

const provider = {
  id: 'p',
  kind: 'openai',
  zones: [],
  timeouts: { firstByteMs: 10_000, idleMs: 10_000 },
  secrets: [],
  streamUsage: true,
  speaksOpenAI: true,
} as unknown as Provider;
const request = { url: 'http://upstream.test/v1/embeddings', headers: new Headers(), body: '{}' };

afterEach(() => {
  vi.restoreAllMocks();
});

describe('a JSON answer larger than MAX_ANSWER_BYTES', () => {
  it('is refused with a 502 that says so, the rest never read, and the target not blamed', async () => {
    // an upstream that never stops: whitespace, 1 MiB a pull
    const chunk = new Uint8Array(2 ** 20).fill(0x20);
    let pulls = 0;
    let cancelled = false;
    const endless = new ReadableStream<Uint8Array>({
      pull(controller) {
        pulls++;
        controller.enqueue(chunk.slice());
      },
      cancel() {
        cancelled = true;
      },
    });
    vi.spyOn(globalThis, 'fetch').mockResolvedValue(new Response(endless, { status: 200 }));

    const result = await attemptUpstream(provider, request, false, undefined);

    expect(result).toMatchObject({
      ok: false,
      failure: {
        reason: 'bad_response',
        action: 'reject',
        status: 502,
        upstreamError: { type: 'server_error', code: 'upstream_answer_too_large' },
      },
    });
    if (result.ok) return;
    expect(result.failure.upstreamError?.message).toContain('64 MiB');
    await vi.waitFor(() => expect(cancelled).toBe(true));
    // what was read is the cap and the little a stream reads ahead, not the endless rest
    expect(pulls).toBeGreaterThan(MAX_ANSWER_BYTES / chunk.length);
    expect(pulls).toBeLessThanOrEqual(MAX_ANSWER_BYTES / chunk.length + 4);
    expect(tripsCircuit(result.failure, 'openai')).toBe(false);
  });
});
