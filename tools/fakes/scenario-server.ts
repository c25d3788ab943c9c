/**
 * The scripted-scenario HTTP server shared by the provider fakes (anthropic.ts, gemini.ts,
 * bedrock.ts). TEST FIXTURE. Same control API as tools/fakes/openai.ts: `POST /__scenarios
 * {steps}` returns `{id, baseUrl}`; requests under `/s/<id>/...` use `steps[n]` (the last step
 * repeats) and are recorded (`GET /__scenarios/<id>`, `.../wait?requests=N&timeoutMs=M`,
 * `DELETE /__scenarios/<id>`). Requests outside `/s/<id>` follow the default step (`{}` unless
 * `PUT /__default` set another) and are counted (`GET /__default`; see ./default-route.ts).
 * Each fake supplies `route` (the provider's wire format) and `scriptedError`.
 */
import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import { DEFAULT_CONTROL_PATH, DefaultRoute } from './default-route.ts';

/** Behaviour every fake's steps share; `{}` is a normal success. */
export interface BaseStep {
  status?: number; // non-200: this status with the provider's error body
  headers?: Record<string, string>; // extra response headers
  errorBody?: unknown; // replaces the default error body of `status`
  hang?: boolean; // never send response headers
  firstByteDelayMs?: number;
  chunkDelayMs?: number; // wait between stream frames
  closeAfterChunks?: number; // write this many stream frames, then cut the connection
  hangAfterChunks?: number; // write this many stream frames, then go silent
}

export interface RecordedRequest {
  method: string;
  path: string;
  query: Record<string, string>;
  headers: Record<string, string>;
  body: unknown;
  receivedAt: number;
  clientAborted: boolean;
  completed: boolean;
}

export type Reply =
  | { status: number; body: unknown; headers?: Record<string, string> }
  | { frames: (string | Uint8Array)[]; contentType: string; headers?: Record<string, string> };

export interface Incoming<S> {
  step: S;
  method: string;
  path: string;
  query: URLSearchParams;
  headers: IncomingMessage['headers'];
  body: unknown;
}

export interface FakeServer {
  url: string;
  port: number;
  close(): Promise<void>;
}

export const INVALID_JSON = Symbol('invalid json');
export const isObj = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);
export const hex = (bytes: number) => randomBytes(bytes).toString('hex');
/** Fake token count of a text: ceil(length / 4). */
export const textTokens = (text: string) => Math.ceil(text.length / 4);

interface Scenario<S> {
  id: string;
  steps: S[];
  requests: RecordedRequest[];
}

