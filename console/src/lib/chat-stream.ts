/**
 * The playground's streamed chat: the SSE body of `POST /v1/chat/completions` read with
 * eventsource-parser, each content delta handed on as it arrives, the usage chunk and an
 * in-stream error event (the gateway's way to end a stream that failed after its first
 * byte) kept. Also the response headers that tell what the gateway did.
 */
import { EventSourceParserStream } from 'eventsource-parser/stream';

export interface ChatUsage {
  prompt_tokens: number;
  completion_tokens: number;
  total_tokens: number;
}

export interface ChatResult {
  text: string;
  finishReason: string | null;
  usage: ChatUsage | null;
  /** The error event that ended the stream, if one did. */
  error: { message: string; code: string | null } | null;
  /** Whether `data: [DONE]` came (a stream cut before it did not end normally). */
  done: boolean;
}

interface Chunk {
  choices?: { delta?: { content?: string | null }; finish_reason?: string | null }[];
  usage?: ChatUsage | null;
  error?: { message?: string; code?: string | null };
}

export async function readChatStream(
  body: ReadableStream<Uint8Array<ArrayBuffer>>,
  onDelta: (text: string, soFar: string) => void,
): Promise<ChatResult> {
  const result: ChatResult = {
    text: '',
    finishReason: null,
    usage: null,
    error: null,
    done: false,
  };
  const events = body
    .pipeThrough(new TextDecoderStream())
    .pipeThrough(new EventSourceParserStream());
  const reader = events.getReader();
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    if (value.data === '[DONE]') {
      result.done = true;
      continue;
    }
    let chunk: Chunk;
    try {
      chunk = JSON.parse(value.data) as Chunk;
    } catch {
      continue; // not JSON (a comment-like frame): nothing to show
    }
    if (chunk.error) {
      result.error = {
        message: chunk.error.message ?? 'The stream ended with an error.',
        code: chunk.error.code ?? null,
      };
      continue;
    }
    for (const choice of chunk.choices ?? []) {
      const delta = choice.delta?.content;
      if (delta) {
        result.text += delta;
        onDelta(delta, result.text);
      }
      if (choice.finish_reason) result.finishReason = choice.finish_reason;
    }
    if (chunk.usage) result.usage = chunk.usage;
  }
  return result;
}

/** The headers that say what happened: the gateway's own, rate limits, request id. */
export function gatewayHeaders(headers: Headers): [string, string][] {
  const out: [string, string][] = [];
  headers.forEach((value, name) => {
    if (
      name.startsWith('x-gateway-') ||
      name.startsWith('x-ratelimit-') ||
      name === 'x-request-id' ||
      name === 'retry-after'
    )
      out.push([name, value]);
  });
  return out.sort((a, b) => a[0].localeCompare(b[0]));
}
