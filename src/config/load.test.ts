import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from './index.ts';

const minimal = {
  redis: { url: 'http://127.0.0.1:8079', token: 'redis-token' },
  providers: { openai: { kind: 'openai', apiKey: '${OPENAI_API_KEY}' } },
  models: { 'gpt-4o-mini': { targets: [{ provider: 'openai', model: 'gpt-4o-mini' }] } },
};

function errorOf(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return (err as Error).message;
  }
  throw new Error('expected a ConfigError');
}

describe('loadConfig', () => {
  it('fills every default and substitutes variables', () => {
    const config = loadConfig(minimal, { OPENAI_API_KEY: 'sk-live-123456' });
    const openai = config.providers.openai!;
    expect(openai).toMatchObject({ kind: 'openai', apiKey: 'sk-live-123456' });
    expect(openai.kind === 'openai' && openai.baseUrl).toBe('https://api.openai.com/v1');
    expect(config.models['gpt-4o-mini']).toMatchObject({
      type: 'chat',
      ownedBy: 'gateway',
      targets: [{ provider: 'openai', model: 'gpt-4o-mini', weight: 1 }],
    });
    expect(config.defaults).toEqual({
      timeouts: { firstByteMs: 60_000, idleMs: 30_000 },
      retry: { maxAttempts: 2, baseDelayMs: 200, maxDelayMs: 5_000 },
      maxBodyBytes: 10 * 1024 * 1024,
    });
    expect(config.regions).toEqual({});
    expect(config.redis).toEqual({
      url: 'http://127.0.0.1:8079',
      token: 'redis-token',
      timeoutMs: 500,
    });
    expect(config.auth).toEqual({ enabled: true, keyCacheTtlMs: 10_000 });
    expect(config.limits).toEqual({
      failMode: 'open',
      defaultCompletionReserve: 1_024,
      failOpen: { requests: 10, usd: 1, windowMs: 60_000 },
      keyDefaults: { requestsPerMinute: null, tokensPerMinute: null },
    });
    expect(config.prices).toEqual({});
    expect(config.admin).toEqual({
      tokens: {},
      failedAuthPerMinute: 10,
      tenantTokens: {},
      sessionTtlSeconds: 28_800,
    });
    expect(config.events).toEqual({
      enabled: true,
      batchSize: 100,
      flushMs: 25,
      sendAttempts: 3,
      retryDelayMs: 100,
      zoneQueues: {},
    });
  });

  it('a tenant captures no payloads unless its config says so', () => {
    const vars = { OPENAI_API_KEY: 'sk-test-123456' };
    const config = loadConfig({ ...minimal, tenants: { acme: {} } }, vars);
    expect(config.tenants.acme!.payloadCapture).toEqual({
      enabled: false,
      retentionDays: 7,
      maxBytes: 32_768,
    });
    expect(() =>
      loadConfig(
        { ...minimal, tenants: { acme: { payloadCapture: { maxBytes: 200_000 } } } },
        vars,
      ),
    ).toThrow(/tenants\.acme\.payloadCapture\.maxBytes/);
  });

  it('uses ${VAR:-default} when the variable is unset or empty', () => {
    const raw = {
      ...minimal,
      providers: {
        openai: { kind: 'openai', apiKey: 'k-123456', baseUrl: '${BASE:-http://127.0.0.1:9/v1}' },
      },
    };
    const config = loadConfig(raw, { BASE: '' });
    expect(config.providers.openai).toMatchObject({ baseUrl: 'http://127.0.0.1:9/v1' });
  });

  it('reads a boolean from a variable', () => {
    const raw = { ...minimal, auth: { enabled: '${GATEWAY_AUTH_ENABLED:-true}' } };
    expect(
      loadConfig(raw, { OPENAI_API_KEY: 'k-123456', GATEWAY_AUTH_ENABLED: 'false' }).auth.enabled,
    ).toBe(false);
    expect(loadConfig(raw, { OPENAI_API_KEY: 'k-123456' }).auth.enabled).toBe(true);
    expect(() =>
      loadConfig(raw, { OPENAI_API_KEY: 'k-123456', GATEWAY_AUTH_ENABLED: 'maybe' }),
    ).toThrow(/auth.enabled/);
  });

  it('names the field and the variable when a variable is missing', () => {
    const message = errorOf(() => loadConfig(minimal, {}));
    expect(message).toContain('providers.openai.apiKey: variable OPENAI_API_KEY is not set');
  });

  it('names a target that points at an unknown provider', () => {
    const raw = {
      ...minimal,
      models: {
        m: {
          targets: [
            { provider: 'openai', model: 'a' },
            { provider: 'nope', model: 'b' },
          ],
        },
      },
    };
    const message = errorOf(() => loadConfig(raw, { OPENAI_API_KEY: 'k-123456' }));
    expect(message).toContain('models.m.targets[1].provider: unknown provider "nope"');
  });

  it('reports every invalid field with its reason', () => {
    const raw = {
      providers: {
        azure: { kind: 'azure-openai', endpoint: 'not a url', apiKey: 'k-123456' },
        weird: { kind: 'carrier-pigeon' },
      },
      models: {
        m: { targets: [] },
        e: { type: 'image', targets: [{ provider: 'azure', model: 'x' }] },
      },
      defaults: { retry: { maxAttempts: 0 } },
    };
    const message = errorOf(() => loadConfig(raw, {}));
    expect(message).toContain('providers.azure.endpoint:');
    expect(message).toContain('providers.weird.kind:');
    expect(message).toContain('models.m.targets: a model needs at least one target');
    expect(message).toContain('models.e.type:');
    expect(message).toContain('defaults.retry.maxAttempts:');
  });

  it('rejects a config that is not an object', () => {
    expect(errorOf(() => loadConfig('nope', {}))).toContain('(root):');
  });
});

describe('endpoints a provider cannot serve', () => {
  it('refuses an embedding model routed to a chat-only provider, naming the field', () => {
    const message = errorOf(() =>
      loadConfig(
        {
          ...minimal,
          providers: {
            ...minimal.providers,
            claude: { kind: 'anthropic', apiKey: 'k' },
            gem: { kind: 'gemini', apiKey: 'k' },
          },
          models: {
            embed: {
              type: 'embedding',
              targets: [
                { provider: 'openai', model: 'text-embedding-3-small' },
                { provider: 'claude', model: 'claude-haiku-4-5' },
                { provider: 'gem', model: 'gemini-2.5-flash' },
              ],
            },
          },
        },
        { OPENAI_API_KEY: 'k' },
      ),
    );
    expect(message).toContain(
      'models.embed.targets[1].provider: "claude" (anthropic) cannot serve embeddings',
    );
    expect(message).toContain(
      'models.embed.targets[2].provider: "gem" (gemini) cannot serve embeddings',
    );
    expect(message).not.toContain('targets[0]');
  });
});
