/**
 * Gemini `streamGenerateContent?alt=sse` events -> OpenAI chunks (stateful). Each SSE event is a
 * whole GenerateContentResponse holding the next text delta; function calls arrive whole (one
 * chunk with the complete arguments); usageMetadata is cumulative (the last one wins); the
 * stream has no [DONE], so one is added after the event carrying finishReason.
 * Reference: https://ai.google.dev/api/generate-content#method:-models.streamgeneratecontent
 */
import type { EventSourceMessage } from '../../sse/index.ts';
import { chunkWriter, isObj, parseJson } from '../json.ts';
import { candidateMessage, finishReason, openAIUsage } from './translate.ts';

export function geminiStreamMapper(): (event: EventSourceMessage) => string[] {
  const id = `gemini-${Date.now()}`;
  const created = Math.floor(Date.now() / 1000);
  let started = false;
  let calls = 0;
  let done = false;
  let model = 'gemini';
  const { delta: chunk, usage: usageChunk } = chunkWriter(() => ({ id, created, model }));

  return (event) => {
    if (done) return [];
    const data = parseJson(event.data);
    if (!isObj(data)) return [];
    if (isObj(data.error)) {
      done = true;
      const e = data.error;
      return [
        JSON.stringify({
          error: {
            message: String(e.message ?? ''),
            type: 'server_error',
            param: null,
            code: String(e.status ?? 'upstream_error'),
          },
        }),
      ];
    }
    const out: string[] = [];
    if (typeof data.modelVersion === 'string') model = data.modelVersion;
    if (!started) {
      started = true;
      out.push(chunk({ role: 'assistant', content: '' }));
    }
    const candidate =
      Array.isArray(data.candidates) && isObj(data.candidates[0]) ? data.candidates[0] : undefined;
    const blocked = isObj(data.promptFeedback) ? data.promptFeedback.blockReason : undefined;
    let finish: string | null = null;
    if (candidate) {
      const first = calls;
      const { text, calls: toolCalls } = candidateMessage(candidate, () => `call_${calls++}`);
      if (text !== '') out.push(chunk({ content: text }));
      if (toolCalls.length > 0) {
        out.push(chunk({ tool_calls: toolCalls.map((c, i) => ({ index: first + i, ...c })) }));
      }
      finish = finishReason(candidate.finishReason, calls > 0);
    } else if (blocked) finish = 'content_filter';
    if (finish) {
      done = true;
      out.push(chunk({}, finish));
      const usage = openAIUsage(data.usageMetadata);
      if (usage) out.push(usageChunk(usage));
      out.push('[DONE]');
    }
    return out;
  };
}
