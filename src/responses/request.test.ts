import { describe, expect, it } from 'vitest';
import { toChatRequest } from './request.ts';
import { outputAsInput, toResponse } from './response.ts';

describe('toChatRequest', () => {
  it('maps items, tools, tool choice, output format and reasoning; leaves built-in tools out', () => {
    const chat = toChatRequest({
      model: 'm',
      instructions: 'sys',
      input: [
        { role: 'developer', content: 'dev note' },
        {
          role: 'user',
          content: [
            { type: 'input_text', text: 'look' },
            { type: 'input_image', image_url: 'https://x/y.png', detail: 'low' },
          ],
        },
        { type: 'function_call', call_id: 'c1', name: 'f', arguments: '{}' },
        { type: 'function_call', call_id: 'c2', name: 'g', arguments: '{"a":1}' },
        { type: 'function_call_output', call_id: 'c1', output: 'one' },
        { type: 'reasoning' },
      ],
      tools: [
        { type: 'function', name: 'f', parameters: { type: 'object' } },
        { type: 'web_search' },
      ],
      tool_choice: { type: 'function', name: 'f' },
      text: { format: { type: 'json_object' } },
      reasoning: { effort: 'low' },
      max_output_tokens: 9,
      stream: true,
    });
    expect(chat).toEqual({
      model: 'm',
      stream: true,
      max_tokens: 9,
      messages: [
        { role: 'system', content: 'sys' },
        { role: 'developer', content: 'dev note' },
        {
          role: 'user',
          content: [
            { type: 'text', text: 'look' },
            { type: 'image_url', image_url: { url: 'https://x/y.png', detail: 'low' } },
          ],
        },
        {
          role: 'assistant',
          content: null,
          tool_calls: [
            { id: 'c1', type: 'function', function: { name: 'f', arguments: '{}' } },
            { id: 'c2', type: 'function', function: { name: 'g', arguments: '{"a":1}' } },
          ],
        },
        { role: 'tool', tool_call_id: 'c1', content: 'one' },
      ],
      tools: [{ type: 'function', function: { name: 'f', parameters: { type: 'object' } } }],
      tool_choice: { type: 'function', function: { name: 'f' } },
      response_format: { type: 'json_object' },
      reasoning_effort: 'low',
    });
  });

  it('replays a stored conversation before the new input', () => {
    const first = toResponse(
      { choices: [{ message: { content: 'Paris' }, finish_reason: 'stop' }], usage: {} },
      { model: 'm', input: 'Capital of France?' },
      { id: 'resp_1', createdAt: 1, stored: true },
    );
    const history = [
      { role: 'user' as const, content: 'Capital of France?' },
      ...outputAsInput(first.output),
    ];
    const chat = toChatRequest({ model: 'm', input: 'And Italy?' }, history);
    expect(chat.messages).toEqual([
      { role: 'user', content: 'Capital of France?' },
      { role: 'assistant', content: 'Paris' },
      { role: 'user', content: 'And Italy?' },
    ]);
  });
});
