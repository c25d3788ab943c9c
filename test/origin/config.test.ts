/**
 * The origin's config: defaults, environment overrides, and errors that name the field.
 */
import { describe, expect, it } from 'vitest';
import { loadConfigFromEnv, poolLimits, resolveConfig } from '../../origin/src/config.ts';

const minimal = {
  pools: { vllm: { kind: 'vllm', endpoints: ['http://10.0.0.1:8000'] } },
  models: { llama: 'vllm' },
};

describe('origin config', () => {
  it('fills documented defaults and takes secrets, port and drain deadline from the env', () => {
    const { config, keys } = resolveConfig(minimal, {
      ORIGIN_SIGNING_KEYS: 'k1:secret-one,k2:secret-two',
      PORT: '9090',
      DRAIN_DEADLINE_MS: '5000',
    });
    expect(config.listen).toEqual({ host: '0.0.0.0', port: 9090 });
    expect(config.drainDeadlineMs).toBe(5000);
    expect(config.policy).toBe('scheduler');
    expect(config.scheduler.weights).toEqual({ prefix: 3, queue: 2, kv: 1 });
    expect([...keys.keys()]).toEqual(['k1', 'k2']);
    const pool = config.pools.vllm!;
    expect(poolLimits(config, { ...pool, limits: { queueSize: 3 } })).toMatchObject({
      queueSize: 3,
      maxInflightPerEndpoint: 256,
    });
  });

  it('names what is wrong', () => {
    const bad =
      (raw: unknown, env = { ORIGIN_SIGNING_KEYS: 'k:s' }) =>
      () =>
        resolveConfig(raw, env);
    expect(bad({ ...minimal, models: { llama: 'trt' } })).toThrow(
      /unknown pool "trt"[\s\S]*at models\.llama/,
    );
    expect(
      bad({
        ...minimal,
        pools: { vllm: { kind: 'vllm', endpoints: ['http://a:1'], dns: { name: 'x', port: 1 } } },
      }),
    ).toThrow(/exactly one of `endpoints` or `dns`/);
    expect(
      bad({ ...minimal, pools: { vllm: { kind: 'vllm', endpoints: ['x'], rerank: true } } }),
    ).toThrow(/rerank/);
    expect(bad(minimal, {} as { ORIGIN_SIGNING_KEYS: string })).toThrow(/ORIGIN_SIGNING_KEYS/);
    expect(bad(minimal, { ORIGIN_SIGNING_KEYS: 'broken' })).toThrow(/entry 1/);
    expect(() => loadConfigFromEnv({ ORIGIN_CONFIG: '{nope' })).toThrow(/not JSON/);
    expect(() => loadConfigFromEnv({ ORIGIN_CONFIG_FILE: '/nonexistent/origin.json' })).toThrow(
      /cannot read/,
    );
  });
});
