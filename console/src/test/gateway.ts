/**
 * Component tests' gateway: `fetch` routed in-process to a Hono app that answers with the
 * gateway's own pieces (GatewayError bodies, the request log's filter and cursor parsing),
 * so the console is tested against the real wire shapes, not hand-written copies.
 */
import type { Hono } from 'hono';
import { vi } from 'vitest';
import { GatewayError } from '../../../src/errors.ts';

export interface Seen {
  method: string;
  url: URL;
  credentials: RequestCredentials | undefined;
  headers: Headers;
  body: unknown;
}

export function routeFetchTo(app: Hono): Seen[] {
  const seen: Seen[] = [];
  app.onError((err) => {
    const e = err instanceof GatewayError ? err : new GatewayError(500, 'internal error');
    return Response.json(e.toBody(), { status: e.status });
  });
  vi.stubGlobal('fetch', async (input: string, init: RequestInit = {}) => {
    const url = new URL(input, 'http://127.0.0.1:8787/console/');
    const text = typeof init.body === 'string' ? init.body : undefined;
    seen.push({
      method: init.method ?? 'GET',
      url,
      credentials: init.credentials,
      headers: new Headers(init.headers),
      body: text === undefined ? undefined : JSON.parse(text),
    });
    return app.fetch(
      new Request(url, {
        method: init.method ?? 'GET',
        headers: init.headers ?? {},
        body: text ?? null,
      }),
    );
  });
  return seen;
}
