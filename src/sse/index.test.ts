import { describe, expect, it } from 'vitest';
import { encodeEvent, sseReader } from './index.ts';

const bytes = (...parts: string[]) =>
  new ReadableStream<Uint8Array>({
    start(controller) {
      for (const part of parts) controller.enqueue(new TextEncoder().encode(part));
      controller.close();
    },
  });

async function collect(stream: ReadableStream<Uint8Array>) {
  const reader = sseReader(stream);
  const out: { data: string; event?: string | undefined }[] = [];
  for (;;) {
    const { done, value } = await reader.read();
    if (done) return out;
    out.push({ data: value.data, event: value.event });
  }
}

describe('sseReader', () => {
  it('joins events split across chunks, handles CRLF, comments and multi-line data', async () => {
    const events = await collect(
      bytes(
        'data: {"a"',
        ':1}\r\n\r\n: keep-alive\n\nevent: ping\ndata: x\ndata: y\n\n',
        'data: [DONE]\n\n',
      ),
    );
    expect(events).toEqual([
      { data: '{"a":1}', event: undefined },
      { data: 'x\ny', event: 'ping' },
      { data: '[DONE]', event: undefined },
    ]);
  });

  it('splits a UTF-8 character cut between chunks correctly', async () => {
    const encoded = new TextEncoder().encode('data: héllo 🌍\n\n');
    const stream = new ReadableStream<Uint8Array>({
      start(controller) {
        controller.enqueue(encoded.slice(0, 9));
        controller.enqueue(encoded.slice(9, 14));
        controller.enqueue(encoded.slice(14));
        controller.close();
      },
    });
    expect(await collect(stream)).toEqual([{ data: 'héllo 🌍', event: undefined }]);
  });
});

describe('encodeEvent', () => {
  it('writes the canonical OpenAI framing', () => {
    const text = (u: Uint8Array) => new TextDecoder().decode(u);
    expect(text(encodeEvent('{"a":1}'))).toBe('data: {"a":1}\n\n');
    expect(text(encodeEvent('a\nb', 'error'))).toBe('event: error\ndata: a\ndata: b\n\n');
  });
});
