/**
 * Helpers for edge tests: build a gateway app over a config whose providers point at scripted
 * scenarios of the fake OpenAI server (tools/fakes/openai.ts, started by global-setup.ts).
 */
import { env } from 'cloudflare:workers';
import { type AppOptions, createApp } from '../../src/app.ts';
import { loadConfig } from '../../src/config/index.ts';
import type { RequestLogRecord } from '../../src/observability/index.ts';
import { telemetrySettings } from '../../src/telemetry/index.ts';

const bindings = env as unknown as Record<string, string>;
export const FAKE_URL = bindings.FAKE_UPSTREAM_URL!;
export const UPSTREAM_KEY = 'sk-upstream-secret-0123456789';
export const ADMIN_TOKEN = 'admin-token-for-tests-0123456789';
export const FAULT_PROXY_URL = bindings.FAULT_PROXY_URL!;
export const OTLP_URL = bindings.OTLP_URL!;
export const OTLP_HANG_URL = bindings.OTLP_HANG_URL!;

/** A Redis config whose connection a test can break: `set('hang' | 'refuse' | 'pass')`, or
 * slow down: `set('slow', ms)` runs each command at once but answers `ms` later. */
export async function breakableRedis(timeoutMs = 300) {
  const res = await fetch(`${FAULT_PROXY_URL}/__routes`, {
    method: 'POST',
    body: JSON.stringify({ target: REDIS.url }),
  });
  const { id, url } = (await res.json()) as { id: string; url: string };
  return {
    config: { url, token: REDIS.token, timeoutMs },
    set: async (mode: 'pass' | 'hang' | 'refuse' | 'slow', delayMs?: number) => {
      await fetch(`${FAULT_PROXY_URL}/__routes/${id}`, {
        method: 'POST',
        body: JSON.stringify({ mode, delayMs }),
      });
    },
  };
}

/** The test Redis (redis-server behind the Upstash bridge), as gateway config. */
export const REDIS = {
  url: bindings.UPSTASH_REDIS_REST_URL!,
  token: bindings.UPSTASH_REDIS_REST_TOKEN!,
  timeoutMs: 2_000,
};

export interface Step {
  status?: number;
  headers?: Record<string, string>;
  errorBody?: unknown;
  hang?: boolean;
  firstByteDelayMs?: number;
  chunkDelayMs?: number;
  closeAfterChunks?: number;
  hangAfterChunks?: number;
  content?: string;
  toolCall?: { name: string; arguments: string };
  /** false: accept requests without an API key (keyless OpenAI-compatible hosts). */
  requireAuth?: boolean;
}

export interface RecordedRequest {
  method: string;
  path: string;
  query: Record<string, string>;
  headers: Record<string, string>;
  body: Record<string, unknown> | null;
  receivedAt: number;
  clientAborted: boolean;
  completed: boolean;
}

export interface Scenario {
  id: string;
  baseUrl: string;
  requests(): Promise<RecordedRequest[]>;
  /** Waits until the fake has seen `n` requests (or `timeoutMs` passed). */
  waitFor(n: number, timeoutMs?: number): Promise<RecordedRequest[]>;
}

export async function scenario(...steps: Step[]): Promise<Scenario> {
  const res = await fetch(`${FAKE_URL}/__scenarios`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ steps: steps.length > 0 ? steps : [{}] }),
  });
  if (!res.ok) throw new Error(`fake: cannot create scenario (${res.status})`);
  const { id, baseUrl } = (await res.json()) as { id: string; baseUrl: string };
  const read = async (path: string) =>
    (
      (await (await fetch(`${FAKE_URL}/__scenarios/${id}${path}`)).json()) as {
        requests: RecordedRequest[];
      }
    ).requests;
  return {
    id,
    baseUrl,
    requests: () => read(''),
    waitFor: (n, timeoutMs = 3_000) => read(`/wait?requests=${n}&timeoutMs=${timeoutMs}`),
  };
}

/** An OpenAI provider entry pointing at a scenario. */
export function openaiAt(s: Scenario, overrides: Record<string, unknown> = {}) {
  return { kind: 'openai', baseUrl: `${s.baseUrl}/v1`, apiKey: UPSTREAM_KEY, ...overrides };
}

export interface TestGateway {
  request(path: string, init?: RequestInit): Promise<Response>;
  chat(body: Record<string, unknown>, headers?: Record<string, string>): Promise<Response>;
  /** Calls the admin API with the test admin token. */
  admin(method: string, path: string, body?: unknown): Promise<Response>;
  logs: RequestLogRecord[];
}

