import { describe, expect, it } from 'vitest';
import { answerText, buildPayload, expiresOn, jsonBytes, keepText, promptText } from './payload.ts';

describe('keepText', () => {
  it('keeps short text whole, redacted', () => {
    expect(keepText('hi sk-ant-api03-AbCdEfGhIjKlMnOpQrStUvWx', 1_024, [])).toEqual({
      text: 'hi [redacted]',
      truncated: false,
    });
  });

  it('cuts to the budget counted as JSON in UTF-8, and says how long the text was', () => {
    for (const unit of ['a', 'é', '€', '😀', '"', '\u0001']) {
      const text = unit.repeat(2_000);
      const kept = keepText(text, 1_000, []);
      expect(kept.truncated, unit).toBe(true);
      expect(jsonBytes(kept.text), unit).toBeLessThanOrEqual(1_000);
      expect(jsonBytes(kept.text), unit).toBeGreaterThan(1_000 - 8);
      expect(kept.text.endsWith(`…[truncated: ${text.length} chars in all]`), unit).toBe(true);
      expect(kept.text.startsWith(unit), unit).toBe(true);
    }
  });

  it('never keeps a piece of a secret that straddles the cut', () => {
    const secret = 'sk-proj-AbCdEfGhIjKlMnOpQrStUvWxYz0123456789';
    const text = `${'a'.repeat(250)} ${secret}${'b'.repeat(500)}`;
    const kept = keepText(text, 300, []);
    expect(kept.text).not.toContain('sk-proj');
    expect(kept.text.startsWith(`${'a'.repeat(200)}`)).toBe(true);
  });

  it('redacts the configured secrets (provider keys) too', () => {
    expect(keepText('use upstream-key-123 here', 1_024, ['upstream-key-123']).text).toBe(
      'use [redacted] here',
    );
  });
});

describe('promptText and answerText', () => {
  it('read the prompt of chat, completions and embeddings requests', () => {
    const messages = [{ role: 'user', content: 'hi' }];
    expect(promptText({ messages })).toBe(JSON.stringify(messages));
    expect(promptText({ prompt: 'complete me' })).toBe('complete me');
    expect(promptText({ input: ['a', 'b'] })).toBe('["a","b"]');
    expect(promptText({ model: 'm' })).toBeNull();
  });

  it('read the generated text of chat and text completions; none for embeddings', () => {
    expect(
      answerText({
        choices: [
          {
            message: {
              content: 'hello',
              tool_calls: [{ function: { name: 'f', arguments: '{"x":1}' } }],
            },
          },
          { message: { content: [{ type: 'text', text: ' parts' }], refusal: ' no' } },
        ],
      }),
    ).toBe('hello{"x":1} parts no');
    expect(answerText({ object: 'text_completion', choices: [{ text: 'done' }] })).toBe('done');
    expect(answerText({ object: 'list', data: [{ embedding: [0.1] }] })).toBeNull();
  });
});

describe('expiresOn and buildPayload', () => {
  it("expires on the request's UTC day + retentionDays", () => {
    expect(expiresOn(Date.parse('2026-12-31T23:59:59Z'), 7)).toBe('2027-01-07');
    const payload = buildPayload(
      { prompt: 'p', answer: null },
      Date.parse('2026-12-01T00:00:00Z'),
      { retentionDays: 1, maxBytes: 1_024 },
      [],
    );
    expect(payload).toEqual({
      expires_on: '2026-12-02',
      prompt: 'p',
      answer: null,
      prompt_truncated: false,
      answer_truncated: false,
    });
  });
});
