/**
 * Vitest globalSetup for the edge tests (runs in Node, not workerd): starts the fake OpenAI
 * upstream and a real redis-server behind the local Upstash REST bridge, on free loopback
 * ports, and hands their URLs to the workerd bindings via `provide`.
 */
import type { TestProject } from 'vitest/node';
import { startFakeAnthropic } from '../../tools/fakes/anthropic.ts';
import { startFakeBedrock } from '../../tools/fakes/bedrock.ts';
import { startFaultProxy } from '../../tools/fakes/fault-proxy.ts';
import { startFakeGemini } from '../../tools/fakes/gemini.ts';
import { startFakeWebhook } from '../../tools/fakes/guardrail-webhook.ts';
import { startFakeOpenAI } from '../../tools/fakes/openai.ts';
import { startOtlpReceiver } from '../../tools/otlp/receiver.ts';
import { hasRedisServer, startLocalUpstash } from '../../tools/upstash/index.ts';
import { KEY, LLAMA, startSims, startTestOrigin } from '../origin/helpers.ts';

declare module 'vitest' {
  export interface ProvidedContext {
    fakeOpenAIUrl: string;
    fakeAnthropicUrl: string;
    fakeGeminiUrl: string;
    fakeBedrockUrl: string;
    upstashUrl: string;
    upstashToken: string;
    faultProxyUrl: string;
    /** A real origin (origin/) over two gpu-sim vLLM endpoints, for GET /admin/health. */
    originUrl: string;
    originKeyId: string;
    originSigningKey: string;
    /** JSON: the origin's endpoint URLs. */
    originEndpoints: string;
    /** A test OTLP/HTTP receiver (GET /received answers what it got) and one that never
     * answers (a collector that is down the slow way). */
    otlpUrl: string;
    otlpHangUrl: string;
    fakeWebhookUrl: string;
  }
}

export default async function ({ provide }: TestProject) {
  if (!hasRedisServer()) {
    throw new Error(
      'redis-server is not on PATH: the edge tests need a real one (apt-get install redis-server)',
    );
  }
  const fake = await startFakeOpenAI({ port: 0, host: '127.0.0.1' });
  const anthropic = await startFakeAnthropic({ port: 0, host: '127.0.0.1' });
  const gemini = await startFakeGemini({ port: 0, host: '127.0.0.1' });
  const bedrock = await startFakeBedrock({ port: 0, host: '127.0.0.1' });
  provide('fakeAnthropicUrl', anthropic.url);
  provide('fakeGeminiUrl', gemini.url);
  provide('fakeBedrockUrl', bedrock.url);
  const upstash = await startLocalUpstash();
  const proxy = await startFaultProxy();
  provide('faultProxyUrl', proxy.url);
  const otlp = await startOtlpReceiver();
  const otlpHang = await startOtlpReceiver({ hang: true });
  provide('otlpUrl', otlp.url);
  provide('otlpHangUrl', otlpHang.url);
  const webhook = await startFakeWebhook();
  provide('fakeWebhookUrl', webhook.url);
  provide('fakeOpenAIUrl', fake.url);
  provide('upstashUrl', upstash.url);
  provide('upstashToken', upstash.token);
  const sims = await startSims(2);
  const origin = await startTestOrigin(
    {
      pools: { vllm: { kind: 'vllm', endpoints: sims.map((s) => s.url) } },
      models: { [LLAMA]: 'vllm' },
      // Slower loops than the origin tests': it idles through the whole edge run.
      scrape: { intervalMs: 1_000, staleAfterMs: 5_000 },
      health: { intervalMs: 1_000, timeoutMs: 500 },
    },
    {},
  );
  provide('originUrl', origin.url);
  provide('originKeyId', KEY.id);
  provide('originSigningKey', KEY.secret);
  provide('originEndpoints', JSON.stringify(sims.map((s) => s.url)));
  return async () => {
    await origin.close();
    await Promise.all(sims.map((s) => s.close()));
    await fake.close();
    await anthropic.close();
    await gemini.close();
    await bedrock.close();
    await upstash.stop();
    await proxy.close();
    await otlp.close();
    await otlpHang.close();
    await webhook.close();
  };
}
