/**
 * The origin's entry point: `node origin/src/main.ts` (Node ≥ 22.18 / 24 strips the types).
 * Config: ORIGIN_CONFIG (inline JSON) or ORIGIN_CONFIG_FILE (default /etc/origin/config.json);
 * ORIGIN_SIGNING_KEYS (id:secret,...), PORT (default 8080), DRAIN_DEADLINE_MS (default 30000).
 * SIGTERM / SIGINT: drain, then exit 0.
 */
import { loadConfigFromEnv, OriginConfigError } from './config.ts';
import { startOrigin } from './server.ts';

try {
  const resolved = loadConfigFromEnv(process.env);
  const origin = await startOrigin(resolved);
  console.log(
    JSON.stringify({
      at: new Date().toISOString(),
      event: 'listening',
      url: origin.url,
      pools: [...origin.pools.values()].map((p) => ({
        name: p.name,
        kind: p.kind,
        policy: p.policy.name,
        endpoints: p.endpoints.length,
      })),
    }),
  );
  let stopping = false;
  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    process.on(signal, () => {
      if (stopping) return;
      stopping = true;
      origin.drain().then(
        () => process.exit(0),
        () => process.exit(1),
      );
    });
  }
} catch (err) {
  if (err instanceof OriginConfigError) {
    console.error(err.message);
    process.exit(2);
  }
  throw err;
}
