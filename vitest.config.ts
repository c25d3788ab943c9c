import { cloudflareTest } from '@cloudflare/vitest-plugin';
import { defineConfig } from 'vitest/config';

// Two tiers (see docs/architecture.md):
// - edge: src/ and test/edge/ run inside workerd; outbound calls go to real loopback servers
//   (fake OpenAI, redis-server behind the Upstash REST bridge) from test/edge/global-setup.ts.
// - node: tools/, origin/, end-to-end and infra tests run in Node.
// - console: the operator console's components (console/src), in happy-dom.
export default defineConfig({
  test: {
    projects: [
      {
        plugins: [
          cloudflareTest(({ inject }) => ({
            remoteBindings: false,
            wrangler: { configPath: './wrangler.toml' },
            miniflare: {
              bindings: {
                OPENAI_BASE_URL: `${inject<string>('fakeOpenAIUrl')}/v1`,
                OPENAI_API_KEY: 'sk-test-upstream-secret',
                AZURE_OPENAI_ENDPOINT: inject<string>('fakeOpenAIUrl'),
                AZURE_OPENAI_API_KEY: 'azure-test-upstream-secret',
                FAKE_UPSTREAM_URL: inject<string>('fakeOpenAIUrl'),
                FAKE_ANTHROPIC_URL: inject<string>('fakeAnthropicUrl'),
                FAKE_GEMINI_URL: inject<string>('fakeGeminiUrl'),
                FAKE_BEDROCK_URL: inject<string>('fakeBedrockUrl'),
                UPSTASH_REDIS_REST_URL: inject<string>('upstashUrl'),
                UPSTASH_REDIS_REST_TOKEN: inject<string>('upstashToken'),
                FAULT_PROXY_URL: inject<string>('faultProxyUrl'),
                ORIGIN_URL: inject<string>('originUrl'),
                ORIGIN_KEY_ID: inject<string>('originKeyId'),
                ORIGIN_SIGNING_KEY: inject<string>('originSigningKey'),
                ORIGIN_ENDPOINTS: inject<string>('originEndpoints'),
                OTLP_URL: inject<string>('otlpUrl'),
                OTLP_HANG_URL: inject<string>('otlpHangUrl'),
                FAKE_WEBHOOK_URL: inject<string>('fakeWebhookUrl'),
                ADMIN_TOKEN: 'test-admin-token-0123456789',
              },
            },
          })),
        ],
        test: {
          name: 'edge',
          include: ['src/**/*.test.ts', 'test/edge/**/*.test.ts'],
          globalSetup: ['test/edge/global-setup.ts'],
        },
      },
      {
        test: {
          name: 'node',
          environment: 'node',
          include: [
            'test/tools/**/*.test.ts',
            'test/origin/**/*.test.ts',
            'test/e2e/**/*.test.ts',
            'test/infra/**/*.test.ts',
            'test/usage-store/**/*.test.ts',
          ],
          testTimeout: 30_000,
          hookTimeout: 60_000,
        },
      },
      {
        oxc: { jsx: { runtime: 'automatic', importSource: 'preact' } },
        test: {
          name: 'console',
          environment: 'happy-dom',
          include: ['console/src/**/*.test.{ts,tsx}'],
          setupFiles: ['console/src/test/setup.ts'],
        },
      },
    ],
  },
});
