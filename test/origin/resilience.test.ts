/**
 * Resilience: health state machines, outlier ejection and recovery, retries only before the
 * first byte, timeouts, admission control (queue, priorities, shedding), client disconnects.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ejectionBudget, initialHealth, nextHealth, Outlier } from '../../origin/src/outlier.ts';
import type { Origin } from '../../origin/src/server.ts';
import { type FaultProxy, startFaultProxy } from '../../tools/fakes/fault-proxy.ts';
import type { GpuSim } from '../../tools/gpu-sim/server.ts';
import {
  chat,
  LLAMA,
  metricValue,
  post,
  signingFetch,
  sseData,
  startSims,
  startTestOrigin,
  waitFor,
} from './helpers.ts';

const sims: GpuSim[] = [];
let origin: Origin | undefined;
let proxy: FaultProxy;
beforeAll(async () => {
  proxy = await startFaultProxy();
});
afterAll(async () => {
  await proxy.close();
});
afterEach(async () => {
  await origin?.close();
  origin = undefined;
  await Promise.all(sims.splice(0).map((s) => s.close()));
});

const metrics = async (o: Origin) => (await fetch(`${o.url}/metrics`)).text();

async function faultRoute(target: string) {
  const res = await fetch(`${proxy.url}/__routes`, {
    method: 'POST',
    body: JSON.stringify({ target }),
  });
  const { id, url } = (await res.json()) as { id: string; url: string };
  return {
    url,
    id: new URL(url).host + new URL(url).pathname,
    set: (mode: 'pass' | 'refuse' | 'hang') =>
      fetch(`${proxy.url}/__routes/${id}`, { method: 'POST', body: JSON.stringify({ mode }) }),
  };
}

describe('health and outlier state machines (pure)', () => {
  const cfg = { unhealthyThreshold: 2, healthyThreshold: 2 };
  it('needs consecutive failures to go unhealthy and consecutive passes to come back', () => {
    let h = initialHealth();
    h = nextHealth(h, false, cfg);
    expect(h.healthy).toBe(true);
    h = nextHealth(nextHealth(h, true, cfg), false, cfg);
    expect(h.healthy).toBe(true); // the pass in between reset the count
    h = nextHealth(h, false, cfg);
    expect(h.healthy).toBe(false);
    h = nextHealth(h, true, cfg);
    expect(h.healthy).toBe(false);
    h = nextHealth(h, true, cfg);
    expect(h.healthy).toBe(true);
  });

  it('ejects after consecutive failures, for longer each time, and recovers by itself', () => {
    const o = new Outlier();
    const c = {
      consecutiveFailures: 3,
      baseEjectionMs: 1_000,
      maxEjectionMs: 1_500,
      maxEjectedPercent: 50,
    };
    expect(o.onFailure(0, c, true)).toBe(false);
    o.onSuccess();
    expect(o.onFailure(1, c, true)).toBe(false);
    expect(o.onFailure(2, c, true)).toBe(false);
    expect(o.onFailure(3, c, true)).toBe(true);
    expect(o.isEjected(500)).toBe(true);
    expect(o.isEjected(1_003)).toBe(false);
    for (let i = 0; i < 3; i++) o.onFailure(2_000 + i, c, true);
    expect(o.ejectedUntil).toBe(2_002 + 1_500); // 2 × base, capped at max
    // Past the pool's budget, failures do not eject.
    const p = new Outlier();
    for (let i = 0; i < 5; i++) expect(p.onFailure(i, c, false)).toBe(false);
    expect(ejectionBudget(4, 50)).toBe(2);
    expect(ejectionBudget(1, 10)).toBe(1);
  });
});

describe('outlier ejection and retries', () => {
  it('retries a refused endpoint on another before the first byte, ejects it, then takes it back', async () => {
    const [a, b] = await startSims(2);
    sims.push(a!, b!);
    const flaky = await faultRoute(a!.url);
    origin = await startTestOrigin({
      pools: { vllm: { kind: 'vllm', endpoints: [flaky.url, b!.url], policy: 'round-robin' } },
      models: { [LLAMA]: 'vllm' },
      health: { intervalMs: 60_000 }, // passive detection only in this test
      outlier: { consecutiveFailures: 3, baseEjectionMs: 500 },
    });
    await flaky.set('refuse');
    for (let i = 0; i < 8; i++) {
      const res = await post(origin, '/v1/chat/completions', chat(`q${i}`, { max_tokens: 2 }));
      expect(res.status).toBe(200);
      expect(res.headers.get('x-origin-endpoint')).toBe(new URL(b!.url).host);
      await res.text();
    }
    let text = await metrics(origin);
    expect(metricValue(text, 'origin_endpoint_ejections_total', { endpoint: flaky.id })).toBe(1);
    expect(metricValue(text, 'origin_endpoint_healthy', { endpoint: flaky.id })).toBe(0);
    expect(a!.state().finished).toBe(0);

    await flaky.set('pass');
    await waitFor(async () => {
      text = await metrics(origin!);
      return metricValue(text, 'origin_endpoint_healthy', { endpoint: flaky.id }) === 1;
    });
    const served = new Set<string>();
    for (let i = 0; i < 4; i++) {
      const res = await post(origin, '/v1/chat/completions', chat(`r${i}`, { max_tokens: 2 }));
      expect(res.status).toBe(200);
      served.add(res.headers.get('x-origin-endpoint')!);
      await res.text();
    }
    expect(served).toContain(flaky.id);
    expect(a!.state().finished).toBeGreaterThan(0);
  });

  it('does not retry once the stream has started: the client gets an error event', async () => {
    const [resetting] = await startSims(1, { resetRate: 1, resetAfterTokens: 2 });
    const [healthy] = await startSims(1);
    sims.push(resetting!, healthy!);
    origin = await startTestOrigin({
      pools: {
        vllm: {
          kind: 'vllm',
          endpoints: [resetting!.url, healthy!.url],
          policy: 'round-robin',
        },
      },
      models: { [LLAMA]: 'vllm' },
    });
    const resettingId = new URL(resetting!.url).host;
    const endpoints: string[] = [];
    for (let i = 0; i < 2; i++) {
      const healthyBefore = healthy!.state().finished;
      const res = await post(
        origin,
        '/v1/chat/completions',
        chat('hi', { max_tokens: 10, stream: true }),
      );
      expect(res.status).toBe(200);
      const data = await sseData(res);
      endpoints.push(res.headers.get('x-origin-endpoint')!);
      if (res.headers.get('x-origin-endpoint') !== resettingId) continue;
      expect(data.length).toBeGreaterThanOrEqual(2); // the tokens before the reset
      expect(JSON.parse(data.at(-1)!)).toMatchObject({ error: { code: 'upstream_stream_error' } });
      expect(healthy!.state().finished).toBe(healthyBefore); // not retried elsewhere
    }
    expect(endpoints).toContain(resettingId);
    expect(resetting!.state().resets).toBe(1);
    const text = await metrics(origin);
    expect(metricValue(text, 'origin_requests_total', { status: '502' })).toBe(1);
  });

  it('retries a 500 on the next endpoint; a request error (400) goes straight back', async () => {
    const [broken] = await startSims(1, { errorRate: 1 });
    const [good] = await startSims(1);
    sims.push(broken!, good!);
    origin = await startTestOrigin({
      pools: {
        // Round-robin: the broken endpoint is surely picked first for some of the requests.
        vllm: { kind: 'vllm', endpoints: [broken!.url, good!.url], policy: 'round-robin' },
      },
      models: { [LLAMA]: 'vllm' },
    });
    for (let i = 0; i < 4; i++) {
      const res = await post(
        origin,
        '/v1/chat/completions',
        chat('hi', { max_tokens: 2, stream: true }),
      );
      expect(res.status).toBe(200);
      expect(res.headers.get('x-origin-endpoint')).toBe(new URL(good!.url).host);
      expect((await sseData(res)).at(-1)).toBe('[DONE]');
    }
    // The broken endpoint was tried (and failed), and every request was retried on the good one.
    expect(broken!.state().injectedErrors).toBeGreaterThan(0);
    expect(good!.state().finished).toBe(4);
    const bad = await post(origin, '/v1/chat/completions', chat('hi', { max_tokens: -1 }));
    expect(bad.status).toBe(400);
  });

  it('times out a silent endpoint (504) and aborts the request there', async () => {
    const [hanging] = await startSims(1, { hangRate: 1 });
    sims.push(hanging!);
    origin = await startTestOrigin({
      pools: { vllm: { kind: 'vllm', endpoints: [hanging!.url] } },
      models: { [LLAMA]: 'vllm' },
      timeouts: { firstByteMs: 200 },
      retry: { maxAttempts: 1 },
    });
    const res = await post(origin, '/v1/chat/completions', chat('hi', { stream: true }));
    expect(res.status).toBe(504);
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe('upstream_timeout');
    await waitFor(() => hanging!.state().disconnects === 1);
  });
});

describe('admission control', () => {
  /** One endpoint that takes one request at a time, with slow decoding. */
  async function narrowOrigin(limits: Record<string, unknown>) {
    const [sim] = await startSims(1, { decodeMsPerToken: 10 });
    sims.push(sim!);
    origin = await startTestOrigin({
      pools: { vllm: { kind: 'vllm', endpoints: [sim!.url] } },
      models: { [LLAMA]: 'vllm' },
      limits: { maxInflightPerEndpoint: 1, ...limits },
    });
    return origin;
  }

  it('queues when saturated, sheds 429 when the queue is full and 503 when a wait times out', async () => {
    const o = await narrowOrigin({ queueSize: 1, queueTimeoutMs: 200 });
    const holder = await post(
      o,
      '/v1/chat/completions',
      chat('long', { max_tokens: 60, stream: true }),
    );
    expect(holder.status).toBe(200);
    const queued = post(o, '/v1/chat/completions', chat('queued', { max_tokens: 2 }));
    await waitFor(() => o.pools.get('vllm')!.queued === 1);
    expect(metricValue(await metrics(o), 'origin_queue_depth', { pool: 'vllm' })).toBe(1);
    const full = await post(o, '/v1/chat/completions', chat('full', { max_tokens: 2 }));
    expect(full.status).toBe(429);
    expect(full.headers.get('retry-after')).toBe('1');
    expect(((await full.json()) as { error: { code: string } }).error.code).toBe('queue_full');
    const timedOut = await queued;
    expect(timedOut.status).toBe(503);
    expect(timedOut.headers.get('retry-after')).toBe('1');
    await holder.text();
    const text = await metrics(o);
    expect(metricValue(text, 'origin_shed_total', { reason: 'queue_full' })).toBe(1);
    expect(metricValue(text, 'origin_shed_total', { reason: 'queue_timeout' })).toBe(1);
    expect(metricValue(text, 'origin_queue_depth', { pool: 'vllm' })).toBe(0);
  });

  it('serves the queue by priority, first come first served within one', async () => {
    const o = await narrowOrigin({ queueSize: 10, queueTimeoutMs: 5_000 });
    const holder = await post(
      o,
      '/v1/chat/completions',
      chat('long', { max_tokens: 20, stream: true }),
    );
    const order: string[] = [];
    const send = (name: string, priority: string) =>
      post(o, '/v1/chat/completions', chat(name, { max_tokens: 1 }), {
        'x-gateway-priority': priority,
      }).then(async (r) => {
        await r.text();
        order.push(name);
      });
    const all = [send('low-1', 'low'), send('normal-1', 'normal')];
    await waitFor(() => o.pools.get('vllm')!.queued === 2);
    all.push(send('high-1', 'high'), send('normal-2', 'bogus'));
    await waitFor(() => o.pools.get('vllm')!.queued === 4);
    await holder.text();
    await Promise.all(all);
    expect(order).toEqual(['high-1', 'normal-1', 'normal-2', 'low-1']);
  });

  it('frees the queue slot and the endpoint when clients leave', async () => {
    const o = await narrowOrigin({ queueSize: 4 });
    const pool = o.pools.get('vllm')!;
    const send = (body: unknown, signal: AbortSignal) =>
      signingFetch()(`${o.url}/v1/chat/completions`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
        signal,
      });
    const streamAbort = new AbortController();
    const holder = await send(chat('long', { max_tokens: 500, stream: true }), streamAbort.signal);
    const reader = holder.body!.getReader();
    await reader.read();
    const queuedAbort = new AbortController();
    const queued = send(chat('queued', { max_tokens: 2 }), queuedAbort.signal).catch(
      (e: Error) => e.name,
    );
    await waitFor(() => pool.queued === 1);
    queuedAbort.abort();
    expect(await queued).toBe('AbortError');
    await waitFor(() => pool.queued === 0);
    expect(pool.inflight).toBe(1);
    streamAbort.abort();
    await waitFor(() => pool.inflight === 0 && sims[0]!.state().disconnects === 1);
    const next = await post(o, '/v1/chat/completions', chat('next', { max_tokens: 2 }));
    expect(next.status).toBe(200);
    expect(sims[0]!.state().finished).toBe(1); // only `next`: the others never completed
  });

  it('answers 503 no_endpoints when no endpoint is healthy', async () => {
    origin = await startTestOrigin({
      pools: { vllm: { kind: 'vllm', endpoints: ['http://127.0.0.1:9'] } },
      models: { [LLAMA]: 'vllm' },
      health: { intervalMs: 50, timeoutMs: 200, unhealthyThreshold: 1 },
    });
    await waitFor(() => origin!.pools.get('vllm')!.live().length === 0);
    const res = await post(origin, '/v1/chat/completions', chat('hi'));
    expect(res.status).toBe(503);
    expect(res.headers.get('retry-after')).toBe('5');
    const text = await metrics(origin);
    expect(metricValue(text, 'origin_shed_total', { reason: 'no_endpoints' })).toBe(1);
    expect(metricValue(text, 'origin_endpoint_healthy', { endpoint: '127.0.0.1:9' })).toBe(0);
  });
});
