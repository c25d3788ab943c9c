import type { ErrorBody } from '../errors.ts';
import { scrubUpstreamText } from '../observability/index.ts';
import type { Provider, UpstreamRequest } from '../providers/index.ts';
import { type Frame, type FrameReader, sseFrames } from '../sse/frames.ts';
import { type EventSourceMessage, type SSEReader, sseReader } from '../sse/index.ts';
import { Deadline, UpstreamTimeout } from './deadline.ts';
import { actionForStatus, type FailureAction, parseRetryAfter } from './retry-policy.ts';

/** Why one attempt failed, in terms the retry policy understands. No secrets inside. */
export interface AttemptFailure {
  reason: 'timeout' | 'network' | 'status' | 'bad_response' | 'client_abort';
  action: FailureAction;
  status?: number;
  retryAfterMs?: number;
  /** The upstream's own OpenAI-shaped error, redacted, for errors returned to the client. */
  upstreamError?: ErrorBody['error'];
  message: string;
  /** The provider that failed (set by dispatch). */
  provider?: string;
}

export interface JsonSuccess {
  kind: 'json';
  status: number;
  body: unknown;
  /** The body as the upstream wrote it. */
  text: string;
}

export interface StreamSuccess {
  kind: 'stream';
  status: number;
  /** The first event, read before committing to this upstream (so failures before it retry). */
  first: EventSourceMessage;
  events: SSEReader;
  /** Aborts the upstream fetch (client left, idle timeout). */
  abort: AbortController;
  deadline: Deadline;
  /** Stops listening for the client's abort; call when the stream is over. */
  detach: () => void;
}

/** A stream of OpenAI chunks from an OpenAI-shaped upstream, read as frames of whole events
 * so the relay can forward the upstream's bytes as they are (`relayFrames`). */
export interface FrameStreamSuccess extends Omit<StreamSuccess, 'kind' | 'first' | 'events'> {
  kind: 'frames';
  /** The first frame (one or more whole events), read before committing to this upstream. */
  first: Frame;
  frames: FrameReader;
}

export type AttemptSuccess = JsonSuccess | StreamSuccess | FrameStreamSuccess;

export type AttemptResult =
  | { ok: true; value: AttemptSuccess }
  | { ok: false; failure: AttemptFailure };

/** Marks an abort caused by the client going away, as opposed to a timeout. */
export class ClientGone extends Error {
  override name = 'ClientGone';
}

const MAX_ERROR_BODY = 64 * 1024;
/**
 * A non-streamed answer larger than this is refused with a 502 that says so, rather than held:
 * an isolate has 128 MB, and the text and its parse each take room. It leaves room for a full
 * embeddings batch (2 048 inputs of 1 536 floats is about 57 MB of JSON). Streams are never
 * held whole, so they have no such cap.
 */
export const MAX_ANSWER_BYTES = 64 * 1024 * 1024;

/**
 * One upstream call. Resolves (never rejects) with the prepared success or a classified
 * failure. Everything up to the first body bytes runs under `timeouts.firstByteMs`; a
 * non-streamed body is then read with `timeouts.idleMs` between chunks.
 */
export async function attemptUpstream(
  provider: Provider,
  request: UpstreamRequest,
  stream: boolean,
  clientSignal: AbortSignal | undefined,
  /** The answer is OpenAI chat chunks (not a native exchange's own format): an OpenAI-shaped
   * stream may then be relayed as its bytes (frames). Default true. */
  chatChunks = true,
): Promise<AttemptResult> {
  const abort = new AbortController();
  const deadline = new Deadline(abort);
  const onClientGone = () => abort.abort(new ClientGone('client disconnected'));
  if (clientSignal?.aborted) onClientGone();
  clientSignal?.addEventListener('abort', onClientGone, { once: true });
  const detach = () => clientSignal?.removeEventListener('abort', onClientGone);
  const { firstByteMs, idleMs } = provider.timeouts;
  let streaming = false;

  try {
    const response = await deadline.race(
      fetch(request.url, {
        method: 'POST',
        headers: request.headers,
        body: request.body,
        signal: abort.signal,
      }),
      firstByteMs,
    );

    if (!response.ok) {
      const text = await deadline.race(readBounded(response, MAX_ERROR_BODY), idleMs);
      return { ok: false, failure: statusFailure(response, text, provider) };
    }

    if (!stream) {
      const text = await readAllWithIdle(response, deadline, firstByteMs, idleMs);
      if (text === undefined) {
        abort.abort();
        return { ok: false, failure: answerTooLarge() };
      }
      try {
        return {
          ok: true,
          value: { kind: 'json', status: response.status, body: JSON.parse(text), text },
        };
      } catch {
        return fail('bad_response', 'retry', 'upstream answered with invalid JSON');
      }
    }

    if (!response.body) return fail('bad_response', 'retry', 'upstream stream had no body');
    const { status } = response;
    if (provider.speaksOpenAI && chatChunks) {
      const frames = sseFrames(response.body);
      const first = await deadline.race(frames.read(), firstByteMs);
      if (first.done)
        return fail('bad_response', 'retry', 'upstream stream ended before any event');
      streaming = true;
      return {
        ok: true,
        value: { kind: 'frames', status, first: first.value, frames, abort, deadline, detach },
      };
    }
    const events = provider.streamReader?.(response.body) ?? sseReader(response.body);
    const first = await deadline.race(events.read(), firstByteMs);
    if (first.done) return fail('bad_response', 'retry', 'upstream stream ended before any event');
    streaming = true;
    return {
      ok: true,
      value: { kind: 'stream', status, first: first.value, events, abort, deadline, detach },
    };
  } catch (err) {
    deadline.clear();
    if (abort.signal.reason instanceof ClientGone) {
      return fail('client_abort', 'reject', 'client disconnected');
    }
    if (err instanceof UpstreamTimeout) return fail('timeout', 'retry', err.message);
    abort.abort();
    return fail(
      'network',
      'retry',
      `upstream connection failed: ${describe(err, provider.secrets)}`,
    );
  } finally {
    if (!streaming) {
      detach();
      deadline.clear();
    }
  }
}

