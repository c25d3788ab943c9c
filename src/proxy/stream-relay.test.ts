import { describe, expect, it } from 'vitest';
import { sseFrames } from '../sse/frames.ts';
import type { FrameStreamSuccess } from './attempt.ts';
import { Deadline } from './deadline.ts';
import { relayFrames, type StreamEnd } from './stream-relay.ts';

const enc = new TextEncoder();
const body = (parts: string[]) =>
  new ReadableStream<Uint8Array>({
    start(controller) {
      for (const part of parts) controller.enqueue(enc.encode(part));
      controller.close();
    },
  });

/** What an OpenAI upstream sends with include_usage: `usage: null` chunks, then usage. */
const chunk = (content: string, finish: string | null = null) =>
  `data: {"id":"c1","object":"chat.completion.chunk","choices":[{"index":0,"delta":{"content":${JSON.stringify(content)}},"finish_reason":${finish ? `"${finish}"` : 'null'}}],"usage":null}\n\n`;
const USAGE =
  'data: {"id":"c1","object":"chat.completion.chunk","choices":[],"usage":{"prompt_tokens":3,"completion_tokens":5,"total_tokens":8}}\n\n';
const DONE = 'data: [DONE]\n\n';

async function relay(parts: string[], clientWantsUsage: boolean, record?: string[]) {
  const frames = sseFrames(body(parts));
  const first = await frames.read();
  if (first.done) throw new Error('no first frame');
  const abort = new AbortController();
  const upstream: FrameStreamSuccess = {
    kind: 'frames',
    status: 200,
    first: first.value,
    frames,
    abort,
    deadline: new Deadline(abort),
    detach: () => undefined,
  };
  let end: StreamEnd | undefined;
  const out = relayFrames(upstream, {
    clientWantsUsage,
    idleMs: 60_000,
    record,
    onEnd: (e) => {
      end = e;
    },
  });
  const text = await new Response(out).text();
  return { text, end: end! };
}

// Split mid-event and mid-character (é is two bytes in UTF-8: split the string, not bytes,
// but across the JSON), CRLF in one event, a comment and an event name: all must go through.
const UPSTREAM = [
  chunk('Hel'),
  `${chunk('lo é')}${chunk(' wor').slice(0, 40)}`,
  `${chunk(' wor').slice(40)}: keep-alive\r\n\r\nevent: note\ndata: {"x":1}\n\n`,
  chunk('ld', 'stop'),
  USAGE,
  DONE,
];

describe('relayFrames', () => {
  it('relays the upstream bytes unchanged when the client asked for usage', async () => {
    const record: string[] = [];
    const { text, end } = await relay(UPSTREAM, true, record);
    expect(text).toBe(UPSTREAM.join(''));
    expect(end.reason).toBe('done');
    expect(end.usage).toMatchObject({ prompt_tokens: 3, completion_tokens: 5, total_tokens: 8 });
    expect(end.completionText).toBe('Hello é world');
    expect(record.at(-1)).toBe('[DONE]');
    expect(record).toContain(USAGE.slice(6, -2));
  });

  it('strips the usage chunk it asked for, every other byte unchanged', async () => {
    const { text, end } = await relay(UPSTREAM, false);
    expect(text).toBe(UPSTREAM.filter((part) => part !== USAGE).join(''));
    expect(end.usage?.total_tokens).toBe(8);
  });

  it('strips usage from a frame that holds other events too', async () => {
    const parts = [chunk('a'), `${chunk('b', 'stop')}${USAGE}${DONE}`];
    const { text } = await relay(parts, false);
    expect(text).toBe(`${chunk('a')}${chunk('b', 'stop')}${DONE}`);
  });

  it('ends with an error event when the upstream stops before finishing', async () => {
    const { text, end } = await relay([chunk('a')], true);
    expect(text.startsWith(chunk('a'))).toBe(true);
    expect(text).toContain('"code":"upstream_stream_error"');
    expect(end.reason).toBe('upstream_error');
    expect(end.usage).toBeUndefined();
    expect(end.completionText).toBe('a');
  });
});
