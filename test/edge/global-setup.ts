/**
 * Vitest globalSetup for the edge tests (runs in Node, not workerd): starts the fake OpenAI upstream
 * on a free loopback port and hands its URL to the workerd bindings via `provide`.
 */
import type { TestProject } from 'vitest/node';
import { startFakeOpenAI } from '../../tools/fakes/openai.ts';

declare module 'vitest' {
  export interface ProvidedContext {
    fakeOpenAIUrl: string;
  }
}

export default async function ({ provide }: TestProject) {
  const fake = await startFakeOpenAI({ port: 0, host: '127.0.0.1' });
  provide('fakeOpenAIUrl', fake.url);
  return async () => {
    await fake.close();
  };
}
