import { describe, expect, it } from 'vitest';
import {
  answerAttributes,
  answerFacts,
  attemptErrorType,
  attemptStartAttributes,
  usageAttributes,
} from './attributes.ts';
import { inferenceSpanName, operationName, providerName } from './semconv.ts';

describe('GenAI attribute mapping', () => {
  it('sets the request attributes that are given, and no others', () => {
    const attrs = attemptStartAttributes({
      endpoint: 'chat/completions',
      body: { model: 'gpt-4o-mini', max_tokens: 64, temperature: 0.2, stream: true, n: 1 },
      requestModel: 'fast',
      providerKind: 'azure-openai',
      url: 'https://example.openai.azure.com/openai/deployments/x/chat/completions',
      attempt: 1,
    });
    expect(attrs).toEqual({
      'gen_ai.operation.name': 'chat',
      'gen_ai.provider.name': 'azure.ai.openai',
      'gen_ai.request.model': 'fast',
      'gen_ai.request.max_tokens': 64,
      'gen_ai.request.temperature': 0.2,
      'gen_ai.request.stream': true,
      'server.address': 'example.openai.azure.com',
      'server.port': 443,
    });
  });

  it('reads max_completion_tokens first, and leaves stream off embeddings', () => {
    const chat = attemptStartAttributes({
      endpoint: 'chat/completions',
      body: { max_completion_tokens: 10, max_tokens: 99, seed: 7, top_p: 0.9, n: 3 },
      requestModel: 'm',
      providerKind: 'origin',
      url: 'http://10.0.0.1:8080/v1/chat/completions',
      attempt: 2,
    });
    expect(chat).toMatchObject({
      'gen_ai.request.max_tokens': 10,
      'gen_ai.request.seed': 7,
      'gen_ai.request.top_p': 0.9,
      'gen_ai.request.choice.count': 3,
      'gen_ai.provider.name': 'origin',
      'server.port': 8080,
    });
    const embeddings = attemptStartAttributes({
      endpoint: 'embeddings',
      body: { input: 'x' },
      requestModel: 'e',
      providerKind: 'openai',
      url: 'https://api.openai.com/v1/embeddings',
      attempt: 1,
    });
    expect(embeddings['gen_ai.operation.name']).toBe('embeddings');
    expect('gen_ai.request.stream' in embeddings).toBe(false);
  });

  it('maps usage, with cache and reasoning tokens only when reported', () => {
    expect(
      usageAttributes({
        prompt_tokens: 100,
        completion_tokens: 20,
        total_tokens: 120,
        source: 'upstream',
      }),
    ).toEqual({ 'gen_ai.usage.input_tokens': 100, 'gen_ai.usage.output_tokens': 20 });
    expect(
      usageAttributes({
        prompt_tokens: 100,
        completion_tokens: 20,
        total_tokens: 120,
        cached_tokens: 64,
        cache_write_tokens: 8,
        reasoning_tokens: 5,
        source: 'upstream',
      }),
    ).toEqual({
      'gen_ai.usage.input_tokens': 100,
      'gen_ai.usage.output_tokens': 20,
      'gen_ai.usage.cache_read.input_tokens': 64,
      'gen_ai.usage.cache_creation.input_tokens': 8,
      'gen_ai.usage.reasoning.output_tokens': 5,
    });
  });

  it('reads the answer facts of an OpenAI-shaped body', () => {
    const facts = answerFacts({
      id: 'chatcmpl-1',
      model: 'gpt-4o-mini-2024-07-18',
      choices: [{ finish_reason: 'stop' }, { finish_reason: 'length' }, {}],
    });
    expect(answerAttributes(facts)).toEqual({
      'gen_ai.response.id': 'chatcmpl-1',
      'gen_ai.response.model': 'gpt-4o-mini-2024-07-18',
      'gen_ai.response.finish_reasons': ['stop', 'length'],
    });
    expect(answerAttributes(answerFacts('not an object'))).toEqual({});
  });

  it('names error types, operations, providers and spans', () => {
    expect(attemptErrorType({ reason: 'status', status: 503 })).toBe('503');
    expect(attemptErrorType({ reason: 'timeout' })).toBe('timeout');
    expect(operationName('completions')).toBe('text_completion');
    expect(providerName('bedrock')).toBe('aws.bedrock');
    expect(providerName('openai-compatible')).toBe('openai-compatible');
    expect(inferenceSpanName('chat', 'llama')).toBe('chat llama');
  });
});
