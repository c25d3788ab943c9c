import { describe, expect, it } from 'vitest';
import { toAnthropicRequest } from './request.ts';
import { mapAnthropicError, openAIUsage, toOpenAIResponse } from './response.ts';
import { anthropicStreamMapper } from './stream.ts';

const ev = (data: object) => ({
  event: (data as { type: string }).type,
  data: JSON.stringify(data),
  id: undefined,
});

describe('anthropic translation', () => {
  it('merges consecutive tool results into one user turn and defaults max_tokens', () => {
    const out = toAnthropicRequest(
      {
        model: 'c',
        messages: [
          { role: 'developer', content: 'A' },
          { role: 'system', content: [{ type: 'text', text: 'B' }] },
          { role: 'user', content: 'q' },
          { role: 'tool', tool_call_id: 't1', content: 'r1' },
          { role: 'tool', tool_call_id: 't2', content: 'r2' },
        ],
        temperature: 1.7,
      },
      1024,
    );
    expect(out.system).toBe('A\n\nB');
    expect(out.max_tokens).toBe(1024);
    expect(out.temperature).toBe(1);
    expect(out.messages).toEqual([
      {
        role: 'user',
        content: [
          { type: 'text', text: 'q' },
          { type: 'tool_result', tool_use_id: 't1', content: 'r1' },
          { type: 'tool_result', tool_use_id: 't2', content: 'r2' },
        ],
      },
    ]);
  });

  it('sums usage: prompt = input + cache writes + cache reads', () => {
    expect(
      openAIUsage({
        input_tokens: 5,
        output_tokens: 7,
        cache_creation_input_tokens: 10,
        cache_read_input_tokens: 20,
      }),
    ).toEqual({
      prompt_tokens: 35,
      completion_tokens: 7,
      total_tokens: 42,
      prompt_tokens_details: { cached_tokens: 20, cache_creation_tokens: 10 },
    });
  });

  it('maps a text + tool_use response', () => {
    const out = toOpenAIResponse({
      type: 'message',
      id: 'msg_1',
      model: 'c',
      content: [
        { type: 'text', text: 'Let me check.' },
        { type: 'tool_use', id: 'toolu_1', name: 'f', input: { a: 1 } },
      ],
      stop_reason: 'tool_use',
      usage: { input_tokens: 1, output_tokens: 2 },
    }) as { choices: { message: Record<string, unknown>; finish_reason: string }[] };
    expect(out.choices[0]!.finish_reason).toBe('tool_calls');
    expect(out.choices[0]!.message.content).toBe('Let me check.');
    expect(out.choices[0]!.message.tool_calls).toEqual([
      { id: 'toolu_1', type: 'function', function: { name: 'f', arguments: '{"a":1}' } },
    ]);
  });

  it('stream: later usage replaces earlier (never summed); tool blocks get their own index', () => {
    const map = anthropicStreamMapper();
    const out = [
      {
        type: 'message_start',
        message: {
          id: 'm',
          model: 'c',
          usage: { input_tokens: 10, cache_read_input_tokens: 4, output_tokens: 1 },
        },
      },
      { type: 'content_block_start', index: 0, content_block: { type: 'text', text: '' } },
      { type: 'content_block_delta', index: 0, delta: { type: 'text_delta', text: 'Hi' } },
      {
        type: 'content_block_start',
        index: 1,
        content_block: { type: 'tool_use', id: 't', name: 'f', input: {} },
      },
      {
        type: 'content_block_delta',
        index: 1,
        delta: { type: 'input_json_delta', partial_json: '{"a"' },
      },
      {
        type: 'content_block_delta',
        index: 1,
        delta: { type: 'input_json_delta', partial_json: ':1}' },
      },
      { type: 'ping' },
      { type: 'message_delta', delta: { stop_reason: 'tool_use' }, usage: { output_tokens: 9 } },
      { type: 'message_stop' },
    ].flatMap((e) => map(ev(e)));
    const chunks = out.filter((d) => d !== '[DONE]').map((d) => JSON.parse(d));
    expect(out.at(-1)).toBe('[DONE]');
    expect(chunks.at(-1).usage).toMatchObject({
      prompt_tokens: 14,
      completion_tokens: 9,
      total_tokens: 23,
    });
    const args = chunks
      .flatMap((c) => c.choices[0]?.delta?.tool_calls ?? [])
      .map((t: { function: { arguments: string } }) => t.function.arguments);
    expect(args.join('')).toBe('{"a":1}');
    expect(chunks.find((c) => c.choices[0]?.finish_reason)!.choices[0].finish_reason).toBe(
      'tool_calls',
    );
  });

  it('maps 529 overloaded to 503 and a too-long prompt to context_length_exceeded', () => {
    const over = mapAnthropicError(
      529,
      JSON.stringify({ type: 'error', error: { type: 'overloaded_error', message: 'Overloaded' } }),
    );
    expect(over).toMatchObject({
      status: 503,
      error: { type: 'server_error', code: 'overloaded' },
    });
    const long = mapAnthropicError(
      400,
      JSON.stringify({
        type: 'error',
        error: { type: 'invalid_request_error', message: 'prompt is too long: 3 > 2' },
      }),
    );
    expect(long).toMatchObject({ status: 400, error: { code: 'context_length_exceeded' } });
    expect(mapAnthropicError(502, '<html>')).toBeUndefined();
  });
});
