/**
 * The Responses request as a native exchange (src/proxy/native.ts): OpenAI and Azure OpenAI
 * targets get it as it came (with a stored conversation expanded into `input`), other targets
 * the chat completions translation; answers of those are turned into Responses shapes.
 */
import type { NativeExchange } from '../proxy/native.ts';
import type { ResponseMeta } from './response.ts';
import { chatFromResponse, toResponse } from './response.ts';
import type { ResponsesRequest } from './schema.ts';
import {
  encodeResponsesEvent,
  eventsForResponse,
  responseFromEvents,
  responsesStreamMapper,
  toResponsesStream,
} from './stream.ts';

export function responsesExchange(
  req: ResponsesRequest,
  body: Record<string, unknown>,
  meta: ResponseMeta,
): NativeExchange {
  let sequence = 0;
  return {
    format: 'openai-responses',
    body,
    headers: new Headers(),
    toOpenAI: chatFromResponse,
    streamMapper: responsesStreamMapper,
    errorEvent: (error) =>
      encodeResponsesEvent({
        type: 'error',
        sequence_number: 1_000_000 + sequence++,
        code: error.code ?? 'server_error',
        message: error.message,
        param: error.param ?? null,
      }),
    bodyFromEvents: responseFromEvents,
    eventsFromBody: eventsForResponse,
    fromOpenAI: {
      json: (chat) => toResponse(chat, req, meta),
      stream: (stream) => toResponsesStream(stream, req, meta),
    },
  };
}
