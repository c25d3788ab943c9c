/**
 * One request through a pool: acquire an endpoint, send, and relay the answer. Retries go to
 * another endpoint, and only before the first byte of the answer was taken (after that the
 * bytes are the client's). Streams are relayed chunk by chunk as they arrive (pull-based, no
 * buffering), while a tap notes time to first token and counts generated tokens.
 */
import type { Priority } from './admission.ts';
import type { OriginConfig } from './config.ts';
import type { OriginMetrics } from './metrics.ts';
import { blockHashes, promptText } from './policy/prefix-index.ts';
import { ClientGone, type Lease, type Outcome, type Pool, Shed } from './pool.ts';

import type { ForwardSpan, OriginTrace } from './telemetry.ts';

export interface ForwardRequest {
  pool: Pool;
  /** Path on the endpoint, e.g. /v1/chat/completions. */
  path: string;
  body: Uint8Array;
  json: Record<string, unknown>;
  model: string;
  stream: boolean;
  priority: Priority;
  /** Forwarded as they are (x-request-id, traceparent). */
  headers: Record<string, string>;
  /** Aborts when the client goes away. */
  signal: AbortSignal;
  /** performance.now() when the request arrived. */
  startedAt: number;
  /** The request's spans, when telemetry is on (./telemetry.ts). */
  trace?: OriginTrace | undefined;
}

export interface ProxyContext {
  config: OriginConfig;
  metrics: OriginMetrics;
  fetch?: typeof fetch;
}

interface Failure {
  status: number;
  message: string;
  code: string;
  retry: boolean;
  outcome: Outcome;
  retryAfter?: string | undefined;
}

type Attempt = { ok: true; response: Response } | { ok: false; failure: Failure };

class Timeout extends Error {
  override name = 'Timeout';
}

const encoder = new TextEncoder();

export function errorResponse(
  status: number,
  message: string,
  code: string,
  headers: Record<string, string> = {},
): Response {
  const type =
    status === 401
      ? 'authentication_error'
      : status === 429
        ? 'rate_limit_error'
        : status === 504
          ? 'timeout_error'
          : status >= 500
            ? 'server_error'
            : 'invalid_request_error';
  return new Response(JSON.stringify({ error: { message, type, param: null, code } }), {
    status,
    headers: { 'content-type': 'application/json', ...headers },
  });
}

export async function forward(ctx: ProxyContext, r: ForwardRequest): Promise<Response> {
  const { config, metrics } = ctx;
  const pool = r.pool;
  const labels = { pool: pool.name };
  const { charsPerBlock, maxBlocks } = config.scheduler.prefix;
  const hashes = pool.policy.usesPrefix
    ? blockHashes(promptText(r.json), charsPerBlock, maxBlocks)
    : [];
  const tried = new Set<string>();
  let last: Failure | undefined;

  const finishEarly = (status: number, endpoint = 'none') => {
    r.trace?.end(status);
    metrics.requests.inc({ ...labels, endpoint, status: String(status) });
    metrics.duration.observe(labels, (performance.now() - r.startedAt) / 1000);
  };

  for (let attempt = 1; attempt <= config.retry.maxAttempts; attempt++) {
    let lease: Lease | undefined;
    try {
      lease = await pool.acquire({
        priority: r.priority,
        hashes,
        exclude: tried,
        signal: r.signal,
        wait: attempt === 1,
      });
    } catch (err) {
      if (err instanceof ClientGone) {
        finishEarly(499);
        return errorResponse(499, 'Client closed the request.', 'client_closed_request');
      }
      if (!(err instanceof Shed)) throw err;
      if (last) break;
      finishEarly(err.status);
      return errorResponse(err.status, `The origin is busy (${err.reason}).`, err.reason, {
        'retry-after': String(err.retryAfterSeconds),
      });
    }
    if (!lease) break;
    tried.add(lease.endpoint.id);
    const dispatchMs = performance.now() - r.startedAt - lease.queuedMs;
    metrics.dispatch.observe(labels, dispatchMs / 1000);
    r.trace?.leased({ ...lease, priority: r.priority });
    const span = r.trace?.forward(lease.endpoint, attempt, r.stream);
    const result = await attemptOnce(ctx, r, lease, dispatchMs, span);
    if (!result.ok) span?.end(result.failure.status);
    if (result.ok) return result.response;
    last = result.failure;
    lease.release(last.outcome);
    if (!last.retry) break;
  }
  const f = last ?? {
    status: 503,
    message: 'No endpoint available.',
    code: 'no_endpoints',
    retry: false,
    outcome: 'neutral',
  };
  finishEarly(f.status, [...tried].at(-1));
  return errorResponse(
    f.status,
    f.message,
    f.code,
    f.retryAfter ? { 'retry-after': f.retryAfter } : {},
  );
}

