/**
 * A tiny HTTP forward proxy for fault tests: each route, created on demand, forwards to a
 * target until switched to `hang` (accept, never answer), `refuse` (reset the connection) or
 * `slow` (forward at once, so the target does the work, but answer only `delayMs` later: a
 * command that ran although its caller timed out). Routes are path-scoped (`/r/<id>/...`)
 * so concurrent tests do not interfere.
 *
 *   POST /__routes {target}              -> {id, url}
 *   POST /__routes/<id> {mode, delayMs?} -> mode: 'pass' | 'hang' | 'refuse' | 'slow'
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

type Mode = 'pass' | 'hang' | 'refuse' | 'slow';

export interface FaultProxy {
  url: string;
  close(): Promise<void>;
}

export async function startFaultProxy(): Promise<FaultProxy> {
  const routes = new Map<string, { target: string; mode: Mode; delayMs: number }>();
  let next = 0;
  let origin = () => '';

  const server = createServer(async (req, res) => {
    const body = await readBody(req);
    const url = new URL(req.url ?? '/', 'http://proxy');
    const control = url.pathname.match(/^\/__routes(?:\/([\w-]+))?$/);
    if (control && req.method === 'POST') {
      const input = JSON.parse(body.toString() || '{}') as {
        target?: string;
        mode?: Mode;
        delayMs?: number;
      };
      if (!control[1]) {
        const id = `r${++next}`;
        routes.set(id, { target: String(input.target), mode: 'pass', delayMs: 0 });
        return json(res, 201, { id, url: `${origin()}/r/${id}` });
      }
      const route = routes.get(control[1]);
      if (!route || !input.mode) return json(res, 404, { error: 'unknown route or no mode' });
      route.mode = input.mode;
      route.delayMs = input.delayMs ?? 0;
      return json(res, 200, { id: control[1], mode: route.mode });
    }
    const match = url.pathname.match(/^\/r\/([\w-]+)(\/.*)?$/);
    const route = match ? routes.get(match[1]!) : undefined;
    if (!route) return json(res, 404, { error: 'unknown route' });
    if (route.mode === 'hang') return;
    if (route.mode === 'refuse') return req.socket.destroy();
    const headers = Object.fromEntries(
      Object.entries(req.headers).filter(
        ([k, v]) => typeof v === 'string' && k !== 'host' && k !== 'content-length',
      ),
    ) as Record<string, string>;
    try {
      const upstream = await fetch(`${route.target}${match![2] ?? '/'}${url.search}`, {
        method: req.method ?? 'GET',
        headers,
        ...(req.method === 'GET' || req.method === 'HEAD' ? {} : { body }),
      });
      const payload = Buffer.from(await upstream.arrayBuffer());
      if (route.mode === 'slow') await new Promise((r) => setTimeout(r, route.delayMs));
      // fetch already decoded the body: drop framing and encoding headers that no longer fit.
      const drop = new Set([
        'content-length',
        'transfer-encoding',
        'content-encoding',
        'connection',
      ]);
      res.writeHead(
        upstream.status,
        Object.fromEntries([...upstream.headers].filter(([name]) => !drop.has(name))),
      );
      res.end(payload);
    } catch {
      // The target failed (reset, refused): fail the same way towards the client.
      req.socket.destroy();
    }
  });
  const listening = await listenOnLoopback(server);
  origin = () => listening.url;
  return listening;
}

/** Listens on a free loopback port; `close` also ends open connections. */
export async function listenOnLoopback(
  server: Server,
): Promise<{ url: string; close(): Promise<void> }> {
  const sockets = new Set<Socket>();
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}

export function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

export function json(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify(body));
}