function fail(
  reason: AttemptFailure['reason'],
  action: FailureAction,
  message: string,
): AttemptResult {
  return { ok: false, failure: { reason, action, message } };
}

/** Refused (not retried: another target would answer the same request alike), as a 502 that
 * says why; not a sign the target is unwell (src/routing/health.ts). */
function answerTooLarge(): AttemptFailure {
  const limit = `${MAX_ANSWER_BYTES / 2 ** 20} MiB`;
  return {
    reason: 'bad_response',
    action: 'reject',
    status: 502,
    upstreamError: {
      message: `The upstream's answer is larger than the gateway accepts (${limit}).`,
      type: 'server_error',
      param: null,
      code: 'upstream_answer_too_large',
    },
    message: `upstream answer larger than ${limit}`,
  };
}

function statusFailure(response: Response, text: string, provider: Provider): AttemptFailure {
  const scrub = (v: string) => scrubUpstreamText(v, provider.secrets, provider.hosts);
  const mapped = provider.mapError?.(response.status, text, response.headers);
  const status = mapped?.status ?? response.status;
  const upstreamError = mapped
    ? { ...mapped.error, message: scrub(mapped.error.message) }
    : parseErrorBody(text, scrub);
  return {
    reason: 'status',
    action: mapped?.action ?? actionForStatus(status),
    status,
    retryAfterMs: parseRetryAfter(response.headers),
    ...(upstreamError ? { upstreamError } : {}),
    message: `upstream answered ${status}${upstreamError ? `: ${upstreamError.message}` : ''}`,
  };
}

/** Keeps only the four OpenAI error fields, scrubbed (secrets, URLs, provider hosts). */
function parseErrorBody(
  text: string,
  scrub: (v: string) => string,
): ErrorBody['error'] | undefined {
  try {
    const parsed = JSON.parse(text) as { error?: Record<string, unknown> };
    const e = parsed.error;
    if (!e || typeof e !== 'object' || typeof e.message !== 'string') return undefined;
    const str = (v: unknown) => (typeof v === 'string' ? scrub(v) : null);
    return {
      message: scrub(e.message),
      type: str(e.type) ?? 'invalid_request_error',
      param: str(e.param),
      code: str(e.code),
    };
  } catch {
    return undefined;
  }
}

/** At most `max` bytes of the body as text: reading stops there (the rest is cancelled), so
 * a huge error body is never held whole. */
async function readBounded(response: Response, max: number): Promise<string> {
  if (!response.body) return '';
  const reader = response.body.getReader();
  const decoder = new TextDecoder();
  let text = '';
  let held = 0;
  try {
    while (held < max) {
      const { done, value } = await reader.read();
      if (done) return text + decoder.decode();
      const part = value.byteLength > max - held ? value.subarray(0, max - held) : value;
      held += part.byteLength;
      text += decoder.decode(part, { stream: true });
    }
    return text + decoder.decode();
  } finally {
    reader.cancel().catch(() => undefined);
  }
}

/** The whole body as text, with `idleMs` allowed between chunks; undefined (the rest not
 * read) past MAX_ANSWER_BYTES. Decodes with one TextDecoder (multi-byte characters split across
 * chunks are fine) rather than a TextDecoderStream, which costs a transform stream per
 * response. */
async function readAllWithIdle(
  response: Response,
  deadline: Deadline,
  firstByteMs: number,
  idleMs: number,
): Promise<string | undefined> {
  if (!response.body) return '';
  const reader = response.body.getReader();
  const decoder = new TextDecoder();
  let text = '';
  let first = true;
  let held = 0;
  for (;;) {
    const { done, value } = await deadline.race(reader.read(), first ? firstByteMs : idleMs);
    if (done) return text + decoder.decode();
    first = false;
    held += value.byteLength;
    if (held > MAX_ANSWER_BYTES) {
      reader.cancel().catch(() => undefined);
      return undefined;
    }
    text += decoder.decode(value, { stream: true });
  }
}

function describe(err: unknown, secrets: readonly string[]): string {
  const message = err instanceof Error ? err.message : String(err);
  return scrubUpstreamText(message, secrets).slice(0, 200);
}
