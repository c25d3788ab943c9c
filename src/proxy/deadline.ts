/**
 * A resettable deadline bound to an AbortController: when it fires, the upstream fetch is
 * aborted and `race` rejects with a TimeoutError, so a silent upstream can never hang a read.
 */
export class UpstreamTimeout extends Error {
  override name = 'UpstreamTimeout';
}

export class Deadline {
  #timer: ReturnType<typeof setTimeout> | undefined;
  readonly #abort: AbortController;

  constructor(abort: AbortController) {
    this.#abort = abort;
  }

  /** Races `promise` against a timer of `ms`; on expiry aborts the upstream and rejects. */
  race<T>(promise: Promise<T>, ms: number): Promise<T> {
    this.clear();
    return new Promise<T>((resolve, reject) => {
      this.#timer = setTimeout(() => {
        const err = new UpstreamTimeout(`no data from upstream for ${ms} ms`);
        this.#abort.abort(err);
        reject(err);
      }, ms);
      promise.then(
        (value) => {
          this.clear();
          resolve(value);
        },
        (err: unknown) => {
          this.clear();
          reject(err);
        },
      );
    });
  }

  clear(): void {
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
  }
}
