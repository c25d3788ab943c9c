/**
 * A tiny node:http ↔ fetch adapter (in place of @hono/node-server): reads the request body
 * once (bounded), calls `handler(Request, env)`, and writes the Response back chunk by chunk
 * as the body stream yields, waiting for `drain` (backpressure). When the client goes away,
 * `env.clientSignal` aborts and the response body stream is cancelled (which aborts the
 * upstream request behind it).
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { OriginEnv } from './app.ts';

export type FetchHandler = (request: Request, env: OriginEnv) => Response | Promise<Response>;

export interface NodeServer {
  server: http.Server;
  url: string;
  port: number;
  /** Connections with a response still being written. */
  readonly active: number;
}

export async function listen(
  handler: FetchHandler,
  opts: { host: string; port: number; maxBodyBytes: number },
): Promise<NodeServer> {
  let active = 0;
  const server = http.createServer({ keepAliveTimeout: 65_000, noDelay: true }, (req, res) => {
    active++;
    res.once('close', () => active--);
    serve(handler, req, res, opts.maxBodyBytes).catch((err: unknown) => {
      if (!res.headersSent) {
        res.writeHead(500, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ error: { message: 'Internal error.', type: 'server_error' } }));
      } else res.destroy(err as Error);
    });
  });
  // Long streams: no whole-request timeout (per-request timeouts are the proxy's).
  server.requestTimeout = 0;
  server.headersTimeout = 30_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port, opts.host, () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  const host = opts.host === '0.0.0.0' || opts.host === '::' ? '127.0.0.1' : opts.host;
  return {
    server,
    port,
    url: `http://${host.includes(':') ? `[${host}]` : host}:${port}`,
    get active() {
      return active;
    },
  };
}

async function serve(
  handler: FetchHandler,
  req: http.IncomingMessage,
  res: http.ServerResponse,
  maxBodyBytes: number,
): Promise<void> {
  const startedAt = performance.now();
  const abort = new AbortController();
  res.once('close', () => {
    if (!res.writableFinished) abort.abort();
  });

  const chunks: Buffer[] = [];
  let size = 0;
  // A /v1 request without a signature is refused anyway: do not buffer its body.
  const unsigned = req.url?.startsWith('/v1/') && !req.headers['x-gateway-signature'];
  if (unsigned) req.resume();
  for await (const chunk of (unsigned ? [] : req) as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > maxBodyBytes) {
      res.writeHead(413, { 'content-type': 'application/json', connection: 'close' });
      res.end(
        JSON.stringify({
          error: {
            message: 'Request body too large.',
            type: 'invalid_request_error',
            param: null,
            code: 'body_too_large',
          },
        }),
      );
      return;
    }
    chunks.push(chunk);
  }
  const rawBody = chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks);

  const headers = new Headers();
  for (let i = 0; i < req.rawHeaders.length; i += 2) {
    headers.append(req.rawHeaders[i]!, req.rawHeaders[i + 1]!);
  }
  const rawUrl = req.url ?? '/';
  const request = new Request(`http://origin${rawUrl.startsWith('/') ? rawUrl : '/'}`, {
    method: req.method ?? 'GET',
    headers,
    signal: abort.signal,
  });
  const response = await handler(request, {
    rawBody: new Uint8Array(rawBody.buffer, rawBody.byteOffset, rawBody.byteLength),
    rawUrl,
    clientSignal: abort.signal,
    startedAt,
  });

  const outHeaders: Record<string, string | string[]> = {};
  response.headers.forEach((value, name) => {
    outHeaders[name] = value;
  });
  if (res.destroyed) {
    await response.body?.cancel();
    return;
  }
  res.writeHead(response.status, outHeaders);
  if (!response.body) {
    res.end();
    return;
  }
  const reader = response.body.getReader();
  const onClose = () => {
    if (!res.writableFinished) reader.cancel().catch(() => undefined);
  };
  res.once('close', onClose);
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      if (res.destroyed) return;
      if (!res.write(value)) {
        await new Promise<void>((resolve) => {
          const go = () => {
            res.off('drain', go);
            res.off('close', go);
            resolve();
          };
          res.on('drain', go);
          res.on('close', go);
        });
      }
    }
    res.end();
  } catch {
    res.destroy();
  } finally {
    res.off('close', onClose);
  }
}
