import { describe, expect, it } from 'vitest';
import { guardrailsSchema } from '../config/index.ts';
import { compiledPolicies, stagesOf } from '../guardrails/compile.ts';
import type { Tally } from '../guardrails/scan.ts';
import { guardStage } from '../guardrails/stream.ts';
import { sseFrames } from '../sse/frames.ts';
import type { FrameStreamSuccess } from './attempt.ts';
import { Deadline } from './deadline.ts';
import { type EventStage, openAIErrorEvent, relayFrames, type StreamEnd } from './stream-relay.ts';

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

async function relay(
  parts: string[],
  clientWantsUsage: boolean,
  record?: string[],
  stage?: EventStage,
) {
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
    stage,
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

/** The default policy's guard (workers/gateway.config.json: PII masked, secrets blocked) as
 * the relay's stage; `ends` gets what it ended with. */
function guard(ends: (Tally | undefined)[]): EventStage {
  const config = guardrailsSchema.parse({
    policies: {
      p: {
        checks: [
          { type: 'pii', action: 'mask' },
          { type: 'secrets', action: 'block' },
        ],
      },
    },
  });
  const stages = stagesOf(compiledPolicies(config).get('p')!, 'response');
  return guardStage({
    format: 'openai',
    stages,
    errorEvent: openAIErrorEvent,
    blockedError: (t) => ({
      message: `blocked by ${t.check}`,
      type: 'invalid_request_error',
      param: null,
      code: 'guardrail_blocked',
    }),
    onEnd: (blocked) => ends.push(blocked),
  });
}

describe('relayFrames with the guardrails stage', () => {
  it('forwards events whose text nothing holds or masks byte for byte', async () => {
    // every delta ends a line: nothing a match could still begin with is held
    const parts = [
      chunk('Hello,\n'),
      `${chunk('how are\n')}${chunk('you?\n').slice(0, 30)}`,
      `${chunk('you?\n').slice(30)}: keep-alive\r\n\r\nevent: note\ndata: {"x":1}\n\n`,
      chunk('', 'stop'),
      USAGE,
      DONE,
    ];
    const ends: (Tally | undefined)[] = [];
    const { text, end } = await relay(parts, true, undefined, guard(ends));
    expect(text).toBe(parts.join(''));
    expect(end.reason).toBe('done');
    expect(ends).toEqual([undefined]);
  });

  it('rewrites only the data of events whose text changed; the cache record stays as the upstream sent it', async () => {
    const email = 'jane.roe@example.com';
    // as some upstreams write JSON: the rewritten event keeps it
    const spaced = (content: string) => chunk(content).replace('"id":"c1"', '"id": "c1"');
    const parts = [
      chunk('Hi.\n'),
      spaced(email.slice(0, 8)),
      chunk(`${email.slice(8)} now. `),
      `event: note\r\nid: 7\r\ndata: {"x":1}\r\n\r\n`,
      chunk('', 'stop'),
      DONE,
    ];
    const record: string[] = [];
    const { text } = await relay(parts, true, record, guard([]));
    const events = text.split(/\r?\n\r?\n/).filter((e) => e !== '');
    expect(events[0]).toBe(chunk('Hi.\n').slice(0, -2));
    expect(events[1]).toBe(spaced('').slice(0, -2)); // all of it held
    // the held part of the address goes out with the next delta, masked
    const contents = events.flatMap((e) =>
      e.startsWith('data: {"id"') ? [JSON.parse(e.slice(6)).choices[0].delta.content] : [],
    );
    expect(contents.join('')).toBe('Hi.\n[EMAIL] now. ');
    expect(text).not.toContain('jane');
    expect(text).toContain(`event: note\r\nid: 7\r\ndata: {"x":1}\r\n\r\n`);
    expect(text.endsWith(DONE)).toBe(true);
    expect(record.join('')).toContain(email.slice(0, 8));
  });

  it('a block ends the stream with the error event; what went before is sent, the event with the finding is not', async () => {
    const key = 'AKIAIOSFODNN7EXAMPLE';
    const parts = [
      chunk('Key:\n'),
      `${chunk(key.slice(0, 10))}${chunk(`${key.slice(10)} ok. `)}`,
      chunk('', 'stop'),
      DONE,
    ];
    const ends: (Tally | undefined)[] = [];
    const { text, end } = await relay(parts, true, undefined, guard(ends));
    expect(text.startsWith(chunk('Key:\n'))).toBe(true);
    expect(text).not.toContain('AKIA');
    expect(text).not.toContain('[DONE]');
    const last = text
      .split('\n\n')
      .filter((e) => e !== '')
      .at(-1)!;
    expect(JSON.parse(last.slice(6)).error.code).toBe('guardrail_blocked');
    expect(end.reason).toBe('client_abort');
    expect(ends).toHaveLength(1);
    expect(ends[0]?.check).toBe('secrets');
  });
});
