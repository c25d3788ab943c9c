/**
 * The Responses API, `POST /v1/responses` (and GET/DELETE `/v1/responses/{id}`,
 * `/v1/responses/{id}/input_items`). The request runs through the same `proxy()` as chat
 * completions (auth, limits, budgets, residency, routing, fallback, cache, usage) as a native
 * exchange (./native.ts): OpenAI and Azure OpenAI targets get it as it came, every other
 * target the chat translation (./request.ts), answered back as a Response (./response.ts) or
 * Responses events (./stream.ts). Stored responses (./store.ts) hold each conversation, so
 * `previous_response_id` works whichever target answers; the one sent upstream is expanded
 * into `input`. Errors are OpenAI-shaped, as the Responses API's own.
 */

import { createParser } from 'eventsource-parser';
import type { Context } from 'hono';
import { type AppEnv, waitUntil } from '../context.ts';
import { errors } from '../errors.ts';
import { isObj, parseJson } from '../providers/json.ts';
import { proxy } from '../proxy/index.ts';
import { parseBody, resolveModel } from '../routes/parse.ts';
import { requestZone } from '../routing/index.ts';
import { renderPrompt } from '../templates/index.ts';
import { responsesExchange } from './native.ts';
import { toChatRequest } from './request.ts';
import { outputAsInput } from './response.ts';
import {
  type InputItem,
  type ResponsesCreateRequest,
  type ResponsesRequest,
  responsesCreateSchema,
} from './schema.ts';
import { ResponseStore, type StoredResponse } from './store.ts';

export const RESPONSES_PATH = '/v1/responses';

/** `resp_` + 48 hex characters, like OpenAI's. */
function newResponseId(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(24));
  return `resp_${[...bytes].map((b) => b.toString(16).padStart(2, '0')).join('')}`;
}

interface Caller {
  store: ResponseStore | undefined;
  tenant: string;
  zone: string | null;
  /** Whether its responses may be written to the shared Redis. */
  mayStore: boolean;
}

function caller(c: Context<AppEnv>): Caller {
  const { config, redis } = c.get('deps');
  const zone = requestZone(c);
  if (zone === 'conflict') throw errors.residencyBlocked(config.routing.forceZone);
  return {
    store: redis ? new ResponseStore(redis, config.responses.ttlSeconds) : undefined,
    tenant: c.get('apiKey')?.tenant ?? 'anonymous',
    zone,
    mayStore: zone === null || config.responses.redisZones.includes(zone),
  };
}

export async function createResponseHandler(c: Context<AppEnv>): Promise<Response> {
  const req = await withPrompt(c, await parseBody(c, responsesCreateSchema));
  const model = resolveModel(c, req.model, 'chat', RESPONSES_PATH, 'chat/completions');
  const who = caller(c);
  let history: InputItem[] = [];
  if (req.previous_response_id) {
    const previous = await who.store?.get(req.previous_response_id, who.tenant, who.zone);
    if (!previous) throw errors.responseNotFound(req.previous_response_id, 'previous_response_id');
    history = [...previous.input, ...outputAsInput(previous.response.output)];
  }
  const input: InputItem[] =
    typeof req.input === 'string' ? [{ role: 'user', content: req.input }] : req.input;
  const stored = req.store !== false && who.mayStore && who.store !== undefined;
  const meta = { id: newResponseId(), createdAt: Math.floor(Date.now() / 1000), stored };
  const chat = toChatRequest(req, history);
  if (req.stream) chat.stream_options = { include_usage: true };
  // OpenAI targets get the conversation itself: the id may be one only the gateway knows.
  const { previous_response_id: _, ...rest } = req;
  const nativeBody = history.length > 0 ? { ...rest, input: [...history, ...input] } : req;

  const res = await proxy(c, {
    endpoint: 'chat/completions',
    body: chat,
    model,
    native: responsesExchange(req, nativeBody, meta),
  });
  if (!stored || res.status !== 200 || !who.store) return res;
  const store = who.store;
  const keep = (response: unknown) => {
    if (!isObj(response) || typeof response.id !== 'string') return;
    const record: StoredResponse = {
      tenant: who.tenant,
      zone: who.zone,
      input: [...history, ...input],
      response,
    };
    waitUntil(
      c,
      store.put(response.id, record).catch(() => undefined),
    );
  };
  if (!res.headers.get('content-type')?.startsWith('text/event-stream')) {
    const text = await res.text();
    keep(parseJson(text));
    return new Response(text, res);
  }
  return new Response(res.body!.pipeThrough(tapFinalResponse(keep)), res);
}

