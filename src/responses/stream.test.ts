import { describe, expect, it } from 'vitest';
import { chatFromResponse } from './response.ts';
import { type ResponsesEvent, responsesEventMapper, responsesStreamMapper } from './stream.ts';

const meta = { id: 'resp_abc', createdAt: 1, stored: true };
const chunk = (delta: Record<string, unknown>, finish: string | null = null) =>
  JSON.stringify({ id: 'c1', model: 'up', choices: [{ index: 0, delta, finish_reason: finish }] });

describe('responsesEventMapper (chat chunks -> Responses events)', () => {
  it('streams text then parallel tool calls, closing each item, usage in response.completed', () => {
    const mapper = responsesEventMapper({ model: 'm', input: 'x' }, meta);
    const events: ResponsesEvent[] = [
      chunk({ role: 'assistant', content: '' }),
      chunk({ content: 'Let me ' }),
      chunk({ content: 'check.' }),
      chunk({
        tool_calls: [{ index: 0, id: 'call_a', function: { name: 'f', arguments: '{"a"' } }],
      }),
      chunk({ tool_calls: [{ index: 1, id: 'call_b', function: { name: 'g', arguments: '{}' } }] }),
      chunk({ tool_calls: [{ index: 0, function: { arguments: ':1}' } }] }),
      chunk({}, 'tool_calls'),
      JSON.stringify({
        id: 'c1',
        choices: [],
        usage: { prompt_tokens: 7, completion_tokens: 5, total_tokens: 12 },
      }),
      '[DONE]',
    ].flatMap((d) => mapper.map(d));
    expect(events.map((e) => e.type)).toEqual([
      'response.created',
      'response.in_progress',
      'response.output_item.added', // message
      'response.content_part.added',
      'response.output_text.delta',
      'response.output_text.delta',
      'response.output_text.done',
      'response.content_part.done',
      'response.output_item.done',
      'response.output_item.added', // call_a
      'response.function_call_arguments.delta',
      'response.output_item.added', // call_b
      'response.function_call_arguments.delta',
      'response.function_call_arguments.delta', // call_a again
      'response.function_call_arguments.done',
      'response.output_item.done',
      'response.function_call_arguments.done',
      'response.output_item.done',
      'response.completed',
    ]);
    expect(events.map((e) => e.sequence_number)).toEqual(events.map((_, i) => i));
    const completed = events.at(-1)!.response as {
      status: string;
      output: { type: string; arguments?: string; call_id?: string }[];
      usage: Record<string, unknown>;
    };
    expect(completed.status).toBe('completed');
    expect(completed.output.map((o) => o.type)).toEqual([
      'message',
      'function_call',
      'function_call',
    ]);
    expect(completed.output[1]).toMatchObject({ call_id: 'call_a', arguments: '{"a":1}' });
    expect(completed.output[2]).toMatchObject({ call_id: 'call_b', arguments: '{}' });
    expect(completed.usage).toMatchObject({ input_tokens: 7, output_tokens: 5, total_tokens: 12 });
    expect(mapper.map('[DONE]')).toEqual([]);
  });

  it('ends as incomplete at the token limit, and as failed on an error chunk', () => {
    const cut = responsesEventMapper({ model: 'm', input: 'x' }, meta);
    const ended = [chunk({ content: 'a' }), chunk({}, 'length'), '[DONE]'].flatMap((d) =>
      cut.map(d),
    );
    expect(ended.at(-1)).toMatchObject({
      type: 'response.incomplete',
      response: { status: 'incomplete', incomplete_details: { reason: 'max_output_tokens' } },
    });
    const failing = responsesEventMapper({ model: 'm', input: 'x' }, meta);
    const failed = [
      chunk({ content: 'a' }),
      JSON.stringify({ error: { message: 'upstream reset', code: 'upstream_error' } }),
    ].flatMap((d) => failing.map(d));
    expect(failed.at(-1)).toMatchObject({
      type: 'response.failed',
      response: { status: 'failed', error: { code: 'upstream_error', message: 'upstream reset' } },
    });
    expect(failing.map('[DONE]')).toEqual([]);
  });
});

describe('responsesStreamMapper (Responses events -> bookkeeping chunks)', () => {
  it('gives the text, the usage and the end of a native stream', () => {
    const map = responsesStreamMapper();
    const out = [
      { type: 'response.created', response: { id: 'resp_1', model: 'gpt' } },
      { type: 'response.output_text.delta', delta: 'Hi' },
      {
        type: 'response.completed',
        response: {
          id: 'resp_1',
          status: 'completed',
          output: [{ type: 'message', content: [{ type: 'output_text', text: 'Hi' }] }],
          usage: {
            input_tokens: 3,
            output_tokens: 1,
            total_tokens: 4,
            input_tokens_details: { cached_tokens: 2 },
          },
        },
      },
    ].flatMap((e) => map({ event: e.type, data: JSON.stringify(e), id: undefined }));
    expect(out.at(-1)).toBe('[DONE]');
    const usage = JSON.parse(out.at(-2)!).usage;
    expect(usage).toMatchObject({
      prompt_tokens: 3,
      completion_tokens: 1,
      prompt_tokens_details: { cached_tokens: 2 },
    });
    expect(JSON.parse(out[1]!).choices[0].delta.content).toBe('Hi');
  });

  it('chatFromResponse reads function calls and incomplete status', () => {
    const chat = chatFromResponse({
      status: 'incomplete',
      output: [{ type: 'function_call', call_id: 'c', name: 'f', arguments: '{}' }],
      usage: { input_tokens: 1, output_tokens: 2, total_tokens: 3 },
    }) as { choices: { finish_reason: string; message: { tool_calls: unknown[] } }[] };
    expect(chat.choices[0]!.finish_reason).toBe('length');
    expect(chat.choices[0]!.message.tool_calls).toEqual([
      { id: 'c', type: 'function', function: { name: 'f', arguments: '{}' } },
    ]);
  });
});
