import { describe, expect, it } from 'vitest';
import {
  contentKeeper,
  inputContentAttributes,
  MAX_CONTENT_BYTES,
  outputContentAttributes,
  tracesContent,
} from './content.ts';

const SECRET = 'sk-upstream-secret-0123456789';
const keep = contentKeeper([SECRET]);
const parsed = (v: unknown) => JSON.parse(String(v));

describe('content on attempt spans', () => {
  it('maps chat messages to the conventions’ role + parts, system apart, tools as tool parts', () => {
    const attrs = inputContentAttributes(
      {
        messages: [
          { role: 'system', content: 'Be brief.' },
          { role: 'user', content: [{ type: 'text', text: 'Weather in Paris?' }] },
          {
            role: 'assistant',
            content: null,
            tool_calls: [
              {
                id: 'c1',
                type: 'function',
                function: { name: 'wx', arguments: '{"city":"Paris"}' },
              },
            ],
          },
          { role: 'tool', tool_call_id: 'c1', content: '18 C' },
        ],
      },
      keep,
    );
    expect(parsed(attrs['gen_ai.system_instructions'])).toEqual([
      { type: 'text', content: 'Be brief.' },
    ]);
    expect(parsed(attrs['gen_ai.input.messages'])).toEqual([
      { role: 'user', parts: [{ type: 'text', content: 'Weather in Paris?' }] },
      {
        role: 'assistant',
        parts: [{ type: 'tool_call', id: 'c1', name: 'wx', arguments: '{"city":"Paris"}' }],
      },
      { role: 'tool', parts: [{ type: 'tool_call_response', id: 'c1', response: '18 C' }] },
    ]);
    expect(inputContentAttributes({ prompt: 'Once upon' }, keep)).toEqual({
      'gen_ai.input.messages': '[{"role":"user","parts":[{"type":"text","content":"Once upon"}]}]',
    });
    expect(
      parsed(outputContentAttributes('Sunny.', ['stop'], keep)['gen_ai.output.messages']),
    ).toEqual([
      { role: 'assistant', parts: [{ type: 'text', content: 'Sunny.' }], finish_reason: 'stop' },
    ]);
  });

  it('redacts the gateway’s secrets and cuts long texts, the JSON staying whole', () => {
    const long = `my key is ${SECRET} ${'x'.repeat(40_000)}`;
    const attrs = inputContentAttributes(
      {
        messages: [
          { role: 'user', content: long },
          { role: 'user', content: long },
        ],
      },
      keep,
    );
    const text = String(attrs['gen_ai.input.messages']);
    expect(text).not.toContain(SECRET);
    const messages = parsed(text) as { parts: { content: string }[] }[];
    for (const m of messages) expect(m.parts[0]!.content).toContain('[truncated');
    expect(new TextEncoder().encode(text).length).toBeLessThan(MAX_CONTENT_BYTES + 200);
  });

  it('is on only for a tenant whose config says so', () => {
    const tenants = { open: { traceContent: true }, closed: { traceContent: false } };
    expect(tracesContent(tenants, 'open')).toBe(true);
    expect(tracesContent(tenants, 'closed')).toBe(false);
    expect(tracesContent(tenants, 'unknown')).toBe(false);
    expect(tracesContent(tenants, undefined)).toBe(false);
    expect(tracesContent(tenants, 'toString')).toBe(false);
  });
});
