/**
 * One of the gateway's backends, in a worker thread of its own so that neither shares an event
 * loop with the load generator, and the Upstash side's CPU can be read per thread (cpu.ts):
 * `upstream`, the fake OpenAI upstream (tools/fakes/openai.ts); `upstash`, a local Upstash Redis
 * (tools/upstash: redis-server behind the REST bridge) holding the bench's API key.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { Redis } from '@upstash/redis/cloudflare';
import { createKeySchema, KeyStore } from '../../src/auth/index.ts';
import { startFakeOpenAI } from '../../tools/fakes/openai.ts';
import { startLocalUpstash } from '../../tools/upstash/index.ts';

const { apiKey, role } = workerData as { apiKey: string; role: 'upstream' | 'upstash' };
let close: () => Promise<unknown>;
if (role === 'upstream') {
  const fake = await startFakeOpenAI({ port: 0 });
  close = () => fake.close();
  parentPort?.postMessage({ upstream: fake.url });
} else {
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
  close = () => upstash.stop();
  const { url, token, backend } = upstash;
  parentPort?.postMessage({ redis: { url, token, backend } });
}
parentPort?.once('message', async () => {
  await close().catch(() => undefined);
  parentPort?.close();
});
