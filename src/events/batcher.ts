import type { UsageEvent } from './event.ts';

/** The part of a Cloudflare Queue producer binding the gateway uses. */
export interface EventQueue {
  sendBatch(messages: Iterable<MessageSendRequest<UsageEvent>>): Promise<unknown>;
}

export interface EventBatcherOptions {
  /** Events per `sendBatch` (Queues allows at most 100 messages and 256 KB a call). */
  batchSize: number;
  /** How long an event waits in the isolate for others to share its `sendBatch`. */
  flushMs: number;
  /** Tries of one `sendBatch` before its events are given up (counted and logged). */
  sendAttempts: number;
  /** Wait before the second try; doubled each time. */
  retryDelayMs: number;
}

const UTF8 = new TextEncoder();

/** Queues' own limit on the bytes of one sendBatch call, less room for its framing. */
const MAX_BATCH_BYTES = 250_000;

/**
 * Usage events batched per isolate: the request that opens a window gets the promise of the
 * whole window (for `waitUntil`, so the isolate lives until the batch is handed over), the
 * others a settled one, and no request waits for the queue. A batch the queue refuses is
 * tried again; after `sendAttempts` its events are counted in `dropped` and logged.
 */
export class EventBatcher {
  #pending: UsageEvent[] = [];
  #sent = 0;
  #dropped = 0;
  readonly #queue: EventQueue;
  readonly #options: EventBatcherOptions;

  constructor(queue: EventQueue, options: EventBatcherOptions) {
    this.#queue = queue;
    this.#options = options;
  }

  get stats(): { sent: number; dropped: number; pending: number } {
    return { sent: this.#sent, dropped: this.#dropped, pending: this.#pending.length };
  }

  add(event: UsageEvent): Promise<void> {
    this.#pending.push(event);
    if (this.#pending.length >= this.#options.batchSize) return this.#flush();
    if (this.#pending.length > 1) return Promise.resolve();
    const pending = this.#pending;
    return new Promise<void>((resolve) => setTimeout(resolve, this.#options.flushMs)).then(() =>
      // Still the same window unless a full batch already flushed it.
      this.#pending === pending ? this.#flush() : undefined,
    );
  }

  #flush(): Promise<void> {
    const events = this.#pending;
    this.#pending = [];
    return Promise.all(chunks(events, this.#options.batchSize).map((c) => this.#send(c))).then(
      () => undefined,
    );
  }

  async #send(events: UsageEvent[]): Promise<void> {
    const messages = events.map((body) => ({ body, contentType: 'json' as const }));
    let delay = this.#options.retryDelayMs;
    let lastError: unknown;
    for (let attempt = 1; attempt <= this.#options.sendAttempts; attempt++) {
      try {
        await this.#queue.sendBatch(messages);
        this.#sent += events.length;
        return;
      } catch (err) {
        lastError = err;
        if (attempt < this.#options.sendAttempts) {
          await new Promise((r) => setTimeout(r, delay));
          delay *= 2;
        }
      }
    }
    this.#dropped += events.length;
    console.error(
      JSON.stringify({
        level: 'error',
        msg: 'usage events dropped: the queue refused them',
        dropped: events.length,
        dropped_total: this.#dropped,
        attempts: this.#options.sendAttempts,
        error: lastError instanceof Error ? lastError.message.slice(0, 200) : String(lastError),
        request_ids: events.slice(0, 10).map((e) => e.request_id),
      }),
    );
  }
}

/** Splits into sendBatch-sized calls: at most `size` events and `MAX_BATCH_BYTES` each. */
export function chunks(events: UsageEvent[], size: number): UsageEvent[][] {
  const out: UsageEvent[][] = [];
  let current: UsageEvent[] = [];
  let bytes = 0;
  for (const event of events) {
    const json = JSON.stringify(event);
    // Without a payload the event is ASCII but for clipped client strings; a payload's text
    // may be any script, so its bytes are counted as UTF-8.
    const length = event.payload ? UTF8.encode(json).byteLength : json.length;
    if (current.length > 0 && (current.length >= size || bytes + length > MAX_BATCH_BYTES)) {
      out.push(current);
      current = [];
      bytes = 0;
    }
    current.push(event);
    bytes += length;
  }
  if (current.length > 0) out.push(current);
  return out;
}
