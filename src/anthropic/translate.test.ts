import { describe, expect, it } from 'vitest';
import { toAnthropicRequest } from '../providers/anthropic/request.ts';
import { toOpenAIRequest } from './request.ts';
import { anthropicUsage, toAnthropicMessage } from './response.ts';
import { anthropicRequestSchema } from './schema.ts';
import { anthropicEventMapper } from './stream.ts';

describe('/v1/messages translation', () => {
  it('Anthropic -> OpenAI -> Anthropic is the identity on supported fields', () => {
    const req = anthropicRequestSchema.parse({
      model: 'c',
      max_tokens: 10,
      system: 'S',
      temperature: 0.3,
      top_p: 0.8,
      top_k: 5,
      stop_sequences: ['x'],
      metadata: { user_id: 'u1' },
      tools: [{ name: 'f', description: 'd', input_schema: { type: 'object', properties: {} } }],
      tool_choice: { type: 'any', disable_parallel_tool_use: true },
      messages: [
        { role: 'user', content: 'hi' },
        {
          role: 'assistant',
          content: [
            { type: 'text', text: 'ok' },
            { type: 'tool_use', id: 't', name: 'f', input: { a: [1] } },
          ],
        },
        {
          role: 'user',
          content: [
            { type: 'tool_result', tool_use_id: 't', content: 'r' },
            { type: 'text', text: 'more' },
          ],
        },
      ],
    });
    expect(toAnthropicRequest(toOpenAIRequest(req), 4096)).toEqual(req);
  });

  it('usage back: input excludes cache reads and writes', () => {
    expect(
      anthropicUsage({
        prompt_tokens: 35,
        completion_tokens: 7,
        prompt_tokens_details: { cached_tokens: 20, cache_creation_tokens: 10 },
      }),
    ).toEqual({
      input_tokens: 5,
      output_tokens: 7,
      cache_creation_input_tokens: 10,
      cache_read_input_tokens: 20,
    });
  });

  it('maps finish reasons', () => {
    const msg = (finish: string) =>
      toAnthropicMessage({ choices: [{ message: { content: 'a' }, finish_reason: finish }] }, 'm')
        .stop_reason;
    expect(['stop', 'length', 'tool_calls', 'content_filter'].map(msg)).toEqual([
      'end_turn',
      'max_tokens',
      'tool_use',
      'refusal',
    ]);
  });

  it('stream: text then tool blocks, message_delta with usage, then message_stop', () => {
    const m = anthropicEventMapper('m');
    const chunk = (delta: object, finish: string | null = null) =>
      JSON.stringify({
        id: 'x',
        model: 'up',
        choices: [{ index: 0, delta, finish_reason: finish }],
      });
    const events = [
      chunk({ role: 'assistant', content: '' }),
      chunk({ content: 'Hi' }),
      chunk({ tool_calls: [{ index: 0, id: 'c1', function: { name: 'f', arguments: '' } }] }),
      chunk({ tool_calls: [{ index: 0, function: { arguments: '{}' } }] }),
      chunk({}, 'tool_calls'),
      JSON.stringify({ id: 'x', choices: [], usage: { prompt_tokens: 3, completion_tokens: 2 } }),
      '[DONE]',
    ].flatMap((d) => m.map(d));
    expect(events.map(([t]) => t)).toEqual([
      'message_start',
      'content_block_start',
      'content_block_delta',
      'content_block_stop',
      'content_block_start',
      'content_block_delta',
      'content_block_stop',
      'message_delta',
      'message_stop',
    ]);
    expect(events[7]![1]).toMatchObject({
      delta: { stop_reason: 'tool_use' },
      usage: { input_tokens: 3, output_tokens: 2 },
    });
  });
});
