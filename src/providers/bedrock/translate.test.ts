import { EventStreamCodec } from '@smithy/eventstream-codec';
import { fromUtf8, toUtf8 } from '@smithy/util-utf8';
import { describe, expect, it } from 'vitest';
import { toConverseRequest } from './request.ts';
import { mapBedrockError, openAIUsage, toOpenAIResponse } from './response.ts';
import { bedrockStreamMapper, eventStreamReader } from './stream.ts';

const codec = new EventStreamCodec(toUtf8, fromUtf8);
const str = (value: string) => ({ type: 'string' as const, value });
const frame = (type: string, payload: object, kind = 'event') =>
  codec.encode({
    headers: {
      [kind === 'event' ? ':event-type' : ':exception-type']: str(type),
      ':content-type': str('application/json'),
      ':message-type': str(kind),
    },
    body: fromUtf8(JSON.stringify(payload)),
  });

/** A body delivering `bytes` in pieces of `size` (messages split across chunks). */
function body(bytes: Uint8Array, size: number): ReadableStream<Uint8Array> {
  let at = 0;
  return new ReadableStream({
    pull(controller) {
      if (at >= bytes.length) return controller.close();
      controller.enqueue(bytes.slice(at, at + size));
      at += size;
    },
  });
}
const concat = (parts: Uint8Array[]) => {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
};

describe('bedrock event stream (Smithy codec, in workerd)', () => {
  it('decodes messages split across chunks and checks CRCs', async () => {
    const bytes = concat([
      frame('messageStart', { role: 'assistant', p: 'ab' }),
      frame('contentBlockDelta', { contentBlockIndex: 0, delta: { text: 'Hé ✓' } }),
      frame('throttlingException', { message: 'slow down' }, 'exception'),
    ]);
    for (const size of [1, 7, bytes.length]) {
      const reader = eventStreamReader(body(bytes, size));
      const events = [];
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        events.push(value);
      }
      expect(events.map((e) => e.event)).toEqual([
        'messageStart',
        'contentBlockDelta',
        'exception',
      ]);
      expect(JSON.parse(events[1]!.data).delta.text).toBe('Hé ✓');
      expect(JSON.parse(events[2]!.data)).toEqual({
        exceptionType: 'throttlingException',
        message: 'slow down',
      });
    }
    const corrupt = frame('messageStart', { role: 'assistant' });
    corrupt[corrupt.length - 6]! ^= 0xff;
    await expect(eventStreamReader(body(corrupt, 5)).read()).rejects.toThrow(/checksum/);
    const cut = eventStreamReader(body(bytes.slice(0, 20), 8));
    await expect(cut.read()).rejects.toThrow(/ended inside a message/);
  });

  it('maps events: usage comes after messageStop, an exception becomes an error', () => {
    const map = bedrockStreamMapper();
    const ev = (event: string, data: object) => map({ event, data: JSON.stringify(data), id: '' });
    const out = [
      ev('messageStart', { role: 'assistant' }),
      ev('contentBlockStart', {
        contentBlockIndex: 1,
        start: { toolUse: { toolUseId: 't1', name: 'f' } },
      }),
      ev('contentBlockDelta', { contentBlockIndex: 1, delta: { toolUse: { input: '{"a"' } } }),
      ev('contentBlockDelta', { contentBlockIndex: 1, delta: { toolUse: { input: ':1}' } } }),
      ev('contentBlockStop', { contentBlockIndex: 1 }),
      ev('messageStop', { stopReason: 'tool_use' }),
      ev('metadata', { usage: { inputTokens: 3, outputTokens: 4, cacheReadInputTokens: 10 } }),
    ].flat();
    expect(out.at(-1)).toBe('[DONE]');
    const chunks = out.slice(0, -1).map((d) => JSON.parse(d));
    expect(chunks.at(-1)).toMatchObject({
      choices: [],
      usage: { prompt_tokens: 13, completion_tokens: 4, total_tokens: 17 },
    });
    expect(chunks.at(-2).choices[0].finish_reason).toBe('tool_calls');
    const args = chunks
      .flatMap((c) => c.choices[0]?.delta?.tool_calls ?? [])
      .map((t: { function: { arguments: string } }) => t.function.arguments);
    expect(args.join('')).toBe('{"a":1}');
    const err = ev('exception', { exceptionType: 'throttlingException', message: 'slow' });
    expect(JSON.parse(err[0]!).error).toMatchObject({ type: 'rate_limit_error', message: 'slow' });
  });
});

