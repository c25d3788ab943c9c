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
import { hasRedisServer, startLocalUpstash } from '../../tools/upstash/index.ts';

declare module 'vitest' {
  export interface ProvidedContext {
    fakeOpenAIUrl: string;
    fakeAnthropicUrl: string;
    fakeGeminiUrl: string;
    fakeBedrockUrl: string;
    upstashUrl: string;
    upstashToken: string;
    faultProxyUrl: string;
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
  const webhook = await startFakeWebhook();
  provide('fakeWebhookUrl', webhook.url);
  provide('fakeOpenAIUrl', fake.url);
  provide('upstashUrl', upstash.url);
  provide('upstashToken', upstash.token);
  return async () => {
    await fake.close();
    await anthropic.close();
    await gemini.close();
    await bedrock.close();
    await upstash.stop();
    await proxy.close();
    await webhook.close();
  };
}
