import { describe, expect, it } from 'vitest';
import { hello, openaiAt, scenario, singleModel, UPSTREAM_KEY } from './helpers.ts';

describe('POST /v1/chat/completions (non-streaming)', () => {
  it('proxies to the target with the upstream model, the provider key and unknown fields kept', async () => {
    const s = await scenario({ content: 'Bonjour le monde' });
    const gw = singleModel({ primary: openaiAt(s) });
    const res = await gw.chat(
      { ...hello, temperature: 0, guided_json: { type: 'object' }, logit_bias: { '50256': -100 } },
      { authorization: 'Bearer client-key-should-not-travel' },
    );
    expect(res.status).toBe(200);
    const body = (await res.json()) as {
      object: string;
      choices: { message: { content: string } }[];
      usage: { completion_tokens: number };
    };
    expect(body.object).toBe('chat.completion');
    expect(body.choices[0]!.message.content).toBe('Bonjour le monde');
    expect(body.usage.completion_tokens).toBe(3);

    const [seen] = await s.requests();
    expect(seen!.path).toBe(`/s/${s.id}/v1/chat/completions`);
    expect(seen!.body).toMatchObject({
      model: 'up-primary',
      temperature: 0,
      guided_json: { type: 'object' },
      logit_bias: { '50256': -100 },
    });
    expect(seen!.headers.authorization).toBe(`Bearer ${UPSTREAM_KEY}`);
  });

  it('sets x-request-id (generated, or kept from the client), provider and attempts', async () => {
    const s = await scenario({});
    const gw = singleModel({ primary: openaiAt(s) });
    const generated = await gw.chat(hello);
    expect(generated.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
    expect(generated.headers.get('x-gateway-provider')).toBe('primary');
    expect(generated.headers.get('x-gateway-attempts')).toBe('1');

    const kept = await gw.chat(hello, { 'x-request-id': 'client-req-42' });
    expect(kept.headers.get('x-request-id')).toBe('client-req-42');
  });

  it('writes one log line with usage, latency and time to first byte', async () => {
    const s = await scenario({ content: 'one two three four' });
    const gw = singleModel({ primary: openaiAt(s) });
    const res = await gw.chat(hello, { 'x-request-id': 'log-me' });
    await res.text();
    expect(gw.logs).toHaveLength(1);
    const line = gw.logs[0]!;
    expect(line).toMatchObject({
      request_id: 'log-me',
      method: 'POST',
      path: '/v1/chat/completions',
      status: 200,
      model: 'm',
      provider: 'primary',
      upstream_model: 'up-primary',
      attempts: 1,
      stream: false,
      usage: { completion_tokens: 4, source: 'upstream' },
    });
    expect(line.usage!.prompt_tokens).toBeGreaterThan(0);
    expect(line.latency_ms).toBeGreaterThanOrEqual(0);
    expect(line.ttfb_ms).toBeGreaterThanOrEqual(0);
    expect(JSON.stringify(gw.logs)).not.toContain(UPSTREAM_KEY);
  });

  it('passes tool calls through unchanged', async () => {
    const s = await scenario({ toolCall: { name: 'get_weather', arguments: '{"city":"Paris"}' } });
    const gw = singleModel({ primary: openaiAt(s) });
    const res = await gw.chat({
      ...hello,
      tools: [{ type: 'function', function: { name: 'get_weather' } }],
    });
    const body = (await res.json()) as {
      choices: {
        finish_reason: string;
        message: { tool_calls: { function: { arguments: string } }[] };
      }[];
    };
    expect(body.choices[0]!.finish_reason).toBe('tool_calls');
    expect(body.choices[0]!.message.tool_calls[0]!.function.arguments).toBe('{"city":"Paris"}');
  });
});
