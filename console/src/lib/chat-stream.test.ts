import { describe, expect, it } from 'vitest';
import { gatewayHeaders, readChatStream } from './chat-stream.ts';

/** A body that arrives in the given pieces (cut anywhere, as the network does). */
function body(pieces: string[]): ReadableStream<Uint8Array<ArrayBuffer>> {
  const bytes = pieces.map((p) => new TextEncoder().encode(p));
  return new ReadableStream({
    pull(controller) {
      const next = bytes.shift();
      if (next) controller.enqueue(next);
      else controller.close();
    },
  });
}

const chunk = (content: string, finish: string | null = null) =>
  `data: ${JSON.stringify({ choices: [{ index: 0, delta: { content }, finish_reason: finish }] })}\n\n`;

describe('readChatStream', () => {
  it('hands on each delta as it arrives, keeps the usage and sees [DONE]', async () => {
    const wire =
      chunk('Hel') +
      chunk('lo, ') +
      chunk('world', 'stop') +
      `data: ${JSON.stringify({ choices: [], usage: { prompt_tokens: 4, completion_tokens: 3, total_tokens: 7 } })}\n\n` +
      'data: [DONE]\n\n';
    // Cut in the middle of events, of a field name and of a multi-byte character's neighbours.
    const pieces = [wire.slice(0, 7), wire.slice(7, 50), wire.slice(50, 51), wire.slice(51)];
    const seen: string[] = [];
    const result = await readChatStream(body(pieces), (delta, soFar) =>
      seen.push(`${delta}|${soFar}`),
    );
    expect(seen).toEqual(['Hel|Hel', 'lo, |Hello, ', 'world|Hello, world']);
    expect(result).toEqual({
      text: 'Hello, world',
      finishReason: 'stop',
      usage: { prompt_tokens: 4, completion_tokens: 3, total_tokens: 7 },
      error: null,
      done: true,
    });
  });

  it("reports the gateway's in-stream error event and a stream cut before [DONE]", async () => {
    const failed = await readChatStream(
      body([
        chunk('partial'),
        `data: ${JSON.stringify({ error: { message: 'upstream reset', code: 'upstream_error' } })}\n\n`,
      ]),
      () => {},
    );
    expect(failed).toMatchObject({
      text: 'partial',
      done: false,
      error: { message: 'upstream reset', code: 'upstream_error' },
    });
    const cut = await readChatStream(body([chunk('a'), 'data: {"choi']), () => {});
    expect(cut).toMatchObject({ text: 'a', done: false, error: null });
  });
});

describe('gatewayHeaders', () => {
  it('keeps what tells what happened, sorted', () => {
    const h = new Headers({
      'x-gateway-provider': 'openai',
      'content-type': 'text/event-stream',
      'x-ratelimit-remaining-requests': '59',
      'x-request-id': 'r1',
      'set-cookie': 'a=b',
    });
    expect(gatewayHeaders(h)).toEqual([
      ['x-gateway-provider', 'openai'],
      ['x-ratelimit-remaining-requests', '59'],
      ['x-request-id', 'r1'],
    ]);
  });
});