describe('bedrock translation', () => {
  it('builds a Converse request: system, merged tool results, images, inference, tools', () => {
    const out = toConverseRequest({
      model: 'anthropic.claude',
      messages: [
        { role: 'system', content: 'A' },
        {
          role: 'user',
          content: [{ type: 'image_url', image_url: { url: 'data:image/jpeg;base64,AA==' } }],
        },
        {
          role: 'assistant',
          content: '',
          tool_calls: [
            { id: 't1', type: 'function', function: { name: 'f', arguments: '{"x":1}' } },
          ],
        },
        { role: 'tool', tool_call_id: 't1', content: 'r1' },
        { role: 'user', content: 'next' },
      ],
      tools: [{ type: 'function', function: { name: 'f', parameters: { type: 'object' } } }],
      tool_choice: 'none',
      max_tokens: 10,
      top_p: 0.5,
      stop: 'END',
    });
    expect(out).toEqual({
      system: [{ text: 'A' }],
      messages: [
        { role: 'user', content: [{ image: { format: 'jpeg', source: { bytes: 'AA==' } } }] },
        {
          role: 'assistant',
          content: [{ toolUse: { toolUseId: 't1', name: 'f', input: { x: 1 } } }],
        },
        {
          role: 'user',
          content: [
            { toolResult: { toolUseId: 't1', content: [{ text: 'r1' }] } },
            { text: 'next' },
          ],
        },
      ],
      inferenceConfig: { maxTokens: 10, topP: 0.5, stopSequences: ['END'] },
      // tool_choice none, but the history holds tool blocks: Converse needs toolConfig
      toolConfig: {
        tools: [{ toolSpec: { name: 'f', inputSchema: { json: { type: 'object' } } } }],
      },
    });
    expect(() =>
      toConverseRequest({
        messages: [
          { role: 'user', content: [{ type: 'image_url', image_url: { url: 'https://x/y.png' } }] },
        ],
      }),
    ).toThrow(/base64 data URLs/);
  });

  it('maps usage with cache tokens, a response, and errors from x-amzn-errortype', () => {
    expect(
      openAIUsage({
        inputTokens: 5,
        outputTokens: 7,
        cacheReadInputTokens: 20,
        cacheWriteInputTokens: 10,
      }),
    ).toEqual({
      prompt_tokens: 35,
      completion_tokens: 7,
      total_tokens: 42,
      prompt_tokens_details: { cached_tokens: 20, cache_creation_tokens: 10 },
    });
    const res = toOpenAIResponse({
      output: {
        message: {
          role: 'assistant',
          content: [{ toolUse: { toolUseId: 't', name: 'f', input: { a: 1 } } }],
        },
      },
      stopReason: 'guardrail_intervened',
      usage: { inputTokens: 1, outputTokens: 2, totalTokens: 3 },
    }) as {
      choices: { message: { content: unknown; tool_calls: unknown[] }; finish_reason: string }[];
    };
    expect(res.choices[0]!.finish_reason).toBe('content_filter');
    expect(res.choices[0]!.message.content).toBeNull();
    expect(res.choices[0]!.message.tool_calls).toEqual([
      { id: 't', type: 'function', function: { name: 'f', arguments: '{"a":1}' } },
    ]);
    const h = (t: string) =>
      new Headers({
        'x-amzn-errortype': `${t}:http://internal.amazon.com/coral/com.amazon.bedrock/`,
      });
    expect(
      mapBedrockError(429, '{"message":"Model is getting ready."}', h('ModelNotReadyException')),
    ).toMatchObject({
      status: 503,
      action: 'retry',
      error: { type: 'server_error', code: 'model_not_ready' },
    });
    expect(
      mapBedrockError(
        400,
        '{"message":"Input is too long for requested model."}',
        h('ValidationException'),
      ),
    ).toMatchObject({ status: 400, action: 'reject', error: { code: 'context_length_exceeded' } });
    expect(mapBedrockError(502, '<html>', new Headers())).toBeUndefined();
  });
});
