/**
 * The gateway's backends, in a worker thread so they do not share an event loop with the load
 * generator: the fake OpenAI upstream (tools/fakes/openai.ts) and a local Upstash Redis
 * (tools/upstash: redis-server behind the REST bridge) holding the bench's API key.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { Redis } from '@upstash/redis/cloudflare';
import { createKeySchema, KeyStore } from '../../src/auth/index.ts';
import { startFakeOpenAI } from '../../tools/fakes/openai.ts';
import { startLocalUpstash } from '../../tools/upstash/index.ts';

const { apiKey } = workerData as { apiKey: string };
const fake = await startFakeOpenAI({ port: 0 });
const upstash = await startLocalUpstash();
// Limits and budget on, so every check runs, but far above anything the bench can reach.
const policy = createKeySchema.parse({
  name: 'bench',
  residency: 'none', // unrestricted, whatever the default (src/auth/keys.ts)
  limits: { requestsPerMinute: 100_000_000, tokensPerMinute: 10_000_000_000 },
  budget: { monthlyUsd: 1_000_000 },
});
await new KeyStore(new Redis({ url: upstash.url, token: upstash.token })).create(
  policy,
  'bench',
  apiKey,
);

const { url, token, backend } = upstash;
parentPort?.postMessage({ upstream: fake.url, redis: { url, token, backend } });
parentPort?.once('message', async () => {
  await Promise.allSettled([upstash.stop(), fake.close()]);
  parentPort?.close();
});