async function attemptOnce(
  ctx: ProxyContext,
  r: ForwardRequest,
  lease: Lease,
  dispatchMs: number,
  span: ForwardSpan | undefined,
): Promise<Attempt> {
  const { config, metrics } = ctx;
  const endpoint = lease.endpoint;
  const abort = new AbortController();
  const onClientGone = () => abort.abort(new ClientGone('client left'));
  if (r.signal.aborted) onClientGone();
  r.signal.addEventListener('abort', onClientGone, { once: true });
  let timer = setTimeout(() => abort.abort(new Timeout('first byte')), config.timeouts.firstByteMs);
  let committed = false;
  const cleanup = () => {
    clearTimeout(timer);
    r.signal.removeEventListener('abort', onClientGone);
  };

  try {
    const res = await (ctx.fetch ?? fetch)(`${endpoint.url}${r.path}`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        accept: r.stream ? 'text/event-stream' : 'application/json',
        ...r.headers,
        // The endpoint continues the trace from this forward's span.
        ...(span ? { traceparent: span.traceparent } : {}),
      },
      body: r.body,
      signal: abort.signal,
    });
    if (!res.ok) {
      const text = await res.text();
      const retryAfter = res.headers.get('retry-after') ?? undefined;
      if (res.status >= 500 || res.status === 429) {
        return fail(res.status, `endpoint answered ${res.status}`, 'upstream_error', {
          retry: true,
          outcome: res.status >= 500 ? 'failure' : 'neutral',
          retryAfter,
        });
      }
      // The request's own fault (400 context too long, 404 model): the client gets it as is.
      cleanup();
      lease.release('neutral');
      span?.end(res.status);
      r.trace?.end(res.status);
      metrics.requests.inc({
        pool: r.pool.name,
        endpoint: endpoint.id,
        status: String(res.status),
      });
      metrics.duration.observe({ pool: r.pool.name }, (performance.now() - r.startedAt) / 1000);
      return {
        ok: true,
        response: new Response(text, {
          status: res.status,
          headers: { 'content-type': res.headers.get('content-type') ?? 'application/json' },
        }),
      };
    }
    if (!res.body) return fail(502, 'endpoint answered without a body', 'upstream_error');
    const reader = res.body.getReader();
    const first = await reader.read();
    if (first.done) return fail(502, 'endpoint answered an empty body', 'upstream_error');
    const firstAt = performance.now();
    span?.firstByte(r.stream);

    const headers: Record<string, string> = {
      'content-type': res.headers.get('content-type') ?? 'application/json',
      'x-origin-pool': r.pool.name,
      'x-origin-endpoint': endpoint.id,
      'server-timing': `dispatch;dur=${dispatchMs.toFixed(3)}, queue;dur=${lease.queuedMs.toFixed(1)}`,
    };
    if (r.headers['x-request-id']) headers['x-request-id'] = r.headers['x-request-id'];

    if (!r.stream) {
      // Read the rest under the idle timeout, then answer in one piece.
      const chunks = [first.value];
      for (;;) {
        clearTimeout(timer);
        timer = setTimeout(() => abort.abort(new Timeout('idle')), config.timeouts.idleMs);
        const next = await reader.read();
        if (next.done) break;
        chunks.push(next.value);
      }
      cleanup();
      const body = concat(chunks);
      const tokens = completionTokens(body);
      const model = { pool: r.pool.name, model: r.model };
      if (tokens > 0) metrics.tokens.inc(model, tokens);
      lease.release('ok');
      span?.end(res.status, tokens);
      r.trace?.end(res.status);
      metrics.requests.inc({
        pool: r.pool.name,
        endpoint: endpoint.id,
        status: String(res.status),
      });
      metrics.duration.observe({ pool: r.pool.name }, (performance.now() - r.startedAt) / 1000);
      return { ok: true, response: new Response(body, { status: res.status, headers }) };
    }

    committed = true;
    clearTimeout(timer);
    metrics.ttft.observe({ pool: r.pool.name, model: r.model }, (firstAt - r.startedAt) / 1000);
    headers['cache-control'] = 'no-cache';
    headers['x-accel-buffering'] = 'no';
    return {
      ok: true,
      response: new Response(relay(ctx, r, lease, reader, first.value, abort, cleanup, span), {
        status: res.status,
        headers,
      }),
    };
  } catch (err) {
    const reason = abort.signal.reason;
    if (reason instanceof ClientGone) {
      return fail(499, 'Client closed the request.', 'client_closed_request', {
        retry: false,
        outcome: 'neutral',
      });
    }
    if (reason instanceof Timeout) {
      return fail(504, `endpoint timed out (${reason.message})`, 'upstream_timeout');
    }
    return fail(502, `endpoint connection failed: ${(err as Error).message}`, 'upstream_error');
  } finally {
    if (!committed) cleanup();
  }

  function fail(
    status: number,
    message: string,
    code: string,
    extra: Partial<Failure> = {},
  ): Attempt {
    abort.abort();
    return {
      ok: false,
      failure: { status, message, code, retry: true, outcome: 'failure', ...extra },
    };
  }
}