/** The request with its `prompt` rendered: the template's messages before its input, the
 * template's instructions before its own; `prompt` itself never goes upstream (an OpenAI
 * target would look for a prompt of that id in its own store). */
async function withPrompt(
  c: Context<AppEnv>,
  { prompt, ...req }: ResponsesCreateRequest,
): Promise<ResponsesRequest> {
  const own: InputItem[] =
    typeof req.input === 'string' ? [{ role: 'user', content: req.input }] : (req.input ?? []);
  if (!prompt) return { ...req, input: req.input ?? own };
  const rendered = await renderPrompt(c, prompt);
  const input = [
    ...rendered.messages.map((m) => ({ role: m.role as InputItem['role'], content: m.content })),
    ...own,
  ] as InputItem[];
  if (input.length === 0) {
    throw errors.invalidField('input', 'required: the template has no messages');
  }
  const instructions = [rendered.instructions, req.instructions].filter(
    (text): text is string => typeof text === 'string' && text !== '',
  );
  return {
    ...req,
    input,
    ...(instructions.length > 0 ? { instructions: instructions.join('\n\n') } : {}),
  };
}

/** Passes the bytes on untouched and hands over the Response a stream finishes with. */
function tapFinalResponse(
  onFinal: (response: unknown) => void,
): TransformStream<Uint8Array, Uint8Array> {
  const decoder = new TextDecoder();
  const parser = createParser({
    onEvent: (e) => {
      if (e.event !== 'response.completed' && e.event !== 'response.incomplete') return;
      const data = parseJson(e.data);
      if (isObj(data)) onFinal(data.response);
    },
  });
  return new TransformStream({
    transform(chunk, controller) {
      controller.enqueue(chunk);
      parser.feed(decoder.decode(chunk, { stream: true }));
    },
  });
}

async function storedFor(c: Context<AppEnv>): Promise<StoredResponse> {
  const id = c.req.param('id') ?? '';
  const who = caller(c);
  const record = await who.store?.get(id, who.tenant, who.zone);
  if (!record) throw errors.responseNotFound(id);
  return record;
}

export async function getResponseHandler(c: Context<AppEnv>): Promise<Response> {
  return c.json((await storedFor(c)).response);
}

export async function deleteResponseHandler(c: Context<AppEnv>): Promise<Response> {
  const id = c.req.param('id') ?? '';
  const who = caller(c);
  if (!(await who.store?.delete(id, who.tenant, who.zone))) throw errors.responseNotFound(id);
  return c.json({ id, object: 'response', deleted: true });
}

export async function inputItemsHandler(c: Context<AppEnv>): Promise<Response> {
  const record = await storedFor(c);
  const id = String(record.response.id);
  const data = record.input.map((item, i) => ({
    id: `${(item as { type?: string }).type === 'function_call' ? 'fc' : 'msg'}_${id.slice(5, 21)}_${i}`,
    ...((item as { type?: string }).type ? {} : { type: 'message' }),
    ...item,
  }));
  // Newest first, as the API lists them by default.
  data.reverse();
  return c.json({
    object: 'list',
    data,
    first_id: data[0]?.id ?? null,
    last_id: data.at(-1)?.id ?? null,
    has_more: false,
  });
}
