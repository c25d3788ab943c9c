import { describe, expect, it } from 'vitest';
import type { ModelConfig } from '../config/index.ts';
import { modelsWithoutTarget } from './readiness.ts';

const model = (...providers: string[]): ModelConfig => ({
  type: 'chat',
  ownedBy: 'gateway',
  maxOutputTokens: 32_768,
  maxDimensions: 4_096,
  targets: providers.map((provider) => ({ provider, model: 'm', weight: 1 })),
});

describe('modelsWithoutTarget', () => {
  const models = { a: model('p1', 'p2'), b: model('p2'), c: model('p3') };

  it('names every model whose targets are all down, and only those', () => {
    expect(modelsWithoutTarget(models, new Set())).toEqual([]);
    expect(modelsWithoutTarget(models, new Set(['p2']))).toEqual(['b']);
    expect(modelsWithoutTarget(models, new Set(['p1', 'p2']))).toEqual(['a', 'b']);
    expect(modelsWithoutTarget(models, new Set(['p1', 'p2', 'p3']))).toEqual(['a', 'b', 'c']);
  });
});
