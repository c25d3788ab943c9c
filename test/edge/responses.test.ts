/**
 * POST /v1/responses with the official openai SDK: passed through to an OpenAI target as it
 * came (event for event), translated to chat completions for any other target (text, a
 * function call round trip, JSON schema output, usage), `previous_response_id` across calls
 * whichever target answered, and stored responses readable only by their tenant.
 */
import OpenAI from 'openai';
import { describe, expect, it } from 'vitest';
import {
  createKey,
  eventually,
  gateway,
  openaiAt,
  type Scenario,
  scenario,
  UPSTREAM_KEY,
} from './helpers.ts';

function setup(provider: Record<string, unknown>) {
  const gw = gateway({
    auth: { enabled: true },
    cache: { enabled: false },
    providers: { up: provider },
    models: { m: { targets: [{ provider: 'up', model: 'up-model' }] } },
  });
  const client = (apiKey: string) =>
    new OpenAI({
      apiKey,
      baseURL: 'http://gateway.test/v1',
      maxRetries: 0,
      fetch: (url, init) => gw.request(String(url).replace('http://gateway.test', ''), init),
    });
  return { gw, client };
}

const compatibleAt = (s: Scenario) => ({
  kind: 'openai-compatible',
  baseUrl: `${s.baseUrl}/v1`,
  apiKey: UPSTREAM_KEY,
});

async function sse(res: Response): Promise<{ event: string; data: Record<string, unknown> }[]> {
  const text = await res.text();
  return text
    .split('\n\n')
    .filter((b) => b.includes('data: '))
    .map((block) => {
      const event = /^event: (.+)$/m.exec(block)?.[1] ?? '';
      const data = JSON.parse(/^data: (.+)$/m.exec(block)![1]!) as Record<string, unknown>;
      return { event, data };
    });
}

describe('POST /v1/responses to an OpenAI target (pass-through)', () => {
  it('sends the request as it came and answers with the upstream Response', async () => {
    const s = await scenario({ content: 'native answer here' });
    const { gw, client } = setup(openaiAt(s));
    const { key } = await createKey(gw);
    const { data, response } = await client(key)
      .responses.create({
        model: 'm',
        input: 'Say hi',
        instructions: 'Be brief',
        include: ['reasoning.encrypted_content'],
      })
      .withResponse();
    expect(response.headers.get('x-gateway-provider')).toBe('up');
    expect(data.output_text).toBe('native answer here');
    expect(data.id).toMatch(/^resp_[0-9a-f]{48}$/);
    expect(data.usage).toMatchObject({ output_tokens: 3 });
    const [seen] = await s.requests();
    expect(seen!.path).toBe(`/s/${s.id}/v1/responses`);
    // As it came: unknown fields too; only the model is the upstream's.
    expect(seen!.body).toEqual({
      model: 'up-model',
      input: 'Say hi',
      instructions: 'Be brief',
      include: ['reasoning.encrypted_content'],
    });
  });

  it('relays the upstream events untouched, in order', async () => {
    const s = await scenario({ content: 'one two three' });
    const { gw } = setup(openaiAt(s));
    const { headers } = await createKey(gw);
    const res = await gw.request('/v1/responses', {
      method: 'POST',
      headers: { ...headers, 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'm', input: 'count', stream: true }),
    });
    const relayed = await res.text();
    // Byte for byte what the upstream writes for that request, but for its fresh ids and clock.
    const direct = await scenario({ content: 'one two three' });
    const upstream = await (
      await fetch(`${direct.baseUrl}/v1/responses`, {
        method: 'POST',
        headers: { authorization: 'Bearer k', 'content-type': 'application/json' },
        body: JSON.stringify({ model: 'up-model', input: 'count', stream: true }),
      })
    ).text();
    const fresh = (text: string) =>
      text
        .replace(/\b(resp|msg|fc|call)_[0-9a-f]+/g, '$1_ID')
        .replace(/"created_at":\d+/g, '"created_at":0');
    expect(fresh(relayed)).toBe(fresh(upstream));
    const events = await sse(new Response(relayed));
    expect(events.map((e) => e.event)).toEqual([
      'response.created',
      'response.in_progress',
      'response.output_item.added',
      'response.content_part.added',
      'response.output_text.delta',
      'response.output_text.delta',
      'response.output_text.delta',
      'response.output_text.done',
      'response.content_part.done',
      'response.output_item.done',
      'response.completed',
    ]);
    // The fake's own fields (logprobs on deltas) survive: nothing was re-made.
    expect(events[4]!.data).toMatchObject({ delta: 'one ', logprobs: [], sequence_number: 4 });
    expect(events.every((e) => e.event === e.data.type)).toBe(true);
  });
});

