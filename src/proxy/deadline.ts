/**
 * A resettable deadline bound to an AbortController: when it fires, the upstream fetch is
 * aborted and `race` rejects with a TimeoutError, so a silent upstream can never hang a read.
 *
 * One timer serves many races: a race that settles leaves the timer armed, and the next race
 * only moves the due time; a timer that fires early re-arms itself for what is left. A stream
 * races once per event, and a timer set and cleared per event was a measurable part of its
 * cost. `clear()` (the stream or the attempt is over) stops the timer.
 */
export class UpstreamTimeout extends Error {
  override name = 'UpstreamTimeout';
}

export class Deadline {
  #timer: ReturnType<typeof setTimeout> | undefined;
  #firesAt = 0;
  #due = 0;
  /** Times out the race in progress; undefined between races. */
  #expire: (() => void) | undefined;
  readonly #abort: AbortController;
  readonly #now: () => number;

  constructor(abort: AbortController, now: () => number = Date.now) {
    this.#abort = abort;
    this.#now = now;
  }

  /** Races `promise` against a timer of `ms`; on expiry aborts the upstream and rejects. */
  race<T>(promise: Promise<T>, ms: number): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const expire = () => {
        const err = new UpstreamTimeout(`no data from upstream for ${ms} ms`);
        this.#abort.abort(err);
        reject(err);
      };
      this.#expire = expire;
      this.#due = this.#now() + ms;
      if (this.#timer === undefined || this.#firesAt > this.#due) this.#arm(ms);
      const done = () => {
        if (this.#expire === expire) this.#expire = undefined;
      };
      promise.then(
        (value) => {
          done();
          resolve(value);
        },
        (err: unknown) => {
          done();
          reject(err);
        },
      );
    });
  }

  clear(): void {
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#expire = undefined;
  }

  #arm(ms: number): void {
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#firesAt = this.#now() + ms;
    this.#timer = setTimeout(() => this.#fire(), ms);
  }

  #fire(): void {
    this.#timer = undefined;
    const expire = this.#expire;
    if (!expire) return; // between races: the next race arms a new timer
    const left = this.#due - this.#now();
    if (left > 0) {
      this.#arm(left);
    } else {
      this.#expire = undefined;
      expire();
    }
  }
}
