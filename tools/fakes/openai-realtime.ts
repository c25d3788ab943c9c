/**
 * The fake OpenAI's Realtime API over WebSocket (`GET /v1/realtime?model=…`, Azure
 * `/openai/v1/realtime`). TEST FIXTURE. Events from the public reference
 * (https://platform.openai.com/docs/api-reference/realtime-server-events): `session.created`
 * on connect; `session.update` -> `session.updated`; `conversation.item.create` ->
 * `conversation.item.created`; `response.create` -> `response.created`,
 * `response.output_item.added`, `response.content_part.added`, `response.output_text.delta`…,
 * `response.output_text.done`, `response.content_part.done`, `response.output_item.done`,
 * `response.done` with usage. Text only; tokens are ceil(length / 4), as elsewhere.
 */
import { randomBytes } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { type WebSocket, WebSocketServer } from 'ws';

type Json = Record<string, unknown>;
const hex = (n: number) => randomBytes(n).toString('hex');
const tokens = (text: string) => Math.ceil(text.length / 4);
export const REALTIME_REPLY = 'Hello from the fake realtime upstream.';
const PATH = /^\/(?:openai\/)?v1\/realtime$/;

/** Handles an HTTP upgrade; false when it is not a realtime path (the caller 404s). */
export function realtimeUpgrade(onConnect: (path: string) => void) {
  const wss = new WebSocketServer({
    noServer: true,
    handleProtocols: (protocols) => [...protocols].find((p) => p === 'realtime') ?? false,
  });
  return (req: IncomingMessage, socket: Duplex, head: Buffer): boolean => {
    const url = new URL(req.url ?? '/', 'http://fake');
    if (!PATH.test(url.pathname)) return false;
    const offered = String(req.headers['sec-websocket-protocol'] ?? '');
    const keyed =
      /^Bearer \S/i.test(String(req.headers.authorization ?? '')) ||
      Boolean(req.headers['api-key']) ||
      offered.includes('openai-insecure-api-key.');
    if (!keyed) {
      socket.end('HTTP/1.1 401 Unauthorized\r\ncontent-length: 0\r\n\r\n');
      return true;
    }
    onConnect(url.pathname);
    const model = url.searchParams.get('model') ?? 'gpt-realtime';
    wss.handleUpgrade(req, socket, head, (ws) => session(ws, model));
    return true;
  };
}

function session(ws: WebSocket, model: string): void {
  const send = (type: string, fields: Json) =>
    ws.send(JSON.stringify({ type, event_id: `event_${hex(8)}`, ...fields }));
  const state: Json = {
    id: `sess_${hex(8)}`,
    object: 'realtime.session',
    model,
    modalities: ['text'],
  };
  let inputText = '';
  send('session.created', { session: state });
  ws.on('message', (raw) => {
    let event: Json;
    try {
      event = JSON.parse(String(raw)) as Json;
    } catch {
      send('error', { error: { type: 'invalid_request_error', message: 'not JSON' } });
      return;
    }
    if (event.type === 'session.update') {
      Object.assign(state, event.session);
      send('session.updated', { session: state });
    } else if (event.type === 'conversation.item.create') {
      const item: Json = { id: `item_${hex(8)}`, ...(event.item as Json) };
      for (const part of (item.content as Json[] | undefined) ?? [])
        inputText += String(part.text ?? '');
      send('conversation.item.created', { previous_item_id: null, item });
    } else if (event.type === 'response.create') {
      respond(send, inputText);
      inputText = '';
    } else {
      send('error', {
        error: { type: 'invalid_request_error', message: `unknown event ${String(event.type)}` },
      });
    }
  });
}

function respond(send: (type: string, fields: Json) => void, inputText: string): void {
  const id = `resp_${hex(8)}`;
  const itemId = `item_${hex(8)}`;
  const pieces = REALTIME_REPLY.match(/\S+\s*/g) ?? [];
  const at = { response_id: id, item_id: itemId, output_index: 0, content_index: 0 };
  send('response.created', {
    response: { id, object: 'realtime.response', status: 'in_progress', output: [] },
  });
  send('response.output_item.added', {
    response_id: id,
    output_index: 0,
    item: { id: itemId, type: 'message', role: 'assistant', status: 'in_progress', content: [] },
  });
  send('response.content_part.added', { ...at, part: { type: 'text', text: '' } });
  for (const delta of pieces) send('response.output_text.delta', { ...at, delta });
  send('response.output_text.done', { ...at, text: REALTIME_REPLY });
  send('response.content_part.done', { ...at, part: { type: 'text', text: REALTIME_REPLY } });
  const item = {
    id: itemId,
    type: 'message',
    role: 'assistant',
    status: 'completed',
    content: [{ type: 'text', text: REALTIME_REPLY }],
  };
  send('response.output_item.done', { response_id: id, output_index: 0, item });
  const input = tokens(inputText);
  const output = pieces.length;
  send('response.done', {
    response: {
      id,
      object: 'realtime.response',
      status: 'completed',
      output: [item],
      usage: {
        total_tokens: input + output,
        input_tokens: input,
        output_tokens: output,
        input_token_details: { cached_tokens: 0, text_tokens: input, audio_tokens: 0 },
        output_token_details: { text_tokens: output, audio_tokens: 0 },
      },
    },
  });
}
