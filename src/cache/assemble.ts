/**
 * Converting between the two shapes of one answer, so a cached stream can answer a
 * non-streaming request and a cached response can be replayed as a stream. Pure.
 */
type Json = Record<string, unknown>;

interface ToolCallAcc {
  id?: string;
  type?: string;
  function: { name: string; arguments: string };
}

interface ChoiceAcc {
  index: number;
  content: string | null;
  text: string;
  refusal: string | null;
  toolCalls: ToolCallAcc[];
  finish_reason: unknown;
}

/** A streamed chat or text completion (its `data` strings) as the non-streamed body. */
export function assembleFromChunks(chunks: readonly string[]): Json | undefined {
  let head: Json | undefined;
  let usage: unknown = null;
  let text = false;
  const choices = new Map<number, ChoiceAcc>();
  for (const data of chunks) {
    if (data === '[DONE]') continue;
    let chunk: Json;
    try {
      chunk = JSON.parse(data) as Json;
    } catch {
      continue;
    }
    head ??= chunk;
    if (chunk.usage) usage = chunk.usage;
    if (chunk.object === 'text_completion') text = true;
    for (const choice of (chunk.choices as Json[] | undefined) ?? []) {
      const index = Number(choice.index ?? 0);
      let acc = choices.get(index);
      if (!acc) {
        acc = { index, content: null, text: '', refusal: null, toolCalls: [], finish_reason: null };
        choices.set(index, acc);
      }
      if (typeof choice.text === 'string') acc.text += choice.text;
      const delta = (choice.delta as Json | undefined) ?? {};
      if (typeof delta.content === 'string') acc.content = (acc.content ?? '') + delta.content;
      if (typeof delta.refusal === 'string') acc.refusal = (acc.refusal ?? '') + delta.refusal;
      for (const call of (delta.tool_calls as Json[] | undefined) ?? []) {
        const i = Number(call.index ?? 0);
        const target = acc.toolCalls[i] ?? { function: { name: '', arguments: '' } };
        acc.toolCalls[i] = target;
        const fn = (call.function as Json | undefined) ?? {};
        if (typeof call.id === 'string') target.id = call.id;
        if (typeof call.type === 'string') target.type = call.type;
        if (typeof fn.name === 'string') target.function.name += fn.name;
        if (typeof fn.arguments === 'string') target.function.arguments += fn.arguments;
      }
      if (choice.finish_reason) acc.finish_reason = choice.finish_reason;
    }
  }
  if (!head) return undefined;
  const ordered = [...choices.values()].sort((a, b) => a.index - b.index);
  const base = { id: head.id, created: head.created, model: head.model, usage };
  if (text) {
    return {
      ...base,
      object: 'text_completion',
      choices: ordered.map((c) => ({
        index: c.index,
        text: c.text,
        logprobs: null,
        finish_reason: c.finish_reason,
      })),
    };
  }
  return {
    ...base,
    object: 'chat.completion',
    system_fingerprint: head.system_fingerprint ?? null,
    choices: ordered.map((c) => ({
      index: c.index,
      message: {
        role: 'assistant',
        content: c.content,
        refusal: c.refusal,
        ...(c.toolCalls.length > 0
          ? {
              tool_calls: c.toolCalls.map((t) => ({
                id: t.id,
                type: t.type ?? 'function',
                function: t.function,
              })),
            }
          : {}),
      },
      logprobs: null,
      finish_reason: c.finish_reason,
    })),
  };
}

/** A non-streamed chat or text completion as stream `data` strings, usage chunk included. */
export function chunksFromBody(body: Json): string[] {
  const text = body.object === 'text_completion';
  const object = text ? 'text_completion' : 'chat.completion.chunk';
  const head = { id: body.id, object, created: body.created, model: body.model };
  const out: Json[] = [];
  for (const choice of (body.choices as Json[] | undefined) ?? []) {
    const index = choice.index ?? 0;
    if (text) {
      out.push({
        ...head,
        choices: [{ index, text: choice.text ?? '', logprobs: null, finish_reason: null }],
      });
    } else {
      const message = (choice.message as Json | undefined) ?? {};
      out.push({
        ...head,
        choices: [
          { index, delta: { role: 'assistant', content: '' }, logprobs: null, finish_reason: null },
        ],
      });
      if (typeof message.content === 'string' && message.content !== '') {
        out.push({
          ...head,
          choices: [
            { index, delta: { content: message.content }, logprobs: null, finish_reason: null },
          ],
        });
      }
      const calls = (message.tool_calls as Json[] | undefined) ?? [];
      if (calls.length > 0) {
        const tool_calls = calls.map((call, i) => ({ index: i, ...call }));
        out.push({
          ...head,
          choices: [{ index, delta: { tool_calls }, logprobs: null, finish_reason: null }],
        });
      }
    }
    out.push({
      ...head,
      choices: [
        text
          ? { index, text: '', logprobs: null, finish_reason: choice.finish_reason }
          : { index, delta: {}, logprobs: null, finish_reason: choice.finish_reason },
      ],
    });
  }
  if (body.usage) out.push({ ...head, choices: [], usage: body.usage });
  return [...out.map((c) => JSON.stringify(c)), '[DONE]'];
}
