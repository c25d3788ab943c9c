import { describe, expect, it } from 'vitest';
import { eventually, hello, openaiAt, scenario, singleModel, sseData } from './helpers.ts';

const streamed = { ...hello, stream: true };

/** What the fake upstream itself sends for a request, read directly (no gateway). */
async function direct(baseUrl: string, body: Record<string, unknown>): Promise<string[]> {
  const res = await fetch(`${baseUrl}/v1/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: 'Bearer direct' },
    body: JSON.stringify(body),
  });
  return sseData(res);
}

describe('streaming chat completions', () => {
  it('relays the upstream chunk for chunk, with SSE headers', async () => {
    const s = await scenario({ content: 'alpha beta gamma delta' });
    const gw = singleModel({ primary: openaiAt(s) });
    const res = await gw.chat({ ...streamed, stream_options: { include_usage: true } });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toContain('text/event-stream');
    expect(res.headers.get('cache-control')).toBe('no-cache');
    expect(res.headers.get('x-accel-buffering')).toBe('no');
    expect(res.headers.get('x-gateway-provider')).toBe('primary');
    const viaGateway = await sseData(res);

    const upstream = await direct(s.baseUrl, {
      ...streamed,
      model: 'up-primary',
      stream_options: { include_usage: true },
    });
    const normalize = (events: string[]) =>
      events.map((e) => (e === '[DONE]' ? e : { ...JSON.parse(e), id: 'x', created: 0 }));
    expect(normalize(viaGateway)).toEqual(normalize(upstream));
    expect(viaGateway.at(-1)).toBe('[DONE]');
    const usageChunk = JSON.parse(viaGateway.at(-2)!);
    expect(usageChunk.choices).toEqual([]);
    expect(usageChunk.usage.completion_tokens).toBe(4);
  });

  it('asks the upstream for usage and strips the usage chunk when the client did not', async () => {
    const s = await scenario({ content: 'one two three' });
    const gw = singleModel({ primary: openaiAt(s) });
    const events = await sseData(await gw.chat(streamed));
    const [seen] = await s.requests();
    expect(seen!.body!.stream_options).toEqual({ include_usage: true });
    const chunks = events.filter((e) => e !== '[DONE]').map((e) => JSON.parse(e));
    expect(chunks.length).toBeGreaterThan(3);
    expect(chunks.every((c) => c.usage === null || c.usage === undefined)).toBe(true);
    expect(chunks.every((c) => c.choices.length > 0)).toBe(true);
    expect(chunks.map((c) => c.choices[0].delta.content ?? '').join('')).toBe('one two three');
    expect(events.at(-1)).toBe('[DONE]');

    await eventually(() => expect(gw.logs).toHaveLength(1));
    expect(gw.logs[0]).toMatchObject({
      stream: true,
      stream_end: 'done',
      usage: { completion_tokens: 3, source: 'upstream' },
    });
  });

  it('keeps the client stream_options fields it sent', async () => {
    const s = await scenario({});
    const gw = singleModel({ primary: openaiAt(s) });
    await (
      await gw.chat({ ...streamed, stream_options: { include_usage: false, extra: 1 } })
    ).text();
    const [seen] = await s.requests();
    expect(seen!.body!.stream_options).toEqual({ include_usage: true, extra: 1 });
  });

  it('aborts the upstream request when the client disconnects', async () => {
    const s = await scenario({ content: 'a b c d e f g h i j k l m n o p', chunkDelayMs: 200 });
    const gw = singleModel({ primary: openaiAt(s) });
    const res = await gw.chat(streamed);
    const reader = res.body!.getReader();
    const first = await reader.read();
    expect(first.done).toBe(false);
    await reader.cancel();
    await eventually(async () => {
      const [seen] = await s.requests();
      expect(seen!.clientAborted).toBe(true);
    });
    await eventually(() => expect(gw.logs).toHaveLength(1));
    expect(gw.logs[0]).toMatchObject({
      stream_end: 'client_abort',
      usage: { source: 'estimated' },
    });
  });

  it('ends with an OpenAI error event when the upstream dies after the first byte', async () => {
    const s = await scenario({ content: 'one two three four five six', closeAfterChunks: 3 });
    const gw = singleModel({ primary: openaiAt(s) });
    const res = await gw.chat(streamed);
    expect(res.status).toBe(200);
    const events = await sseData(res);
    const last = JSON.parse(events.at(-1)!);
    expect(last.error).toMatchObject({ type: 'server_error', code: 'upstream_stream_error' });
    expect(events).not.toContain('[DONE]');
    // No retry after the first byte: the upstream saw exactly one request.
    expect(await s.requests()).toHaveLength(1);
    await eventually(() => expect(gw.logs).toHaveLength(1));
    expect(gw.logs[0]).toMatchObject({
      stream_end: 'upstream_error',
      usage: { source: 'estimated' },
    });
    expect(gw.logs[0]!.usage!.completion_tokens).toBeGreaterThan(0);
  });

  it('ends the stream with a timeout error when the upstream goes silent', async () => {
    const s = await scenario({ content: 'one two three four', hangAfterChunks: 2 });
    const gw = singleModel(
      { primary: openaiAt(s) },
      { timeouts: { firstByteMs: 2_000, idleMs: 150 } },
    );
    const events = await sseData(await gw.chat(streamed));
    expect(JSON.parse(events.at(-1)!).error).toMatchObject({ code: 'upstream_timeout' });
    await eventually(async () => expect((await s.requests())[0]!.clientAborted).toBe(true));
    expect(gw.logs[0]).toMatchObject({ stream_end: 'idle_timeout' });
  });

  it('retries a stream that fails before its first byte', async () => {
    const s = await scenario({ closeAfterChunks: 0 }, { content: 'second time lucky' });
    const gw = singleModel({ primary: openaiAt(s) });
    const res = await gw.chat(streamed);
    expect(res.headers.get('x-gateway-attempts')).toBe('2');
    const text = (await sseData(res))
      .filter((e) => e !== '[DONE]')
      .map((e) => JSON.parse(e).choices[0]?.delta?.content ?? '')
      .join('');
    expect(text).toBe('second time lucky');
  });

  it('streams tool-call argument deltas unchanged', async () => {
    const s = await scenario({
      toolCall: { name: 'lookup', arguments: '{"query":"edge gateways"}' },
    });
    const gw = singleModel({ primary: openaiAt(s) });
    const chunks = (await sseData(await gw.chat(streamed)))
      .filter((e) => e !== '[DONE]')
      .map((e) => JSON.parse(e));
    const args = chunks
      .flatMap((c) => c.choices[0]?.delta?.tool_calls ?? [])
      .map((t) => t.function?.arguments ?? '');
    expect(args.join('')).toBe('{"query":"edge gateways"}');
    expect(chunks.some((c) => c.choices[0]?.finish_reason === 'tool_calls')).toBe(true);
  });
});
