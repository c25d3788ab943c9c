/**
 * The Anthropic Messages request as a native exchange (src/proxy/native.ts): sent as it is to
 * Anthropic targets, translated for the others, answers turned back into Anthropic shapes.
 */

import { FORWARDED_HEADERS } from '../providers/anthropic/index.ts';
import { anthropicStreamMapper } from '../providers/anthropic/stream.ts';
import { isObj } from '../providers/json.ts';
import type { NativeExchange } from '../proxy/native.ts';
import { eventsFromMessage, messageFromEvents } from './assemble.ts';
import { toAnthropicMessage } from './response.ts';
import type { AnthropicRequest } from './schema.ts';
import { anthropicStreamError, encodeAnthropicEvent, toAnthropicStream } from './stream.ts';

/** The client headers an Anthropic target may see (`anthropic-version`, `anthropic-beta`). */
export function forwardedHeaders(clientHeaders: Headers): Headers {
  const headers = new Headers();
  for (const name of FORWARDED_HEADERS) {
    const value = clientHeaders.get(name);
    if (value) headers.set(name, value);
  }
  return headers;
}

export function anthropicExchange(req: AnthropicRequest, clientHeaders: Headers): NativeExchange {
  return {
    format: 'anthropic',
    body: req,
    headers: forwardedHeaders(clientHeaders),
    streamMapper: anthropicStreamMapper,
    errorEvent: (error) => encodeAnthropicEvent(anthropicStreamError(error)),
    bodyFromEvents: messageFromEvents,
    eventsFromBody: (body) => (isObj(body) ? eventsFromMessage(body) : []),
    fromOpenAI: {
      json: (body) => toAnthropicMessage(body, req.model),
      stream: (body) => toAnthropicStream(body, req.model),
    },
  };
}
