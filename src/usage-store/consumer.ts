/**
 * The queue consumer's logic (workers/usage-consumer.ts is its entry): a batch of usage
 * events is written in one transaction and acknowledged; if the write fails, every message
 * is retried with exponential backoff (`retry({ delaySeconds })`), and past the queue's
 * `max_retries` the queue moves it to the dead-letter queue. The same consumer reads the
 * dead-letter queue and tries again; every path that gives up on an event (invalid body,
 * dead-lettered, lost past the dead-letter queue's retries) is counted in one log line.
 */

import type { Sql } from 'postgres';
import { z } from 'zod';
import type { UsageEvent } from '../events/index.ts';
import type { Retention } from './retention.ts';
import { writeEvents } from './write.ts';

const days = (fallback: number) => z.coerce.number().int().min(1).max(3_650).default(fallback);

/** The consumer Worker's settings, from its vars (workers/usage-consumer.wrangler.toml). */
export const consumerConfigSchema = z.object({
  /** Days raw events are kept (whole day partitions). Default 30. */
  USAGE_RAW_RETENTION_DAYS: days(30),
  /** Days hourly rollups are kept. Default 90. */
  USAGE_HOURLY_RETENTION_DAYS: days(90),
  /** Days daily rollups are kept. Default 400. */
  USAGE_DAILY_RETENTION_DAYS: days(400),
  /** First retry delay of a failed batch; doubled each attempt. Default 2 s. */
  USAGE_RETRY_BASE_SECONDS: z.coerce.number().int().min(0).max(3_600).default(2),
  /** Cap on one retry delay. Default 300 s. */
  USAGE_RETRY_MAX_SECONDS: z.coerce.number().int().min(0).max(43_200).default(300),
  /** Deliveries of a message before it is given up: the queue's `max_retries` + 1, for the
   * main queue (then the dead-letter queue) and the dead-letter queue (then it is lost: the
   * one path that drops an event, logged with its ids). Default 10 (max_retries = 9). */
  USAGE_MAX_DELIVERIES: z.coerce.number().int().min(1).max(101).default(10),
  /** Name of the dead-letter queue, to tell its batches apart. Default usage-events-dlq. */
  USAGE_DLQ_NAME: z.string().min(1).default('usage-events-dlq'),
});
export type ConsumerConfig = z.output<typeof consumerConfigSchema>;

export function retentionOf(config: ConsumerConfig): Retention {
  return {
    rawDays: config.USAGE_RAW_RETENTION_DAYS,
    hourlyDays: config.USAGE_HOURLY_RETENTION_DAYS,
    dailyDays: config.USAGE_DAILY_RETENTION_DAYS,
  };
}

/** Retry delay for the n-th delivery that failed (1-based): base * 2^(n-1), capped. */
export function retryDelaySeconds(attempt: number, config: ConsumerConfig): number {
  const delay = config.USAGE_RETRY_BASE_SECONDS * 2 ** Math.max(0, attempt - 1);
  return Math.min(config.USAGE_RETRY_MAX_SECONDS, delay);
}

const eventSchema = z
  .object({
    id: z.uuid(),
    request_id: z.string().min(1),
    at: z.iso.datetime({ offset: true }),
    status: z.number().int(),
    latency_ms: z.number().int().min(0),
    payload: z
      .object({
        expires_on: z.iso.date(),
        prompt: z.string().nullable(),
        answer: z.string().nullable(),
        prompt_truncated: z.boolean(),
        answer_truncated: z.boolean(),
      })
      .optional(),
  })
  .loose();

export interface ConsumerMessage {
  readonly id: string;
  readonly body: unknown;
  readonly attempts: number;
  ack(): void;
  retry(options?: { delaySeconds?: number }): void;
}

export interface BatchOutcome {
  written: number;
  duplicates: number;
  invalid: number;
  retried: number;
}

function log(level: 'info' | 'warn' | 'error', msg: string, fields: Record<string, unknown>) {
  const line = JSON.stringify({ level, msg, ...fields });
  if (level === 'error') console.error(line);
  else if (level === 'warn') console.warn(line);
  else console.log(line);
}

export async function consumeBatch(
  queue: string,
  messages: readonly ConsumerMessage[],
  connect: () => Sql,
  config: ConsumerConfig,
): Promise<BatchOutcome> {
  const deadLetters = queue === config.USAGE_DLQ_NAME;
  const valid: { message: ConsumerMessage; event: UsageEvent }[] = [];
  let invalid = 0;
  for (const message of messages) {
    if (eventSchema.safeParse(message.body).success) {
      valid.push({ message, event: message.body as UsageEvent });
    } else {
      invalid++;
      message.ack();
    }
  }
  if (invalid > 0) {
    log('error', 'usage events given up: not a usage event', { queue, given_up: invalid });
  }
  if (deadLetters && valid.length > 0) {
    log('warn', 'usage events dead-lettered: writing them again', {
      queue,
      dead_lettered: valid.length,
    });
  }
  if (valid.length === 0) return { written: 0, duplicates: 0, invalid, retried: 0 };
  const sql = connect();
  try {
    const written = await writeEvents(
      sql,
      valid.map((v) => v.event),
    );
    for (const { message } of valid) message.ack();
    return { written, duplicates: valid.length - written, invalid, retried: 0 };
  } catch (err) {
    const error = err instanceof Error ? err.message.slice(0, 300) : String(err);
    const lastTry = valid.filter((v) => v.message.attempts >= config.USAGE_MAX_DELIVERIES);
    if (lastTry.length > 0) {
      log(
        'error',
        deadLetters ? 'usage events lost' : 'usage events going to the dead-letter queue',
        {
          queue,
          given_up: lastTry.length,
          event_ids: lastTry.slice(0, 20).map((v) => v.event.id),
          error,
        },
      );
    } else {
      log('warn', 'usage batch failed: retrying', { queue, events: valid.length, error });
    }
    for (const { message } of valid) {
      message.retry({ delaySeconds: retryDelaySeconds(message.attempts, config) });
    }
    return { written: 0, duplicates: 0, invalid, retried: valid.length };
  } finally {
    await sql.end({ timeout: 5 }).catch(() => undefined);
  }
}
