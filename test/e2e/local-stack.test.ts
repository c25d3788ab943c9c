/**
 * The README's first command, end to end: `npm run dev` as a child process (its own process
 * group, as in a terminal), then the official `openai` and `@anthropic-ai/sdk` clients against
 * the whole local system — the edge (wrangler dev, dev config), three origins over simulated
 * vLLM / TensorRT-LLM / TEI pools, the cloud provider fakes — and Ctrl-C at the end. Who
 * served what is checked where it happened: the simulators' own request counters and the
 * fakes' request counts (GET /__default), not only the gateway's headers.
 */
import Anthropic from '@anthropic-ai/sdk';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { portInUse } from '../../tools/dev/ports.ts';
import { REALTIME_REPLY } from '../../tools/fakes/openai-realtime.ts';
import { metricValue, waitFor } from '../origin/helpers.ts';
import { type DevStack, type StackState, startDevStack } from './processes.ts';

let stack: DevStack;
let state: StackState;
let edge = '';
const output = () => stack.output();
const key = (label: string) => state.keys.find((k) => k.label.startsWith(label))!.key;
const fakeUrl = (provider: string) => state.fakes.find((f) => f.provider === provider)!.url!;

beforeAll(async () => {
  stack = await startDevStack({ DEV_PROBE_INTERVAL_MS: '1000' });
  state = stack.state;
  edge = state.edge.url;
}, 180_000);

afterAll(() => stack?.kill());

/** Model requests each simulator has finished (its own Prometheus counters). */
const ADMIN = {
  authorization: 'Bearer dev-admin-token-change-me',
  'content-type': 'application/json',
};

/** A key made through the admin API with `policy`. */
async function createKey(policy: Record<string, unknown>): Promise<{ id: string; key: string }> {
  const res = await fetch(`${edge}/admin/keys`, {
    method: 'POST',
    headers: ADMIN,
    body: JSON.stringify(policy),
  });
  return (await res.json()) as { id: string; key: string };
}

async function simCounts(): Promise<Record<string, number>> {
  const names = { vllm: 'vllm:request_success_total', trt: 'trtllm_request_success_total' };
  const entries = await Promise.all(
    state.sims.map(async (s) => {
      const text = await (await fetch(`${s.url}/metrics`)).text();
      const metric = s.kind === 'tei' ? 'te_request_success' : names[s.kind as 'vllm' | 'trt'];
      return [s.name, metricValue(text, metric)] as const;
    }),
  );
  return Object.fromEntries(entries);
}

/** Model requests (POSTs: the health probe's GETs apart) each provider fake has received. */
async function fakeCounts(): Promise<Record<string, number>> {
  const entries = await Promise.all(
    state.fakes.map(async (f) => {
      const { byRoute } = (await (await fetch(`${f.url}/__default`)).json()) as {
        byRoute: Record<string, number>;
      };
      const posts = Object.entries(byRoute).filter(([route]) => route.startsWith('POST '));
      return [f.provider, posts.reduce((n, [, count]) => n + count, 0)] as const;
    }),
  );
  return Object.fromEntries(entries);
}

const changed = (before: Record<string, number>, after: Record<string, number>) =>
  Object.keys(after)
    .filter((k) => after[k] !== before[k])
    .sort();

const openai = (apiKey: string, headers: Record<string, string> = {}) =>
  new OpenAI({ baseURL: `${edge}/v1`, apiKey, maxRetries: 0, defaultHeaders: headers });

const setFake = (provider: string, step: Record<string, unknown>) =>
  fetch(`${fakeUrl(provider)}/__default`, {
    method: 'PUT',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ step }),
  });