export async function startScenarioServer<S extends BaseStep>(opts: {
  port?: number;
  host?: string;
  route: (incoming: Incoming<S>) => Reply;
  scriptedError: (step: S) => Reply;
}): Promise<FakeServer> {
  const host = opts.host ?? '127.0.0.1';
  const scenarios = new Map<string, Scenario<S>>();
  const fallback = new DefaultRoute<S>();
  let origin = '';

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    let closed = false;
    let selfDestroyed = false;
    const cancels = new Set<() => void>();
    let rec: RecordedRequest | undefined;
    const gone = () => {
      if (closed) return;
      closed = true;
      if (rec && !res.writableFinished && !selfDestroyed) rec.clientAborted = true;
      for (const cancel of cancels) cancel();
    };
    res.on('close', gone);
    req.on('aborted', gone);
    res.on('finish', () => {
      if (rec) rec.completed = true;
    });
    const sleep = (ms = 0) =>
      closed || ms <= 0
        ? Promise.resolve(!closed)
        : new Promise<boolean>((resolve) => {
            const cancel = () => {
              clearTimeout(timer);
              resolve(false);
            };
            const timer = setTimeout(() => {
              cancels.delete(cancel);
              resolve(true);
            }, ms);
            cancels.add(cancel);
          });

    const startedAt = Date.now();
    const url = new URL(req.url ?? '/', origin);
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const text = Buffer.concat(chunks).toString('utf8');
    let body: unknown = null;
    try {
      body = text === '' ? null : JSON.parse(text);
    } catch {
      body = INVALID_JSON;
    }
    const json = (status: number, value: unknown, extra: Record<string, string> = {}) => {
      const out = JSON.stringify(value);
      res.writeHead(status, {
        'content-type': 'application/json',
        'content-length': String(Buffer.byteLength(out)),
        ...extra,
      });
      res.end(out);
    };

    if (url.pathname === DEFAULT_CONTROL_PATH) {
      const answer = fallback.control(req.method ?? 'GET', body === INVALID_JSON ? null : body);
      return json(answer.status, answer.body);
    }
    if (/^\/__scenarios(\/|$)/.test(url.pathname)) {
      const [, , id, sub] = url.pathname.split('/');
      if (!id && req.method === 'POST') {
        const given = isObj(body) && Array.isArray(body.steps) ? (body.steps as S[]) : [];
        const s: Scenario<S> = {
          id: hex(8),
          steps: given.length ? given : [{} as S],
          requests: [],
        };
        scenarios.set(s.id, s);
        return json(201, { id: s.id, baseUrl: `${url.origin}/s/${s.id}` });
      }
      const s = id ? scenarios.get(id) : undefined;
      if (!s) return json(404, { error: `unknown scenario ${id ?? ''}` });
      if (req.method === 'DELETE') {
        scenarios.delete(s.id);
        return json(200, { id: s.id, deleted: true });
      }
      if (sub === 'wait') {
        const want = Number(url.searchParams.get('requests') ?? 1);
        const until =
          Date.now() + Math.min(Number(url.searchParams.get('timeoutMs') ?? 5_000), 60_000);
        while (s.requests.length < want && Date.now() < until) if (!(await sleep(5))) break;
      }
      return json(200, { id: s.id, requests: s.requests });
    }

    const [, id, rest] = /^\/s\/([^/]+)(\/.*)?$/.exec(url.pathname) ?? [];
    const s = id === undefined ? undefined : scenarios.get(id);
    if (id !== undefined && !s) return json(404, { error: `unknown scenario ${id}` });
    let step: S;
    if (!s) step = fallback.take(req.method ?? 'GET', url.pathname);
    else {
      step = s.steps[Math.min(s.requests.length, s.steps.length - 1)] ?? ({} as S);
      const headers: Record<string, string> = {};
      for (const [k, v] of Object.entries(req.headers)) {
        if (v !== undefined) headers[k] = Array.isArray(v) ? v.join(', ') : v;
      }
      rec = {
        method: req.method ?? 'GET',
        path: url.pathname,
        query: Object.fromEntries(url.searchParams),
        headers,
        body: body === INVALID_JSON ? null : body,
        receivedAt: startedAt,
        clientAborted: false,
        completed: false,
      };
      s.requests.push(rec);
    }
    if (step.hang) return;
    if (!(await sleep(step.firstByteDelayMs))) return;
    const out =
      step.status !== undefined && step.status !== 200
        ? opts.scriptedError(step)
        : opts.route({
            step,
            method: req.method ?? 'GET',
            path: id === undefined ? url.pathname : (rest ?? '/'),
            query: url.searchParams,
            headers: req.headers,
            body,
          });
    if (closed) return;
    const cut = () => {
      selfDestroyed = true;
      res.socket?.destroySoon();
    };
    if (!('frames' in out)) {
      if (step.closeAfterChunks === undefined && step.hangAfterChunks === undefined) {
        return json(out.status, out.body, { ...out.headers, ...step.headers });
      }
      res.writeHead(out.status, { 'content-type': 'application/json', ...step.headers });
      res.flushHeaders();
      if (step.closeAfterChunks !== undefined) cut();
      return;
    }
    res.writeHead(200, { 'content-type': out.contentType, ...out.headers, ...step.headers });
    res.flushHeaders();
    const close = step.closeAfterChunks ?? Number.POSITIVE_INFINITY;
    const hang = step.hangAfterChunks ?? Number.POSITIVE_INFINITY;
    for (let i = 0; i < Math.min(close, hang, out.frames.length); i++) {
      if (i > 0 && !(await sleep(step.chunkDelayMs))) return;
      res.write(out.frames[i]);
    }
    if (close <= hang && close < out.frames.length) return cut();
    if (hang < out.frames.length) return;
    res.end();
  }

  const server = await listen(handle, { port: opts.port, host });
  origin = server.url;
  return server;
}

/**
 * Serves `handle` on a loopback port. A handler that throws answers 500, or drops the
 * connection if the reply had started; `close()` also ends hanging requests, so a fake
 * never keeps the process alive. Shared by every fake upstream.
 */
export async function listen(
  handle: (req: IncomingMessage, res: ServerResponse) => Promise<void>,
  opts: {
    port?: number | undefined;
    host: string;
    /** WebSocket upgrades; false: not handled here (the socket is refused). */
    upgrade?: (req: IncomingMessage, socket: Duplex, head: Buffer) => boolean;
  },
): Promise<FakeServer> {
  const server = createServer((req, res) => {
    handle(req, res).catch(() => {
      if (res.headersSent || res.destroyed) res.destroy();
      else res.writeHead(500).end();
    });
  });
  server.on('upgrade', (req, socket: Duplex, head: Buffer) => {
    if (!opts.upgrade?.(req, socket, head)) socket.end('HTTP/1.1 404 Not Found\r\n\r\n');
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, opts.host, () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  const url = `http://${opts.host.includes(':') ? `[${opts.host}]` : opts.host}:${port}`;
  const close = () =>
    new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    });
  return { url, port, close };
}