describe('POST /v1/responses to a chat-completions target (translated)', () => {
  it('answers text with usage, from the translated chat request', async () => {
    const s = await scenario({ content: 'translated words' });
    const { gw, client } = setup(compatibleAt(s));
    const { key } = await createKey(gw);
    const res = await client(key).responses.create({
      model: 'm',
      instructions: 'You are terse',
      input: [{ role: 'user', content: [{ type: 'input_text', text: 'Hello' }] }],
      max_output_tokens: 50,
      temperature: 0.2,
    });
    expect(res.object).toBe('response');
    expect(res.status).toBe('completed');
    expect(res.output_text).toBe('translated words');
    const [seen] = await s.requests();
    expect(seen!.path).toBe(`/s/${s.id}/v1/chat/completions`);
    expect(seen!.body).toMatchObject({
      model: 'up-model',
      max_tokens: 50,
      temperature: 0.2,
      messages: [
        { role: 'system', content: 'You are terse' },
        { role: 'user', content: [{ type: 'text', text: 'Hello' }] },
      ],
    });
    // The fake's chat usage: prompt = per message ceil(len/4) + 3; completion = 2 pieces.
    const promptTokens =
      Math.ceil('You are terse'.length / 4) + 3 + Math.ceil('Hello'.length / 4) + 3;
    expect(res.usage).toMatchObject({
      input_tokens: promptTokens,
      output_tokens: 2,
      total_tokens: promptTokens + 2,
      input_tokens_details: { cached_tokens: 0 },
      output_tokens_details: { reasoning_tokens: 0 },
    });
  });

  it('round-trips a function call with previous_response_id, and asks for JSON schema output', async () => {
    const s = await scenario(
      { toolCall: { name: 'get_weather', arguments: '{"city":"Oslo"}' } },
      { content: '{"summary":"cold"}' },
    );
    const { gw, client } = setup(compatibleAt(s));
    const { key } = await createKey(gw);
    const tools = [
      {
        type: 'function' as const,
        name: 'get_weather',
        description: 'Weather of a city',
        parameters: { type: 'object', properties: { city: { type: 'string' } } },
        strict: false,
      },
    ];
    const first = await client(key).responses.create({
      model: 'm',
      input: 'Weather in Oslo?',
      tools,
      tool_choice: 'auto',
    });
    const call = first.output.find((o) => o.type === 'function_call');
    expect(call).toMatchObject({ name: 'get_weather', arguments: '{"city":"Oslo"}' });

    // The store write runs after the answer: wait until the first response can be read back.
    await eventually(async () =>
      expect((await client(key).responses.retrieve(first.id)).id).toBe(first.id),
    );
    const second = await client(key).responses.create({
      model: 'm',
      previous_response_id: first.id,
      input: [
        {
          type: 'function_call_output',
          call_id: (call as { call_id: string }).call_id,
          output: '-3C',
        },
      ],
      text: {
        format: {
          type: 'json_schema',
          name: 'summary',
          schema: { type: 'object', properties: { summary: { type: 'string' } } },
          strict: true,
        },
      },
    });
    expect(second.output_text).toBe('{"summary":"cold"}');
    expect(second.previous_response_id).toBe(first.id);
    const seen = (await s.requests())[1]!.body as Record<string, unknown>;
    expect(seen.messages).toEqual([
      { role: 'user', content: 'Weather in Oslo?' },
      {
        role: 'assistant',
        content: null,
        tool_calls: [
          {
            id: (call as { call_id: string }).call_id,
            type: 'function',
            function: { name: 'get_weather', arguments: '{"city":"Oslo"}' },
          },
        ],
      },
      { role: 'tool', tool_call_id: (call as { call_id: string }).call_id, content: '-3C' },
    ]);
    expect(seen.response_format).toEqual({
      type: 'json_schema',
      json_schema: {
        name: 'summary',
        schema: { type: 'object', properties: { summary: { type: 'string' } } },
        strict: true,
      },
    });
  });

  it('streams the events clients read, usage in response.completed', async () => {
    const s = await scenario({ content: 'streamed reply text' });
    const { gw, client } = setup(compatibleAt(s));
    const { key } = await createKey(gw);
    const stream = client(key).responses.stream({ model: 'm', input: 'go' });
    const types: string[] = [];
    let text = '';
    for await (const event of stream) {
      types.push(event.type);
      if (event.type === 'response.output_text.delta') text += event.delta;
    }
    const final = await stream.finalResponse();
    expect(text).toBe('streamed reply text');
    expect(final.output_text).toBe('streamed reply text');
    expect(final.usage).toMatchObject({ output_tokens: 3 });
    expect(types[0]).toBe('response.created');
    expect(types.at(-1)).toBe('response.completed');
    expect(types).toContain('response.output_item.added');
    expect(types).toContain('response.output_text.done');
    expect(types).toContain('response.output_item.done');
  });
});

