import { perClient } from './per-client.ts';
import type { Redis } from './redis.ts';

/** How long a settlement waits in the isolate for others to share its Redis request. */
export const WRITE_BEHIND_MS = 20;

/**
 * Runs `job` (writes that need not happen at once: a request's settlement) together with the
 * other jobs given within `WRITE_BEHIND_MS`: all start in the same tick, so the client's
 * auto-pipelining sends them in one HTTP request, rather than one request per job. The job
 * that opens a window gets a promise of the whole window (pass it to `waitUntil`: it keeps
 * the isolate alive until every job is done); later ones get a settled promise, so no
 * request waits on I/O that another request started. Jobs report their own failures.
 */
export function writeBehind(redis: Redis, job: () => Promise<unknown>): Promise<void> {
  return perClient(redis, 'write-behind', () => new Window()).add(job);
}

class Window {
  #jobs: (() => Promise<unknown>)[] = [];

  add(job: () => Promise<unknown>): Promise<void> {
    this.#jobs.push(job);
    if (this.#jobs.length > 1) return Promise.resolve();
    return new Promise<void>((resolve) => setTimeout(resolve, WRITE_BEHIND_MS)).then(() => {
      const jobs = this.#jobs;
      this.#jobs = [];
      return Promise.allSettled(jobs.map((run) => run())).then(() => undefined);
    });
  }
}
