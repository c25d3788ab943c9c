import { describe, expect, it } from 'vitest';
import { estimatedUsage, estimatePromptTokens, estimateTokens, usageFromOpenAI } from './index.ts';

describe('usageFromOpenAI', () => {
  it('reads counts and cached prompt tokens', () => {
    expect(
      usageFromOpenAI({
        prompt_tokens: 10,
        completion_tokens: 5,
        total_tokens: 15,
        prompt_tokens_details: { cached_tokens: 4 },
      }),
    ).toEqual({
      prompt_tokens: 10,
      completion_tokens: 5,
      total_tokens: 15,
      cached_tokens: 4,
      source: 'upstream',
    });
  });
  it('reads reasoning tokens from completion_tokens_details', () => {
    expect(
      usageFromOpenAI({
        prompt_tokens: 10,
        completion_tokens: 50,
        completion_tokens_details: { reasoning_tokens: 32 },
      }),
    ).toMatchObject({ completion_tokens: 50, reasoning_tokens: 32 });
  });
  it('handles embeddings usage (no completion tokens) and rejects non-usage', () => {
    expect(usageFromOpenAI({ prompt_tokens: 3, total_tokens: 3 })).toMatchObject({
      prompt_tokens: 3,
      completion_tokens: 0,
      total_tokens: 3,
    });
    expect(usageFromOpenAI(null)).toBeUndefined();
    expect(usageFromOpenAI({ tokens: 1 })).toBeUndefined();
  });
});

describe('estimates', () => {
  it('counts ~4 characters per token', () => {
    expect(estimateTokens('')).toBe(0);
    expect(estimateTokens('abcd')).toBe(1);
    expect(estimateTokens('abcde')).toBe(2);
  });
  it('reads messages, text parts, prompts and inputs', () => {
    const chat = {
      messages: [{ role: 'user', content: [{ type: 'text', text: 'a'.repeat(40) }] }],
    };
    expect(estimatePromptTokens(chat)).toBeGreaterThanOrEqual(10);
    expect(estimatePromptTokens({ prompt: 'b'.repeat(80) })).toBe(20);
    expect(estimatePromptTokens({ input: ['c'.repeat(8), 'd'.repeat(8)] })).toBe(5);
    expect(estimatedUsage(7, 'e'.repeat(12))).toEqual({
      prompt_tokens: 7,
      completion_tokens: 3,
      total_tokens: 10,
      source: 'estimated',
    });
  });
});
