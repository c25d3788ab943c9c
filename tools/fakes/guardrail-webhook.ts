/**
 * A guardrail webhook service for tests (src/guardrails/webhook.ts speaks to it): each hook,
 * created on demand, answers every call with its verdict after `delayMs` (a delay longer than
 * the gateway's timeout is a service that does not answer in time) and records what it was
 * sent (body and headers). Hooks are path-scoped so concurrent tests do not interfere.
 *
 *   POST /__hooks {verdict?, delayMs?, status?} -> {id, url}   (verdict default "pass")
 *   GET  /__hooks/<id>                          -> {calls: [{body, headers}]}
 *   POST /h/<id>                                -> {verdict} (status, default 200)
 */
import { createServer } from 'node:http';
import { json, listenOnLoopback, readBody } from './fault-proxy.ts';

interface Hook {
  verdict: string;
  delayMs: number;
  status: number;
  calls: { body: unknown; headers: Record<string, unknown> }[];
}

export interface FakeWebhook {
  url: string;
  close(): Promise<void>;
}

export async function startFakeWebhook(): Promise<FakeWebhook> {
  const hooks = new Map<string, Hook>();
  let next = 0;
  let origin = () => '';
  const server = createServer(async (req, res) => {
    const body = (await readBody(req)).toString();
    const url = new URL(req.url ?? '/', 'http://webhook');
    const control = url.pathname.match(/^\/__hooks(?:\/([\w-]+))?$/);
    if (control && !control[1] && req.method === 'POST') {
      const input = JSON.parse(body || '{}') as Partial<Hook>;
      const id = `h${++next}`;
      hooks.set(id, {
        verdict: input.verdict ?? 'pass',
        delayMs: input.delayMs ?? 0,
        status: input.status ?? 200,
        calls: [],
      });
      return json(res, 201, { id, url: `${origin()}/h/${id}` });
    }
    if (control?.[1] && req.method === 'GET') {
      const hook = hooks.get(control[1]);
      return hook ? json(res, 200, { calls: hook.calls }) : json(res, 404, { error: 'no hook' });
    }
    const hook = hooks.get(url.pathname.match(/^\/h\/([\w-]+)$/)?.[1] ?? '');
    if (!hook || req.method !== 'POST') return json(res, 404, { error: 'unknown hook' });
    hook.calls.push({ body: JSON.parse(body || 'null'), headers: req.headers });
    if (hook.delayMs > 0) await new Promise((r) => setTimeout(r, hook.delayMs));
    if (!res.destroyed) json(res, hook.status, { verdict: hook.verdict });
  });
  const listening = await listenOnLoopback(server);
  origin = () => listening.url;
  return listening;
}
