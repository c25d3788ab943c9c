/**
 * The Anthropic Messages request as a native exchange (src/proxy/native.ts): sent as it is to
 * Anthropic targets, translated for the others, answers turned back into Anthropic shapes.
 */

import { toOpenAIResponse } from '../providers/anthropic/response.ts';
import { anthropicStreamMapper } from '../providers/anthropic/stream.ts';
import { isObj } from '../providers/json.ts';
import type { NativeExchange } from '../proxy/native.ts';
import { eventsFromMessage, messageFromEvents } from './assemble.ts';
import { toAnthropicMessage } from './response.ts';
import type { AnthropicRequest } from './schema.ts';
import { anthropicStreamError, encodeAnthropicEvent, toAnthropicStream } from './stream.ts';

/** Client headers that reach an Anthropic target with a request sent as is. Never the
 * client's own key (`x-api-key`, `authorization`): the target gets the provider's. */
const FORWARDED_HEADERS = ['anthropic-version', 'anthropic-beta'] as const;

/** The client headers an Anthropic target may see. */
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
    toOpenAI: toOpenAIResponse,
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
