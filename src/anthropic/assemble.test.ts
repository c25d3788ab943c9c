import { describe, expect, it } from 'vitest';
import { eventsFromMessage, messageFromEvents } from './assemble.ts';

const message = {
  id: 'msg_1',
  type: 'message',
  role: 'assistant',
  model: 'claude-x',
  content: [
    { type: 'thinking', thinking: 'Look it up.', signature: 'sig_abc' },
    {
      type: 'text',
      text: 'The sky is blue.',
      citations: [{ type: 'char_location', cited_text: 'blue', document_index: 0 }],
    },
    { type: 'tool_use', id: 'toolu_1', name: 'lookup', input: { q: 'sky', n: [1, 2] } },
  ],
  stop_reason: 'stop_sequence',
  stop_sequence: '###',
  usage: {
    input_tokens: 10,
    output_tokens: 42,
    cache_creation_input_tokens: 5,
    cache_read_input_tokens: 3,
    cache_creation: { ephemeral_5m_input_tokens: 5, ephemeral_1h_input_tokens: 0 },
  },
};

describe('anthropic message <-> events', () => {
  it('round-trips a Message through its events without loss', () => {
    const events = eventsFromMessage(message);
    expect(events[0]!.event).toBe('message_start');
    expect(events.at(-1)!.event).toBe('message_stop');
    const types = events.map((e) => JSON.parse(e.data).delta?.type).filter(Boolean);
    expect(types).toEqual([
      'thinking_delta',
      'signature_delta',
      'citations_delta',
      'text_delta',
      'input_json_delta',
    ]);
    expect(messageFromEvents(events)).toEqual(message);
  });

  it('assembles split deltas and cumulative usage; undefined without message_start', () => {
    const ev = (type: string, data: object) => ({
      event: type,
      data: JSON.stringify({ type, ...data }),
    });
    const events = [
      ev('message_start', {
        message: { ...message, content: [], usage: { input_tokens: 10, output_tokens: 1 } },
      }),
      ev('content_block_start', {
        index: 0,
        content_block: { type: 'tool_use', id: 't', name: 'f', input: {} },
      }),
      ev('content_block_delta', {
        index: 0,
        delta: { type: 'input_json_delta', partial_json: '{"a"' },
      }),
      ev('ping', {}),
      ev('content_block_delta', {
        index: 0,
        delta: { type: 'input_json_delta', partial_json: ':1}' },
      }),
      ev('content_block_stop', { index: 0 }),
      ev('message_delta', {
        delta: { stop_reason: 'tool_use', stop_sequence: null },
        usage: { output_tokens: 9 },
      }),
      ev('message_stop', {}),
    ];
    expect(messageFromEvents(events)).toMatchObject({
      content: [{ type: 'tool_use', id: 't', name: 'f', input: { a: 1 } }],
      stop_reason: 'tool_use',
      usage: { input_tokens: 10, output_tokens: 9 },
    });
    expect(messageFromEvents(events.slice(1))).toBeUndefined();
  });
});
