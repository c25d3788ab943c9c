import { describe, expect, it, vi } from 'vitest';
import type { CacheEntry } from '../cache/index.ts';
import { loadConfig } from '../config/index.ts';
import type { Edge } from '../context.ts';
import { admit } from '../limits/index.ts';
import type { RequestLogRecord } from '../observability/index.ts';
import type { Usage } from '../usage/index.ts';
import { answerFromCache } from './from-cache.ts';
import { settle } from './settle.ts';

// The stages run without Hono: an Edge that records, a real Admission (no Redis: nothing to
// write, but its cost is the config's prices).
const config = loadConfig(
  {
    auth: { enabled: false },
    providers: { p: { kind: 'openai', baseUrl: 'http://127.0.0.1:9/v1', apiKey: 'sk-test' } },
    models: { m: { targets: [{ provider: 'p', model: 'up' }] } },
    // $1 per token
    prices: { up: { inputPerMTok: 1_000_000, outputPerMTok: 1_000_000 } },
  },
  {},
);
const usage: Usage = {
  prompt_tokens: 6,
  completion_tokens: 4,
  total_tokens: 10,
  source: 'upstream',
};

function recordingEdge() {
  const events: string[] = [];
  const notes: Partial<RequestLogRecord> = {};
  const headers: Record<string, string> = {};
  const edge: Edge = {
    note: (fields) => Object.assign(notes, fields),
    header: (name, value) => {
      headers[name] = value;
    },
    waitUntil: () => undefined,
    deferLog: () => (fields) => {
      events.push('log written');
      Object.assign(notes, fields);
    },
    captureAnswer: (text) => events.push(`captured ${text}`),
  };
  return { edge, events, notes, headers };
}

async function admission() {
  const { edge } = recordingEdge();
  const request = {
    endpoint: 'chat/completions',
    body: { model: 'm' },
    model: config.models.m!,
  } as const;
  const real = await admit(
    { config, redis: undefined, redisBackground: undefined },
    { key: undefined, requestId: 'req-1' },
    request,
    edge,
  );
  return { admission: real, settled: vi.spyOn(real, 'settle') };
}

describe('settle (every ending)', () => {
  it('charges the usage at the prices of who served, once, and gives the log line usage and cost', async () => {
    const { admission: a, settled } = await admission();
    const { edge, events, notes } = recordingEdge();
    const writeLog = edge.deferLog();
    const ending = {
      usage,
      priced: { provider: 'p', upstreamModel: 'up' },
      answerText: 'Hi!',
      log: { status: 200, stream_end: 'done' },
    };
    expect(settle(ending, a, edge, writeLog)).toBe(10e9);
    expect(settled).toHaveBeenCalledExactlyOnceWith({ usage, provider: 'p', upstreamModel: 'up' });
    expect(notes).toEqual({ usage, cost_usd: 10, status: 200, stream_end: 'done' });
    // the usage event takes the captured payload when the line is written: capture first
    expect(events).toEqual(['captured Hi!', 'log written']);
  });

  it('charges nothing without prices to charge at (an uncharged cache hit)', async () => {
    const { admission: a, settled } = await admission();
    const { edge, notes } = recordingEdge();
    const ending = { usage, answerText: null, log: { cache_tier: 'local' } };
    expect(settle(ending, a, edge, edge.note)).toBe(0);
    expect(settled).toHaveBeenCalledExactlyOnceWith({ usage });
    expect(notes).toEqual({ usage, cost_usd: 0, cache_tier: 'local' });
  });
});

describe('answerFromCache', () => {
  const entry: CacheEntry = {
    v: 1,
    createdAt: Date.now() - 5_000,
    body: { id: 'chatcmpl-1', choices: [{ message: { content: 'Hi!' } }], usage },
    served: { provider: 'p', upstreamModel: 'up' },
  };
  const hit = { entry, ageSeconds: 5, tier: 'redis' };
  const input = { stream: false, clientWantsUsage: false, startedAt: Date.now() };

  for (const chargeHits of [false, true]) {
    it(`settles a hit through the one settlement, charged: ${chargeHits}`, async () => {
      const { admission: a, settled } = await admission();
      const { edge, notes } = recordingEdge();
      const answer = answerFromCache(hit, { ...input, chargeHits, admission: a }, edge);
      const cost = chargeHits ? 10 : 0;
      expect(JSON.parse(answer.body as string)).toEqual(entry.body);
      expect(answer.headers).toMatchObject({ age: '5', 'x-gateway-cost-usd': String(cost) });
      expect(settled).toHaveBeenCalledExactlyOnceWith({
        usage,
        ...(chargeHits ? entry.served : {}),
      });
      expect(notes).toMatchObject({ cache_tier: 'redis', usage, cost_usd: cost });
    });
  }
});