/** The client's body of a stream: one upstream chunk per client read, idle timeout between. */
function relay(
  ctx: ProxyContext,
  r: ForwardRequest,
  lease: Lease,
  reader: ReadableStreamDefaultReader<Uint8Array>,
  first: Uint8Array,
  abort: AbortController,
  cleanup: () => void,
  span: ForwardSpan | undefined,
): ReadableStream<Uint8Array> {
  const { metrics, config } = ctx;
  const tap = new TokenTap();
  let pending: Uint8Array | undefined = first;
  let done = false;
  const finish = (status: number, outcome: Outcome) => {
    if (done) return;
    done = true;
    cleanup();
    lease.release(outcome);
    const pool = r.pool.name;
    metrics.requests.inc({ pool, endpoint: lease.endpoint.id, status: String(status) });
    metrics.duration.observe({ pool }, (performance.now() - r.startedAt) / 1000);
    const tokens = tap.tokens();
    if (tokens > 0) metrics.tokens.inc({ pool, model: r.model }, tokens);
    const streamEnd = status === 200 ? 'done' : status === 499 ? 'client_abort' : 'upstream_error';
    span?.end(status, tokens, streamEnd);
    r.trace?.end(status);
  };

  return new ReadableStream<Uint8Array>(
    {
      async pull(controller) {
        if (pending) {
          tap.feed(pending);
          controller.enqueue(pending);
          pending = undefined;
          return;
        }
        const timer = setTimeout(() => abort.abort(new Timeout('idle')), config.timeouts.idleMs);
        try {
          const next = await reader.read();
          if (next.done) {
            finish(200, 'ok');
            controller.close();
            return;
          }
          tap.feed(next.value);
          controller.enqueue(next.value);
        } catch {
          if (abort.signal.reason instanceof ClientGone) {
            finish(499, 'neutral');
            controller.close();
            return;
          }
          const timedOut = abort.signal.reason instanceof Timeout;
          const message = timedOut ? 'the endpoint went silent' : 'the endpoint stream broke';
          const error = {
            error: { message, type: 'server_error', param: null, code: 'upstream_stream_error' },
          };
          controller.enqueue(encoder.encode(`data: ${JSON.stringify(error)}\n\n`));
          abort.abort();
          finish(timedOut ? 504 : 502, 'failure');
          controller.close();
        } finally {
          clearTimeout(timer);
        }
      },
      cancel() {
        abort.abort(new ClientGone('client left'));
        reader.cancel().catch(() => undefined);
        finish(499, 'neutral');
      },
    },
    { highWaterMark: 0 },
  );
}

function concat(chunks: Uint8Array[]): Uint8Array {
  if (chunks.length === 1) return chunks[0]!;
  const out = new Uint8Array(chunks.reduce((n, c) => n + c.length, 0));
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.length;
  }
  return out;
}

function completionTokens(body: Uint8Array): number {
  try {
    const json = JSON.parse(new TextDecoder().decode(body)) as {
      usage?: { completion_tokens?: unknown };
    };
    const n = json.usage?.completion_tokens;
    return typeof n === 'number' ? n : 0;
  } catch {
    return 0;
  }
}

/**
 * Watches SSE bytes go by: the usage chunk's completion_tokens when the stream has one (the
 * edge always asks for it), else the number of chunks that carried text.
 */
export class TokenTap {
  private readonly decoder = new TextDecoder();
  private partial = '';
  private counted = 0;
  private reported: number | undefined;

  feed(chunk: Uint8Array): void {
    const text = this.partial + this.decoder.decode(chunk, { stream: true });
    const lines = text.split('\n');
    this.partial = lines.pop() ?? '';
    for (const line of lines) {
      if (!line.startsWith('data:')) continue;
      if (line.includes('"usage":{')) {
        try {
          const n = (JSON.parse(line.slice(5)) as { usage?: { completion_tokens?: unknown } }).usage
            ?.completion_tokens;
          if (typeof n === 'number') this.reported = n;
        } catch {}
      }
      if (/"(content|text)":"[^"]/.test(line)) this.counted++;
    }
  }

  tokens(): number {
    return this.reported ?? this.counted;
  }
}
