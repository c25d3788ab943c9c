/**
 * The console's one way to the gateway: same-origin fetches (the session cookie goes along,
 * `credentials: 'same-origin'`), JSON in and out, and every failure turned into an
 * `ApiError` that says what happened and what to do about it.
 */

/** The gateway's error body: `{"error":{message,type,param,code}}` (src/errors.ts). */
interface ErrorBody {
  error?: { message?: unknown; code?: unknown; param?: unknown; type?: unknown };
}

export class ApiError extends Error {
  readonly status: number;
  readonly code: string | null;
  readonly param: string | null;

  constructor(status: number, message: string, code: string | null, param: string | null = null) {
    super(message);
    this.name = 'ApiError';
    this.status = status;
    this.code = code;
    this.param = param;
  }
}

/** What the operator can do about an error, added to the gateway's own message. */
const HINTS: Record<string, string> = {
  request_log_unavailable:
    'The usage store (PostgreSQL through the USAGE_DB Hyperdrive binding) is not configured or not reachable. `npm run dev` starts one; in a deployment, bind USAGE_DB and run the migrations.',
  admin_unavailable: 'The gateway cannot reach Redis; check the `redis` config and try again.',
  admin_auth_rate_limited:
    'Too many wrong tokens from this address: wait a minute, then try again.',
  origin_mismatch:
    'Open the console from the gateway’s own address (the one `npm run dev` prints).',
  network: 'Check that the gateway is running and reachable, then reload.',
};

/** One sentence to show: the gateway's message, then what to do, when we know. */
export function describeError(error: unknown): string {
  if (error instanceof ApiError) {
    const hint = error.code ? HINTS[error.code] : undefined;
    return hint ? `${error.message} ${hint}` : error.message;
  }
  return error instanceof Error ? error.message : String(error);
}

/** Called on every 401 from the admin API (the session ended or was never there). */
let onUnauthorized: (() => void) | undefined;
export function whenUnauthorized(handler: (() => void) | undefined): void {
  onUnauthorized = handler;
}

export interface RequestOptions {
  method?: 'GET' | 'POST' | 'PATCH' | 'DELETE';
  body?: unknown;
  headers?: Record<string, string>;
  signal?: AbortSignal;
  /** Do not report a 401 as the end of the session (sign-in, the playground's own key). */
  quiet401?: boolean;
}

/** The raw response of a same-origin request, or an ApiError if it could not be made. */
export async function send(path: string, options: RequestOptions = {}): Promise<Response> {
  const headers: Record<string, string> = { accept: 'application/json', ...options.headers };
  if (options.body !== undefined) headers['content-type'] = 'application/json';
  try {
    return await fetch(path, {
      method: options.method ?? 'GET',
      credentials: 'same-origin',
      headers,
      body: options.body === undefined ? null : JSON.stringify(options.body),
      signal: options.signal ?? null,
    });
  } catch (err) {
    if (err instanceof DOMException && err.name === 'AbortError') throw err;
    throw new ApiError(0, 'The gateway did not answer.', 'network');
  }
}

/** The ApiError for a failed response, from its error body when it has one. */
export async function errorFrom(res: Response): Promise<ApiError> {
  const text = await res.text().catch(() => '');
  let body: ErrorBody = {};
  try {
    body = JSON.parse(text) as ErrorBody;
  } catch {}
  const e = body.error;
  const message =
    typeof e?.message === 'string' && e.message
      ? e.message
      : `The gateway answered ${res.status}${res.statusText ? ` ${res.statusText}` : ''}.`;
  return new ApiError(
    res.status,
    message,
    typeof e?.code === 'string' ? e.code : null,
    typeof e?.param === 'string' ? e.param : null,
  );
}

/** A JSON request to the gateway: the parsed answer (undefined for 204), or an ApiError. */
export async function api<T>(path: string, options: RequestOptions = {}): Promise<T> {
  const res = await send(path, options);
  if (!res.ok) {
    const error = await errorFrom(res);
    if (res.status === 401 && !options.quiet401) onUnauthorized?.();
    throw error;
  }
  if (res.status === 204) return undefined as T;
  return (await res.json()) as T;
}

/** `?a=1&b=2` from the set values of `params` (empty strings and undefined left out). */
export function query(params: Record<string, string | number | undefined | null>): string {
  const q = new URLSearchParams();
  for (const [name, value] of Object.entries(params)) {
    if (value !== undefined && value !== null && value !== '') q.set(name, String(value));
  }
  const s = q.toString();
  return s ? `?${s}` : '';
}
