/**
 * A local Upstash Redis: a throwaway redis-server (or, without one on PATH, the embedded
 * in-process store) behind the Upstash REST bridge.
 *
 * CLI: node tools/upstash/index.ts [--port 8079] [--token dev-token] [--host 127.0.0.1] [--embedded]
 * prints UPSTASH_REDIS_REST_URL / UPSTASH_REDIS_REST_TOKEN and serves until SIGINT/SIGTERM.
 */
import { randomBytes } from 'node:crypto';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import Redis from 'ioredis';
import { type RedisLike, startUpstashBridge } from './bridge.ts';
import { createEmbeddedRedis } from './embedded.ts';
import { hasRedisServer, startRedisServer } from './redis-server.ts';

export { type RedisLike, startUpstashBridge, type UpstashBridge } from './bridge.ts';
export { createEmbeddedRedis } from './embedded.ts';
export { hasRedisServer, startRedisServer } from './redis-server.ts';

export interface LocalUpstashOptions {
  /** Bearer token the bridge requires. Default: a random 32-hex-character token. */
  token?: string;
  /** Use the embedded store even when redis-server is on PATH. Default: false. */
  preferEmbedded?: boolean;
  /** Bridge port. Default: 0 (a free port picked by the OS). */
  port?: number;
  /** Bridge interface. Default: '127.0.0.1'. */
  host?: string;
}

export interface LocalUpstash {
  /** REST URL for `new Redis({ url, token })` / UPSTASH_REDIS_REST_URL. */
  url: string;
  token: string;
  backend: 'redis-server' | 'embedded';
  /** Stops the bridge, then the store (and the redis-server process, if any). */
  stop(): Promise<void>;
}

let warnedEmbedded = false;

export async function startLocalUpstash(opts: LocalUpstashOptions = {}): Promise<LocalUpstash> {
  const token = opts.token ?? randomBytes(16).toString('hex');
  const useServer = !opts.preferEmbedded && hasRedisServer();
  let redis: RedisLike;
  let stopStore: () => Promise<void>;
  if (useServer) {
    const server = await startRedisServer();
    const client = new Redis({ host: '127.0.0.1', port: server.port, lazyConnect: true });
    try {
      await client.connect();
    } catch (err) {
      await server.stop();
      throw err;
    }
    redis = client;
    stopStore = async () => {
      client.on('error', () => undefined); // a reconnect attempt racing the shutdown
      client.disconnect();
      await server.stop();
    };
  } else {
    if (!opts.preferEmbedded && !warnedEmbedded) {
      warnedEmbedded = true;
      process.stderr.write(
        'local-upstash: redis-server not found on PATH; using the embedded in-process store ' +
          '(ioredis-mock, dev only: some commands and error texts differ from Redis)\n',
      );
    }
    const embedded = createEmbeddedRedis();
    redis = embedded;
    stopStore = () => embedded.close();
  }

  let bridge: Awaited<ReturnType<typeof startUpstashBridge>>;
  try {
    bridge = await startUpstashBridge({ redis, token, port: opts.port, host: opts.host });
  } catch (err) {
    await stopStore();
    throw err;
  }
  return {
    url: bridge.url,
    token,
    backend: useServer ? 'redis-server' : 'embedded',
    stop: async () => {
      await bridge.close();
      await stopStore();
    },
  };
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      port: { type: 'string', default: '8079' },
      host: { type: 'string', default: '127.0.0.1' },
      token: { type: 'string' },
      embedded: { type: 'boolean', default: false },
    },
  });
  const local = await startLocalUpstash({
    port: Number(values.port),
    host: values.host,
    token: values.token,
    preferEmbedded: values.embedded,
  });
  console.log(`UPSTASH_REDIS_REST_URL=${local.url}`);
  console.log(`UPSTASH_REDIS_REST_TOKEN=${local.token}`);
  console.log(`# backend: ${local.backend}; Ctrl-C to stop`);
  let stopping = false;
  const shutdown = () => {
    if (stopping) return;
    stopping = true;
    local.stop().then(
      () => process.exit(0),
      (err: unknown) => {
        console.error(err);
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', shutdown);
  process.on('SIGTERM', shutdown);
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main().catch((err: unknown) => {
    console.error(err);
    process.exit(1);
  });
}