describe('npm run dev: the whole system', () => {
  it('prints the summary: edge, origins, pools, fakes, keys and copy-paste curl lines', () => {
    expect(state.origins.map((o) => o.region)).toEqual(['us-east', 'eu-west', 'ap-south']);
    expect(state.sims).toHaveLength(12);
    expect(state.keys.map((k) => k.label.split(' ')[0])).toEqual([
      'development',
      'unrestricted',
      'EU-resident',
      'small',
    ]);
    for (const line of ['curl -i', 'curl -N', 'cf-ipcountry: DE', state.keys[2]!.key]) {
      expect(output()).toContain(line);
    }
  });

  it('serves the operator console as static assets under /console, with a strict CSP', async () => {
    expect(output()).toContain(`${edge}/console/`);
    const root = await fetch(`${edge}/`, { headers: { accept: 'text/html' }, redirect: 'manual' });
    expect(root.status).toBe(302);
    expect(root.headers.get('location')).toBe('/console/');
    const page = await fetch(`${edge}/console/`);
    expect(page.status).toBe(200);
    const html = await page.text();
    expect(html).toContain('<div id="app">');
    expect(page.headers.get('content-security-policy')).toContain("script-src 'self'");
    const script = html.match(/<script[^>]+src="([^"]+)"/)?.[1];
    const js = await fetch(`${edge}${script}`);
    expect(js.status).toBe(200);
    expect(js.headers.get('content-type')).toContain('javascript');
    // An API client at the root still gets the JSON 404.
    expect((await fetch(`${edge}/`)).status).toBe(404);
  });

  it('serves a self-hosted model from an origin, plain and streamed', async () => {
    const before = await simCounts();
    const client = openai(key('development'));
    const { data, response } = await client.chat.completions
      .create({
        model: 'llama-3.1-8b-instruct',
        messages: [{ role: 'user', content: 'Hello there' }],
      })
      .withResponse();
    expect(response.headers.get('x-gateway-provider')).toBe('origin-us-east');
    expect(response.headers.get('x-gateway-region')).toBe('us-east');
    expect(data.model).toBe('meta-llama/Llama-3.1-8B-Instruct');
    expect(data.usage!.completion_tokens).toBeGreaterThan(0);

    const stream = await client.chat.completions.create({
      model: 'qwen2.5-7b-instruct',
      messages: [{ role: 'user', content: 'Stream please' }],
      stream: true,
    });
    let text = '';
    for await (const chunk of stream) text += chunk.choices[0]?.delta?.content ?? '';
    expect(text.length).toBeGreaterThan(0);
    const after = await simCounts();
    // One request on a us-east vLLM endpoint, one on the us-east TensorRT-LLM endpoint.
    const moved = changed(before, after);
    expect(moved).toHaveLength(2);
    expect(moved.filter((n) => n.startsWith('vllm-us-east-'))).toHaveLength(1);
    expect(moved).toContain('trt-us-east-1');
  });

  it('embeds with TEI: 384 dimensions, deterministic per text, different texts differ', async () => {
    const before = await simCounts();
    const client = openai(key('development'));
    const a = await client.embeddings.create({
      model: 'bge-small-en-v1.5',
      input: ['alpha', 'beta'],
    });
    const again = await client.embeddings.create({ model: 'bge-small-en-v1.5', input: 'alpha' });
    expect(a.data[0]!.embedding).toHaveLength(384);
    expect(a.data[0]!.embedding).not.toEqual(a.data[1]!.embedding);
    expect(again.data[0]!.embedding).toEqual(a.data[0]!.embedding);
    const moved = changed(before, await simCounts());
    // The second call may be a cache hit (embeddings are deterministic): at least one reached TEI.
    expect(moved).toEqual(['tei-us-east-1']);
  });

  it('answers a Claude message through Anthropic, and through Bedrock when Anthropic fails', async () => {
    const client = new Anthropic({ baseURL: edge, apiKey: key('development'), maxRetries: 0 });
    const ask = (content: string) =>
      client.messages
        .create({
          model: 'claude-sonnet-4-6',
          max_tokens: 64,
          messages: [{ role: 'user', content }],
        })
        .withResponse();
    const first = await ask('Hi Claude');
    expect(first.response.headers.get('x-gateway-provider')).toBe('anthropic');
    expect(first.data.content[0]).toMatchObject({ type: 'text' });

    const before = await fakeCounts();
    await setFake('anthropic', { status: 529 });
    try {
      const second = await ask('Hi again');
      expect(second.response.headers.get('x-gateway-provider')).toBe('bedrock-us');
      expect(second.data.role).toBe('assistant');
    } finally {
      await setFake('anthropic', {});
    }
    expect(changed(before, await fakeCounts())).toEqual(['anthropic', 'bedrock-us']);
  });

  it('keeps an EU-resident key asking from DE inside the EU, failover included', async () => {
    const sims = await simCounts();
    const fakes = await fakeCounts();
    const eu = openai(key('EU-resident'), { 'cf-ipcountry': 'DE' });
    const served: string[] = [];
    const chat = await eu.chat.completions
      .create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'EU chat' }] })
      .withResponse();
    served.push(chat.response.headers.get('x-gateway-provider')!);
    await setFake('azure-eu', { status: 500 });
    try {
      const failover = await eu.chat.completions
        .create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'EU failover' }] })
        .withResponse();
      served.push(failover.response.headers.get('x-gateway-provider')!);
    } finally {
      await setFake('azure-eu', {});
    }
    for (const model of ['text-embedding-3-small', 'bge-small-en-v1.5']) {
      const e = await eu.embeddings.create({ model, input: `EU text for ${model}` }).withResponse();
      served.push(e.response.headers.get('x-gateway-provider')!);
    }
    const claude = new Anthropic({
      baseURL: edge,
      apiKey: key('EU-resident'),
      maxRetries: 0,
      defaultHeaders: { 'cf-ipcountry': 'DE' },
    });
    const message = await claude.messages
      .create({
        model: 'claude-sonnet-4-6',
        max_tokens: 32,
        messages: [{ role: 'user', content: 'EU Claude' }],
      })
      .withResponse();
    served.push(message.response.headers.get('x-gateway-provider')!);

    expect(served).toEqual([
      'azure-eu',
      'origin-eu-west',
      'azure-eu',
      'origin-eu-west',
      'bedrock-eu',
    ]);
    expect(changed(fakes, await fakeCounts())).toEqual(['azure-eu', 'bedrock-eu']);
    const simsMoved = changed(sims, await simCounts());
    expect(simsMoved.length).toBeGreaterThan(0);
    expect(simsMoved.every((n) => n.includes('-eu-west-'))).toBe(true);
  });

  it('moves the home region with the trusted country header', async () => {
    const client = openai(key('unrestricted'));
    const regionFor = async (country: string) => {
      const { response } = await client.chat.completions
        .create(
          {
            model: 'llama-3.1-8b-instruct',
            messages: [{ role: 'user', content: `from ${country}` }],
          },
          { headers: { 'cf-ipcountry': country } },
        )
        .withResponse();
      return response.headers.get('x-gateway-region');
    };
    expect(await regionFor('DE')).toBe('eu-west');
    expect(await regionFor('IN')).toBe('ap-south');
    expect(await regionFor('US')).toBe('us-east');
  });

  it('answers 429 with retry-after and x-ratelimit headers to the small-limits key', async () => {
    const ask = () =>
      fetch(`${edge}/v1/chat/completions`, {
        method: 'POST',
        headers: {
          authorization: `Bearer ${key('small limits')}`,
          'content-type': 'application/json',
        },
        body: JSON.stringify({
          model: 'llama-3.1-8b-instruct',
          max_tokens: 8,
          messages: [{ role: 'user', content: 'limit me' }],
        }),
      });
    const statuses: number[] = [];
    let refused: Response | undefined;
    for (let i = 0; i < 6; i++) {
      const res = await ask();
      statuses.push(res.status);
      expect(res.headers.get('x-ratelimit-limit-requests')).toBe('5');
      if (res.status === 429) refused = res;
      else await res.body?.cancel();
    }
    expect(statuses).toEqual([200, 200, 200, 200, 200, 429]);
    expect(Number(refused!.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(refused!.headers.get('x-ratelimit-remaining-requests')).toBe('0');
    expect(((await refused!.json()) as { error: { code: string } }).error.code).toBe(
      'rate_limit_exceeded',
    );
  });

  it('fails over to the next region when an origin stops, and back when it starts again', async () => {
    const eu = state.origins.find((o) => o.region === 'eu-west')!;
    const client = openai(key('unrestricted'), { 'cf-ipcountry': 'FR' });
    const region = async () => {
      const { response } = await client.chat.completions
        .create({ model: 'llama-3.1-8b-instruct', messages: [{ role: 'user', content: 'hi' }] })
        .withResponse();
      return response.headers.get('x-gateway-region');
    };
    expect(await region()).toBe('eu-west');
    process.kill(eu.pid, 'SIGKILL');
    await waitFor(() => output().includes('origin-eu-west exited'), 10_000);
    expect(await region()).toBe('us-east'); // the nearest other region

    stack.command('start origin-eu-west');
    await waitFor(() => output().includes('origin-eu-west is up again'), 30_000);
    // Back once its circuit cools down (10 s in the dev config) and the probe sees it.
    await waitFor(async () => (await region()) === 'eu-west', 40_000);
  }, 90_000);

  it('relays a realtime WebSocket session both ways and charges its usage to the key', async () => {
    const made = await createKey({ name: 'realtime e2e', tenant: 'acme', residency: 'none' });
    const before = await fakeCounts();
    const url = `${edge.replace('http', 'ws')}/v1/realtime?model=gpt-realtime`;
    // The browser form: the key as a subprotocol (browsers cannot set headers).
    const socket = new WebSocket(url, ['realtime', `openai-insecure-api-key.${made.key}`]);
    const events: Record<string, unknown>[] = [];
    const done = new Promise<void>((resolve, reject) => {
      socket.addEventListener('error', () => reject(new Error('websocket error')));
      socket.addEventListener('message', (m) => {
        const event = JSON.parse(String(m.data)) as Record<string, unknown>;
        events.push(event);
        if (event.type === 'session.created') {
          socket.send(
            JSON.stringify({
              type: 'conversation.item.create',
              item: {
                type: 'message',
                role: 'user',
                content: [{ type: 'input_text', text: 'Say hello over realtime' }],
              },
            }),
          );
          socket.send(JSON.stringify({ type: 'response.create' }));
        }
        if (event.type === 'response.done') resolve();
      });
    });
    await done;
    expect(socket.protocol).toBe('realtime');
    socket.close();
    const types = events.map((e) => e.type);
    expect(types[0]).toBe('session.created');
    expect(types).toContain('conversation.item.created'); // the client's event reached upstream
    const text = events
      .filter((e) => e.type === 'response.output_text.delta')
      .map((e) => e.delta)
      .join('');
    expect(text).toBe(REALTIME_REPLY);
    const reported = (
      events.at(-1)!.response as { usage: { input_tokens: number; output_tokens: number } }
    ).usage;
    expect(changed(before, await fakeCounts())).toEqual([]); // no POST: the session is a GET upgrade
    await waitFor(async () => {
      const usage = (await (
        await fetch(`${edge}/admin/keys/${made.id}/usage`, { headers: ADMIN })
      ).json()) as {
        month_usage: { requests: number; prompt_tokens: number; completion_tokens: number };
      };
      return (
        usage.month_usage.requests === 1 &&
        usage.month_usage.prompt_tokens === reported.input_tokens &&
        usage.month_usage.completion_tokens === reported.output_tokens
      );
    }, 10_000);
  });

  it('a refused realtime response.create is answered with an error and the next one is still charged', async () => {
    const made = await createKey({
      name: 'realtime tpm',
      tenant: 'acme',
      residency: 'none',
      limits: { tokensPerMinute: 2_000 },
    });
    const url = `${edge.replace('http', 'ws')}/v1/realtime?model=gpt-realtime`;
    const socket = new WebSocket(url, ['realtime', `openai-insecure-api-key.${made.key}`]);
    const events: Record<string, unknown>[] = [];
    await new Promise<void>((resolve, reject) => {
      socket.addEventListener('error', () => reject(new Error('websocket error')));
      socket.addEventListener('message', (m) => {
        const event = JSON.parse(String(m.data)) as Record<string, unknown>;
        events.push(event);
        // More than the whole tokens/min bucket: refused; then an ordinary one.
        if (event.type === 'session.created') {
          socket.send(
            JSON.stringify({ type: 'response.create', response: { max_output_tokens: 100_000 } }),
          );
        }
        if (event.type === 'error') socket.send(JSON.stringify({ type: 'response.create' }));
        if (event.type === 'response.done') resolve();
      });
    });
    socket.close();
    expect(events.find((e) => e.type === 'error')).toMatchObject({
      error: { code: 'rate_limit_exceeded' },
    });
    const reported = (events.at(-1)!.response as { usage: { output_tokens: number } }).usage;
    await waitFor(async () => {
      const usage = (await (
        await fetch(`${edge}/admin/keys/${made.id}/usage`, { headers: ADMIN })
      ).json()) as {
        month_usage: { completion_tokens: number };
      };
      return usage.month_usage.completion_tokens === reported.output_tokens;
    }, 10_000);
  });

  it('refuses a realtime upgrade without a key, and an EU key reaches only the EU endpoint', async () => {
    const url = `${edge.replace('http', 'ws')}/v1/realtime?model=gpt-realtime`;
    const refused = await new Promise<string>((resolve) => {
      const socket = new WebSocket(url);
      socket.addEventListener('open', () => resolve('open'));
      socket.addEventListener('error', () => resolve('error'));
    });
    expect(refused).toBe('error');

    type Counted = { byRoute: Record<string, number> };
    const counted = async (provider: string) =>
      (await (await fetch(`${fakeUrl(provider)}/__default`)).json()) as Counted;
    const azureBefore = await counted('azure-eu');
    const openaiBefore = await counted('openai');
    const socket = new WebSocket(`${url}`, [
      'realtime',
      `openai-insecure-api-key.${key('EU-resident')}`,
    ]);
    await new Promise<void>((resolve, reject) => {
      socket.addEventListener('message', () => resolve());
      socket.addEventListener('error', () => reject(new Error('websocket error')));
    });
    socket.close();
    const azureAfter = await counted('azure-eu');
    const openaiAfter = await counted('openai');
    const realtime = (b: Counted) =>
      Object.entries(b.byRoute)
        .filter(([r]) => r.includes('/realtime'))
        .reduce((n, [, v]) => n + v, 0);
    expect(realtime(azureAfter) - realtime(azureBefore)).toBe(1);
    expect(realtime(openaiAfter) - realtime(openaiBefore)).toBe(0);
  });

  it('writes each request to the request log (queue -> consumer -> PostgreSQL)', async () => {
    const { response } = await openai(key('development'))
      .chat.completions.create({
        model: 'llama-3.1-8b-instruct',
        messages: [{ role: 'user', content: 'log me' }],
      })
      .withResponse();
    const requestId = response.headers.get('x-request-id')!;
    await waitFor(async () => {
      const res = await fetch(`${edge}/admin/requests/${requestId}`, { headers: ADMIN });
      if (res.status !== 200) return false;
      const event = (await res.json()) as Record<string, unknown>;
      return event.provider === 'origin-us-east' && event.status === 200;
    }, 30_000);
  });

  it('stops every process and frees every port on Ctrl-C', async () => {
    const ports = [
      edge,
      ...state.origins.map((o) => o.url),
      ...state.sims.map((s) => s.url),
      ...state.fakes.map((f) => f.url!),
      state.usageDb.url,
    ].map((u) => Number(new URL(u).port));
    const exited = new Promise((r) => stack.child.once('exit', r));
    process.kill(-stack.child.pid!, 'SIGINT'); // what a terminal sends to the foreground group
    await exited;
    const alive = (pid: number) => {
      try {
        process.kill(pid, 0);
        return true;
      } catch {
        return false;
      }
    };
    await waitFor(() => !state.pids.some(alive), 10_000).catch(() => {});
    expect(state.pids.filter(alive)).toEqual([]);
    const listening = await Promise.all(ports.map(portInUse));
    expect(ports.filter((_, i) => listening[i])).toEqual([]);
  }, 30_000);
});