describe('stored responses', () => {
  it('are read back, listed, continued and deleted by their tenant only', async () => {
    const s = await scenario({ content: 'kept' });
    const { gw, client } = setup(compatibleAt(s));
    const suffix = crypto.randomUUID().slice(0, 8);
    const a = await createKey(gw, { tenant: `a-${suffix}` });
    const b = await createKey(gw, { tenant: `b-${suffix}` });
    const made = await client(a.key).responses.create({ model: 'm', input: 'remember me' });

    await eventually(async () =>
      expect((await client(a.key).responses.retrieve(made.id)).output_text).toBe('kept'),
    );
    const items = await client(a.key).responses.inputItems.list(made.id);
    expect(items.data).toHaveLength(1);
    expect(items.data[0]).toMatchObject({ role: 'user', content: 'remember me' });

    await expect(client(b.key).responses.retrieve(made.id)).rejects.toBeInstanceOf(
      OpenAI.NotFoundError,
    );
    const followUp = client(b.key).responses.create({
      model: 'm',
      input: 'and now?',
      previous_response_id: made.id,
    });
    await expect(followUp).rejects.toMatchObject({
      status: 404,
      code: 'previous_response_not_found',
    });
    await expect(client(b.key).responses.delete(made.id)).rejects.toBeInstanceOf(
      OpenAI.NotFoundError,
    );
    await client(a.key).responses.delete(made.id);
    await expect(client(a.key).responses.retrieve(made.id)).rejects.toBeInstanceOf(
      OpenAI.NotFoundError,
    );
    expect((await s.requests()).length).toBe(1); // the refused follow-up never left the edge
  });

  it('are not kept with store: false', async () => {
    const s = await scenario({ content: 'forget me' });
    const { gw, client } = setup(compatibleAt(s));
    const { key } = await createKey(gw);
    const made = await client(key).responses.create({ model: 'm', input: 'x', store: false });
    expect((made as unknown as { store: boolean }).store).toBe(false);
    // A stored one made after it is readable: had the first been written, it would be too.
    const kept = await client(key).responses.create({ model: 'm', input: 'y' });
    await eventually(async () =>
      expect((await client(key).responses.retrieve(kept.id)).id).toBe(kept.id),
    );
    await expect(client(key).responses.retrieve(made.id)).rejects.toBeInstanceOf(
      OpenAI.NotFoundError,
    );
  });
});
