// The part of autocannon's programmatic API that bench/ uses (the package ships no types).
declare module 'autocannon' {
  import type { EventEmitter } from 'node:events';

  interface Options {
    url: string;
    method?: string;
    headers?: Record<string, string>;
    body?: string;
    connections?: number;
    duration?: number; // seconds
    timeout?: number; // seconds
    /** Per request; `onResponse` sees each response's status, body and headers. */
    requests?: {
      onResponse?: (
        status: number,
        body: string,
        context: unknown,
        headers: Record<string, string | string[]>,
      ) => void;
    }[];
  }
  interface Result {
    duration: number; // seconds
    errors: number;
    timeouts: number;
    non2xx: number;
    '2xx': number;
  }
  /** Emits 'response' (client, statusCode, bytes, responseTimeMs) per response. */
  type Run = EventEmitter & PromiseLike<Result>;
  export default function autocannon(options: Options): Run;
}
