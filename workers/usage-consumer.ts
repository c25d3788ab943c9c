/**
 * The usage-event consumer Worker: reads the usage-events queue (and its dead-letter queue)
 * and writes each batch to PostgreSQL through Hyperdrive (src/usage-store/consumer.ts); its
 * cron applies retention and creates the next days' partitions. Config:
 * workers/usage-consumer.wrangler.toml.
 */

import { consumeBatch, consumerConfigSchema, retentionOf } from '../src/usage-store/consumer.ts';
import { applyRetention, connectUsageStore } from '../src/usage-store/index.ts';

interface Env {
  USAGE_DB: Hyperdrive;
  [name: string]: unknown;
}

export default {
  async queue(batch, env) {
    const config = consumerConfigSchema.parse(env);
    const outcome = await consumeBatch(
      batch.queue,
      batch.messages,
      () => connectUsageStore(env.USAGE_DB.connectionString),
      config,
    );
    console.log(
      JSON.stringify({ level: 'info', msg: 'usage batch', queue: batch.queue, ...outcome }),
    );
  },
  async scheduled(_controller, env, ctx) {
    const config = consumerConfigSchema.parse(env);
    const sql = connectUsageStore(env.USAGE_DB.connectionString);
    ctx.waitUntil(
      applyRetention(sql, retentionOf(config))
        .then((result) =>
          console.log(JSON.stringify({ level: 'info', msg: 'usage retention', ...result })),
        )
        .finally(() => sql.end({ timeout: 5 })),
    );
  },
} satisfies ExportedHandler<Env, unknown>;