/**
 * A gateway app over `raw` config (defaults tightened so failure tests run fast). Auth is off
 * unless `raw.auth` says otherwise; with auth on, the test Redis and an admin token are added.
 * Each call is a separate app: separate caches, like separate isolates.
 */
export function gateway(
  raw: Record<string, unknown>,
  /** Queue bindings, and OTEL_* variables (telemetry off without OTEL_EXPORTER_OTLP_ENDPOINT). */
  options: Pick<AppOptions, 'events'> & { otel?: Record<string, string> } = {},
): TestGateway {
  const authOn = (raw.auth as { enabled?: boolean } | undefined)?.enabled === true;
  const config = loadConfig(
    {
      auth: { enabled: false },
      ...(authOn ? { redis: REDIS, admin: { tokens: { tester: ADMIN_TOKEN } } } : {}),
      ...raw,
      defaults: {
        timeouts: { firstByteMs: 2_000, idleMs: 2_000 },
        retry: { maxAttempts: 2, baseDelayMs: 10, maxDelayMs: 500 },
        ...(raw.defaults as object | undefined),
      },
    },
    {},
  );
  const logs: RequestLogRecord[] = [];
  const app = createApp({
    config,
    log: (r) => logs.push(r),
    random: () => 0.5,
    events: options.events,
    // spans sent after each request unless a test asks for batching
    telemetry: telemetrySettings({ OTEL_BSP_SCHEDULE_DELAY: '0', ...options.otel }),
  });
  // Each test gateway is its own client address (Cloudflare sets cf-connecting-ip), so the
  // per-address admin lockout of one test does not reach the others.
  const address = `198.51.100.${Math.floor(Math.random() * 250) + 1}-${crypto.randomUUID()}`;
  const request = async (path: string, init?: RequestInit) => {
    const headers = new Headers(init?.headers);
    if (!headers.has('cf-connecting-ip')) headers.set('cf-connecting-ip', address);
    return app.request(`http://gateway.test${path}`, { ...init, headers });
  };
  return {
    logs,
    request,
    admin: (method, path, body) =>
      request(`/admin${path}`, {
        method,
        headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      }),
    chat: (body, headers = {}) =>
      request('/v1/chat/completions', {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...headers },
        body: JSON.stringify(body),
      }),
  };
}

/** A gateway with auth on over one scenario as provider `p`, serving model `m` (upstream
 * `up`); `extra` adds or replaces top-level config. */
export async function scenarioGateway(
  steps: Parameters<typeof scenario> = [{}],
  extra: Record<string, unknown> = {},
) {
  const s = await scenario(...steps);
  const config = {
    auth: { enabled: true },
    providers: { p: openaiAt(s) },
    models: { m: { targets: [{ provider: 'p', model: 'up' }] } },
    ...extra,
  };
  return { s, config, gw: gateway(config) };
}

/** One model `m` served by the given providers, in order. */
export function singleModel(
  providers: Record<string, unknown>,
  defaults?: Record<string, unknown>,
) {
  return gateway({
    providers,
    models: {
      m: {
        targets: Object.keys(providers).map((provider) => ({ provider, model: `up-${provider}` })),
      },
    },
    ...(defaults ? { defaults } : {}),
  });
}

/** Creates a key through the admin API; returns its plaintext and id. */
export async function createKey(
  gw: TestGateway,
  policy: Record<string, unknown> = {},
): Promise<{ key: string; id: string; headers: Record<string, string> }> {
  const res = await gw.admin('POST', '/keys', { name: 'test key', ...policy });
  if (res.status !== 201) throw new Error(`cannot create key: ${res.status} ${await res.text()}`);
  const { key, id } = (await res.json()) as { key: string; id: string };
  return { key, id, headers: { authorization: `Bearer ${key}` } };
}

export const hello = { model: 'm', messages: [{ role: 'user', content: 'Hello there' }] };

/** The `data` payloads of an SSE body, in order. */
export async function sseData(res: Response): Promise<string[]> {
  const text = await res.text();
  return text
    .split('\n\n')
    .filter((block) => block.trim() !== '')
    .map((block) =>
      block
        .split('\n')
        .filter((line) => line.startsWith('data: '))
        .map((line) => line.slice(6))
        .join('\n'),
    );
}

/** Waits until `check` passes or `timeoutMs` elapses (for effects that happen after a response). */
export async function eventually(
  check: () => void | Promise<void>,
  timeoutMs = 3_000,
): Promise<void> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    try {
      await check();
      return;
    } catch (err) {
      if (Date.now() > until) throw err;
      await new Promise((r) => setTimeout(r, 20));
    }
  }
}
