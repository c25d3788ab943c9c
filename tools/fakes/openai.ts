/**
 * A fake OpenAI (and Azure OpenAI) upstream. TEST FIXTURE for tests, `npm run dev` and benchmarks;
 * it is not a model and nothing here is part of the gateway.
 *
 * Wire shapes follow the public OpenAI API reference (https://platform.openai.com/docs/api-reference):
 * - Chat Completions: "The chat completion object" and "The chat completion chunk object"
 *   (SSE `data: {json}` events, `stream_options.include_usage` final chunk, `data: [DONE]`);
 * - Completions (legacy): the `text_completion` object, streamed the same way;
 * - Embeddings: "The embedding object" (`encoding_format: "base64"` = little-endian float32);
 * - Models: "List models" / "The model object";
 * - errors: the "Error codes" guide (`{ error: { message, type, param, code } }`);
 * - rate limits: the "Rate limits" guide (`x-ratelimit-*` response headers);
 * - Azure OpenAI data plane: `/openai/deployments/{deployment}/...?api-version=...` with `api-key`.
 * Replies, token counts and vectors are deterministic, not real.
 *
 * Scenarios script behaviour per test: `POST /__scenarios {steps}` returns `{id, baseUrl}`; every
 * endpoint is also served under `/s/<id>/...`, where the n-th request uses `steps[n]` (the last
 * step repeats) and is recorded (`GET /__scenarios/<id>`, `.../wait?requests=N&timeoutMs=M`,
 * `DELETE /__scenarios/<id>`). Requests outside `/s/<id>` follow the default step (`{}` unless
 * `PUT /__default` set another) and are only counted (`GET /__default`; ./default-route.ts).
 *
 * CLI: `node tools/fakes/openai.ts --port 8788 [--host 127.0.0.1]`.
 */
import { randomBytes } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { DEFAULT_CONTROL_PATH, DefaultRoute } from './default-route.ts';
import { realtimeUpgrade } from './openai-realtime.ts';
import { fakeResponse } from './openai-responses.ts';
import { listen } from './scenario-server.ts';

export interface FakeOpenAI {
  url: string;
  port: number;
  close(): Promise<void>;
}

/** One scripted upstream behaviour; `{}` is a normal success. */
export interface Step {
  status?: number; // non-200: this status with an OpenAI-shaped error body
  headers?: Record<string, string>; // extra response headers (retry-after, retry-after-ms, ...)
  errorBody?: unknown; // replaces the default error body of `status`
  hang?: boolean; // never send response headers (until the client goes away)
  firstByteDelayMs?: number; // wait before the headers
  chunkDelayMs?: number; // wait between stream events
  closeAfterChunks?: number; // write this many stream chunks, then cut the connection (no [DONE])
  hangAfterChunks?: number; // write this many stream chunks, then go silent, connection open
  content?: string; // reply text (default: "Hello! This is the fake upstream.")
  pieceChars?: number; // stream the reply in pieces of this many characters (default: a word each)
  toolCall?: { name: string; arguments: string }; // reply with this tool call instead of text
  requireAuth?: boolean; // false: accept requests without a key (keyless OpenAI-compatible hosts)
}

export interface RecordedRequest {
  method: string;
  path: string;
  query: Record<string, string>;
  headers: Record<string, string>;
  body: unknown;
  receivedAt: number;
  clientAborted: boolean;
  completed: boolean;
}

type Json = Record<string, unknown>;
type JsonReply = { status: number; body: unknown };
/** `named`: Responses API events (`event: <type>` lines, no `[DONE]`). */
type Reply = JsonReply | { stream: Json[]; named?: boolean };
interface Scenario {
  id: string;
  steps: Step[];
  requests: RecordedRequest[];
}
/** One HTTP exchange: its step, and the cancellers of its pending timers. */
interface Ctx {
  req: IncomingMessage;
  res: ServerResponse;
  step: Step;
  startedAt: number;
  requestId: string;
  record?: RecordedRequest;
  closed: boolean;
  selfDestroyed: boolean;
  cancels: Set<() => void>;
}

const DEFAULT_REPLY = 'Hello! This is the fake upstream.';
const FINGERPRINT = 'fp_fake0penai';
const EMBEDDING_DIMS = 8;
const INVALID = Symbol('invalid json');
const MODELS = ['gpt-4o', 'gpt-4o-mini', 'gpt-3.5-turbo-instruct', 'text-embedding-3-small'];

const hex = (bytes: number) => randomBytes(bytes).toString('hex');
const now = () => Math.floor(Date.now() / 1000);
const isObj = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);

// ---------------------------------------------------------------------------------------------
// Errors and headers

const reply = (body: unknown, status = 200): JsonReply => ({ status, body });
function apiError(
  status: number,
  message: string,
  code: string | null = null,
  param = '',
  type = 'invalid_request_error',
) {
  return reply({ error: { message, type, param: param || null, code } }, status);
}

const NO_KEY = `You didn't provide an API key. You need to provide your API key in an Authorization header using Bearer auth (i.e. Authorization: Bearer YOUR_KEY).`;
const BAD_JSON = `We could not parse the JSON body of your request. (HINT: This likely means you aren't using your HTTP library correctly. The OpenAI API expects a JSON payload, but what was sent was not valid JSON.)`;
const RATE_LIMITED = 'Rate limit reached for requests per min (RPM): Limit 10000, Used 10000.';

/** Default bodies of scripted failures, [type, code, message], after the OpenAI error-codes guide. */
const SCRIPTED: Record<number, [string, string | null, string]> = {
  400: ['invalid_request_error', null, 'Invalid request (scripted by the fake upstream).'],
  401: ['invalid_request_error', 'invalid_api_key', 'Incorrect API key provided.'],
  403: ['invalid_request_error', 'unsupported_country_region_territory', 'Not supported.'],
  404: ['invalid_request_error', 'model_not_found', 'The model does not exist.'],
  429: ['requests', 'rate_limit_exceeded', RATE_LIMITED],
  500: ['server_error', null, 'The server had an error while processing your request.'],
  503: ['server_error', 'service_unavailable', 'The server is overloaded or not ready yet.'],
};

function scriptedError({ status = 500, errorBody }: Step): JsonReply {
  if (errorBody !== undefined) return reply(errorBody, status);
  const fallback = status >= 500 ? 'server_error' : 'invalid_request_error';
  const [type, code, message] = SCRIPTED[status] ?? [fallback, null, `Scripted ${status}.`];
  return apiError(status, message, code, '', type);
}

function responseHeaders(ctx: Ctx, status: number): Record<string, string> {
  const headers: Record<string, string> = {
    'x-request-id': ctx.requestId,
    'openai-processing-ms': String(Date.now() - ctx.startedAt),
    'openai-version': '2020-10-01',
  };
  if (status < 300 || status === 429) {
    const spent = status === 429;
    Object.assign(headers, {
      'x-ratelimit-limit-requests': '10000',
      'x-ratelimit-remaining-requests': spent ? '0' : '9999',
      'x-ratelimit-limit-tokens': '30000000',
      'x-ratelimit-remaining-tokens': spent ? '0' : '29999000',
      'x-ratelimit-reset-requests': '6ms',
      'x-ratelimit-reset-tokens': '2ms',
    });
  }
  return { ...headers, ...ctx.step.headers };
}

// ---------------------------------------------------------------------------------------------
// The deterministic "model"

/** Fake token count of a text: ceil(length / 4). */
const textTokens = (text: string) => Math.ceil(text.length / 4);
const partText = (p: unknown) => (typeof p === 'string' ? p : isObj(p) ? String(p.text ?? '') : '');

/** prompt_tokens of a chat: per message, ceil(text length / 4) + 3 (string content or text parts). */
function messageTokens(messages: unknown[]): number {
  return messages.reduce<number>((sum, m) => {
    const content = isObj(m) ? m.content : undefined;
    const text = Array.isArray(content) ? content.map(partText).join('') : partText(content);
    return sum + textTokens(text) + 3;
  }, 0);
}

/** prompt_tokens of a legacy prompt / embeddings input: ceil(len / 4) per string, 1 per token id. */
function inputTokens(input: unknown): number {
  if (typeof input === 'string') return textTokens(input);
  if (typeof input === 'number') return 1;
  return Array.isArray(input) ? input.reduce<number>((sum, x) => sum + inputTokens(x), 0) : 0;
}

/** The reply split into token pieces (/\S+\s*\/g, or `pieceChars` each), cut at
 * max_(completion_)tokens. */
function generate(step: Step, body: Json): { pieces: string[]; finish: string } {
  const piece = step.pieceChars ? new RegExp(`[^]{1,${step.pieceChars}}`, 'g') : /\S+\s*/g;
  const pieces = (step.content ?? DEFAULT_REPLY).match(piece) ?? [];
  const max = body.max_completion_tokens ?? body.max_tokens;
  if (typeof max !== 'number' || max >= pieces.length) return { pieces, finish: 'stop' };
  return { pieces: pieces.slice(0, max), finish: 'length' };
}

function usageOf(p: number, c: number, detailed: boolean): Json {
  const base = { prompt_tokens: p, completion_tokens: c, total_tokens: p + c };
  if (!detailed) return base;
  const prompt_tokens_details = { cached_tokens: 0, audio_tokens: 0 };
  const completion_tokens_details = {
    reasoning_tokens: 0,
    audio_tokens: 0,
    accepted_prediction_tokens: 0,
    rejected_prediction_tokens: 0,
  };
  return { ...base, prompt_tokens_details, completion_tokens_details };
}

/** With `stream_options.include_usage`: `usage: null` on every chunk, then a `choices: []` chunk. */
function withUsage(chunks: Json[], body: Json, usage: Json): Json[] {
  const options = body.stream_options;
  if (!isObj(options) || options.include_usage !== true) return chunks;
  const last = { ...chunks[0], choices: [], usage };
  return [...chunks.map((c) => ({ ...c, usage: null })), last];
}

// ---------------------------------------------------------------------------------------------
// Endpoints

interface ChatOutput {
  message: Json;
  deltas: Json[];
  finish: string;
  completionTokens: number;
}

function textOutput(step: Step, body: Json): ChatOutput {
  const { pieces, finish } = generate(step, body);
  const content = pieces.join('');
  const message = { role: 'assistant', content, refusal: null, annotations: [] };
  const first = { role: 'assistant', content: '', refusal: null };
  const deltas = [first, ...pieces.map((piece) => ({ content: piece }))];
  return { message, deltas, finish, completionTokens: pieces.length };
}

/** A tool call costs ceil(arguments length / 4) completion tokens; arguments stream in ~3 parts. */
function toolOutput({ name, arguments: args }: { name: string; arguments: string }): ChatOutput {
  const call = { id: `call_${hex(12)}`, type: 'function', function: { name, arguments: args } };
  const size = Math.max(1, Math.ceil(args.length / 3));
  const parts = Array.from({ length: Math.ceil(args.length / size) }, (_, i) =>
    args.slice(i * size, (i + 1) * size),
  );
  const head = { index: 0, ...call, function: { name, arguments: '' } };
  const base = { role: 'assistant', content: null, refusal: null };
  const deltas = [
    { ...base, tool_calls: [head] },
    ...parts.map((part) => ({ tool_calls: [{ index: 0, function: { arguments: part } }] })),
  ];
  const message = { ...base, tool_calls: [call], annotations: [] };
  return { message, deltas, finish: 'tool_calls', completionTokens: textTokens(args) };
}

function chatCompletions(step: Step, body: Json & { messages: unknown[] }, model: string): Reply {
  const out = step.toolCall ? toolOutput(step.toolCall) : textOutput(step, body);
  const usage = usageOf(messageTokens(body.messages), out.completionTokens, true);
  const [id, created] = [`chatcmpl-${hex(12)}`, now()];
  const tail = { service_tier: 'default', system_fingerprint: FINGERPRINT };
  if (body.stream !== true) {
    const choices = [{ index: 0, message: out.message, logprobs: null, finish_reason: out.finish }];
    return reply({ id, object: 'chat.completion', created, model, choices, usage, ...tail });
  }
  const chunk = (delta: Json, finish_reason: string | null): Json => {
    const choices = [{ index: 0, delta, logprobs: null, finish_reason }];
    return { id, object: 'chat.completion.chunk', created, model, ...tail, choices };
  };
  const chunks = [...out.deltas.map((d) => chunk(d, null)), chunk({}, out.finish)];
  return { stream: withUsage(chunks, body, usage) };
}

/** Legacy completions: one choice (index 0), also when `prompt` is a list. */
function completions(step: Step, body: Json, model: string): Reply {
  const meta = { id: `cmpl-${hex(12)}`, object: 'text_completion', created: now(), model };
  const choice = (text: string, finish_reason: string | null) => ({
    ...meta,
    system_fingerprint: FINGERPRINT,
    choices: [{ text, index: 0, logprobs: null, finish_reason }],
  });
  const { pieces, finish } = generate(step, body);
  const usage = usageOf(inputTokens(body.prompt), pieces.length, false);
  if (body.stream !== true) return reply({ ...choice(pieces.join(''), finish), usage });
  const chunks = [...pieces.map((p) => choice(p, null)), choice('', finish)];
  return { stream: withUsage(chunks, body, usage) };
}

/** A unit vector derived from an FNV-1a hash of the input (mulberry32 PRNG), as float32 values. */
function vectorOf(text: string, dims: number): number[] {
  let seed = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) seed = Math.imul(seed ^ text.charCodeAt(i), 0x01000193);
  const values = Array.from({ length: dims }, () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), seed | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 2 ** 31 - 1;
  });
  const norm = Math.hypot(...values) || 1;
  return values.map((v) => Math.fround(v / norm));
}

/** `encoding_format: "base64"`: the little-endian float32 bytes, base64-encoded. */
function float32Base64(values: number[]): string {
  const buf = Buffer.alloc(values.length * 4);
  for (const [i, v] of values.entries()) buf.writeFloatLE(v, i * 4);
  return buf.toString('base64');
}

function embeddings(body: Json, model: string): Reply {
  const { input, dimensions } = body;
  // string | string[] | number[] (one token array) | number[][]
  const inputs: unknown[] = Array.isArray(input) && typeof input[0] !== 'number' ? input : [input];
  if (inputs.length === 0 || !inputs.every((x) => typeof x === 'string' || Array.isArray(x))) {
    return apiError(400, "'input' must be a string, string[] or token array(s).", null, 'input');
  }
  const dims = typeof dimensions === 'number' && dimensions > 0 ? dimensions : EMBEDDING_DIMS;
  const data = inputs.map((x, index) => {
    const vector = vectorOf(typeof x === 'string' ? x : JSON.stringify(x), dims);
    const embedding = body.encoding_format === 'base64' ? float32Base64(vector) : vector;
    return { object: 'embedding', index, embedding };
  });
  const tokens = inputTokens(input);
  return reply({
    object: 'list',
    data,
    model,
    usage: { prompt_tokens: tokens, total_tokens: tokens },
  });
}

const modelObj = (id: string) => ({ id, object: 'model', created: 1700000000, owned_by: 'system' });

const AZURE_PATH = /^\/openai\/deployments\/([^/]+)\/(chat\/completions|completions|embeddings)$/;
/** Azure's data-plane "Models - List" (what the gateway's cron probe asks). */
const AZURE_MODELS_PATH = /^\/openai\/(models)$/;
const OPENAI_PATH =
  /^\/(?:openai\/)?v1\/(chat\/completions|completions|embeddings|responses|models(?:\/[^/]+)?)$/;

function route(ctx: Ctx, path: string, query: URLSearchParams, body: unknown): Reply {
  const method = ctx.req.method ?? 'GET';
  const azure = AZURE_PATH.exec(path) ?? AZURE_MODELS_PATH.exec(path);
  const op = azure?.[2] ?? azure?.[1] ?? OPENAI_PATH.exec(path)?.[1];
  if (!op) return apiError(404, `Invalid URL (${method} ${path})`);
  const { authorization = '', 'api-key': apiKey } = ctx.req.headers;
  const keyless = !/^Bearer \S/i.test(authorization) && !apiKey;
  if (keyless && ctx.step.requireAuth !== false) return apiError(401, NO_KEY, 'invalid_api_key');
  if (azure && !query.get('api-version')) {
    const message = 'The api-version query parameter (?api-version=) is required for all requests.';
    return apiError(400, message, 'MissingApiVersionParameter', 'api-version');
  }
  const isModels = op.startsWith('models');
  if (method !== (isModels ? 'GET' : 'POST')) {
    return apiError(405, `Invalid method for URL (${method} ${path})`);
  }
  if (op === 'models') return reply({ object: 'list', data: MODELS.map(modelObj) });
  if (isModels) {
    const id = decodeURIComponent(op.slice('models/'.length));
    if (MODELS.includes(id)) return reply(modelObj(id));
    return apiError(404, `The model '${id}' does not exist`, 'model_not_found', 'model');
  }
  if (!isObj(body)) return apiError(400, BAD_JSON);
  const model = typeof body.model === 'string' ? body.model : azure?.[1];
  if (!model) return apiError(400, 'you must provide a model parameter');
  if (op === 'embeddings') return embeddings(body, model);
  if (op === 'completions') return completions(ctx.step, body, model);
  if (op === 'responses') {
    const { pieces, finish } = generate(ctx.step, { max_tokens: body.max_output_tokens });
    const out = fakeResponse(body, model, {
      pieces,
      finish: finish === 'length' ? 'length' : 'stop',
      ...(ctx.step.toolCall ? { toolCall: ctx.step.toolCall } : {}),
    });
    return 'json' in out ? reply(out.json) : { stream: out.events, named: true };
  }
  const { messages } = body;
  if (!Array.isArray(messages)) {
    const message = "Missing required parameter: 'messages'.";
    return apiError(400, message, 'missing_required_parameter', 'messages');
  }
  return chatCompletions(ctx.step, { ...body, messages }, model);
}

// ---------------------------------------------------------------------------------------------
// Writing responses (shared by every endpoint)

/** Waits `ms`; resolves false (early) if the connection closes first. */
function sleep(ctx: Ctx, ms = 0): Promise<boolean> {
  if (ctx.closed || ms <= 0) return Promise.resolve(!ctx.closed);
  return new Promise((resolve) => {
    const cancel = () => {
      clearTimeout(timer);
      resolve(false);
    };
    const timer = setTimeout(() => {
      ctx.cancels.delete(cancel);
      resolve(true);
    }, ms);
    ctx.cancels.add(cancel);
  });
}

/** Ends the connection mid-response once what was written is flushed: the client sees a cut body. */
function cutConnection(ctx: Ctx): void {
  ctx.selfDestroyed = true;
  ctx.res.socket?.destroySoon();
}

function writeJson(ctx: Ctx, { status, body }: JsonReply): void {
  if (ctx.closed) return;
  const text = JSON.stringify(body);
  const length = String(Buffer.byteLength(text));
  const { res, step } = ctx;
  const type = { 'content-type': 'application/json', 'content-length': length };
  res.writeHead(status, { ...type, ...responseHeaders(ctx, status) });
  if (step.closeAfterChunks === undefined && step.hangAfterChunks === undefined) {
    res.end(text);
    return;
  }
  res.flushHeaders(); // headers only, then cut or go silent
  if (step.closeAfterChunks !== undefined) cutConnection(ctx);
}

/** SSE: one `res.write` per event, `chunkDelayMs` apart; honours close/hangAfterChunks. */
async function writeStream(ctx: Ctx, events: Json[], named = false): Promise<void> {
  const { res, step } = ctx;
  const type = { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache' };
  res.writeHead(200, { ...type, ...responseHeaders(ctx, 200) });
  res.flushHeaders();
  const close = step.closeAfterChunks ?? Number.POSITIVE_INFINITY;
  const hang = step.hangAfterChunks ?? Number.POSITIVE_INFINITY;
  for (let i = 0; i < Math.min(close, hang, events.length); i++) {
    if (i > 0 && !(await sleep(ctx, step.chunkDelayMs))) return;
    const head = named ? `event: ${String(events[i]!.type)}\n` : '';
    res.write(`${head}data: ${JSON.stringify(events[i])}\n\n`);
  }
  if (close <= hang && close !== Number.POSITIVE_INFINITY) return cutConnection(ctx);
  if (hang !== Number.POSITIVE_INFINITY) return; // silent, the socket stays open
  if (await sleep(ctx, step.chunkDelayMs)) res.end(named ? undefined : 'data: [DONE]\n\n');
}

async function respond(ctx: Ctx, build: () => Reply): Promise<void> {
  const { step } = ctx;
  if (step.hang) return; // never answer; the close listener records the client leaving
  if (!(await sleep(ctx, step.firstByteDelayMs))) return;
  const out = step.status !== undefined && step.status !== 200 ? scriptedError(step) : build();
  if ('stream' in out) await writeStream(ctx, out.stream, out.named);
  else writeJson(ctx, out);
}

// ---------------------------------------------------------------------------------------------
// Scenarios and the server

function newCtx(req: IncomingMessage, res: ServerResponse): Ctx {
  const ctx: Ctx = {
    req,
    res,
    step: {},
    startedAt: Date.now(),
    requestId: `req_${hex(16)}`,
    closed: false,
    selfDestroyed: false,
    cancels: new Set(),
  };
  const gone = () => {
    if (ctx.closed) return;
    ctx.closed = true;
    if (ctx.record && !res.writableFinished && !ctx.selfDestroyed) ctx.record.clientAborted = true;
    for (const cancel of ctx.cancels) cancel();
    ctx.cancels.clear();
  };
  res.on('close', gone);
  req.on('aborted', gone);
  res.on('finish', () => {
    if (ctx.record) ctx.record.completed = true;
  });
  return ctx;
}

async function readJson(req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  const text = Buffer.concat(chunks).toString('utf8');
  try {
    return text === '' ? null : JSON.parse(text);
  } catch {
    return INVALID;
  }
}

function record(ctx: Ctx, url: URL, body: unknown): RecordedRequest {
  const headers: Record<string, string> = {};
  for (const [k, v] of Object.entries(ctx.req.headers)) {
    if (v !== undefined) headers[k] = Array.isArray(v) ? v.join(', ') : v;
  }
  const { method = 'GET' } = ctx.req;
  const query = Object.fromEntries(url.searchParams);
  const at = { receivedAt: ctx.startedAt, clientAborted: false, completed: false };
  return {
    method,
    path: url.pathname,
    query,
    headers,
    body: body === INVALID ? null : body,
    ...at,
  };
}

/** The `/__scenarios` control API (no auth). */
async function control(ctx: Ctx, all: Map<string, Scenario>, url: URL, body: unknown) {
  const [, , id, sub] = url.pathname.split('/');
  const method = ctx.req.method;
  if (!id && method === 'POST') {
    const given = isObj(body) && Array.isArray(body.steps) ? (body.steps as Step[]) : [];
    const created: Scenario = { id: hex(8), steps: given.length > 0 ? given : [{}], requests: [] };
    all.set(created.id, created);
    return reply({ id: created.id, baseUrl: `${url.origin}/s/${created.id}` }, 201);
  }
  const scenario = id ? all.get(id) : undefined;
  if (!scenario) return apiError(404, `Unknown scenario ${id ?? ''}`);
  if (method === 'DELETE' && !sub) {
    all.delete(scenario.id);
    return reply({ id: scenario.id, deleted: true });
  }
  if (method === 'GET' && sub === 'wait') {
    const want = Number(url.searchParams.get('requests') ?? 1);
    const timeoutMs = Math.min(Number(url.searchParams.get('timeoutMs') ?? 5_000), 60_000);
    const until = Date.now() + timeoutMs;
    while (scenario.requests.length < want && Date.now() < until) {
      if (!(await sleep(ctx, 5))) break;
    }
  } else if (method !== 'GET' || sub) {
    return apiError(404, `Invalid URL (${method} ${url.pathname})`);
  }
  return reply({ id: scenario.id, requests: scenario.requests });
}

export async function startFakeOpenAI(
  opts: { port?: number; host?: string } = {},
): Promise<FakeOpenAI> {
  const host = opts.host ?? '127.0.0.1';
  const scenarios = new Map<string, Scenario>();
  const fallback = new DefaultRoute<Step>();
  let origin = '';

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const ctx = newCtx(req, res);
    const url = new URL(req.url ?? '/', origin);
    const body = await readJson(req);
    if (url.pathname === DEFAULT_CONTROL_PATH) {
      const answer = fallback.control(req.method ?? 'GET', body === INVALID ? null : body);
      return writeJson(ctx, reply(answer.body, answer.status));
    }
    if (/^\/__scenarios(\/|$)/.test(url.pathname)) {
      return writeJson(ctx, await control(ctx, scenarios, url, body));
    }
    const [, id, rest] = /^\/s\/([^/]+)(\/.*)?$/.exec(url.pathname) ?? [];
    const scenario = id === undefined ? undefined : scenarios.get(id);
    if (id !== undefined && !scenario)
      return writeJson(ctx, apiError(404, `Unknown scenario ${id}`));
    if (scenario) {
      const { steps, requests } = scenario;
      ctx.step = steps[Math.min(requests.length, steps.length - 1)] ?? {};
      ctx.record = record(ctx, url, body);
      requests.push(ctx.record);
    } else ctx.step = fallback.take(req.method ?? 'GET', url.pathname);
    const path = id === undefined ? url.pathname : (rest ?? '/');
    await respond(ctx, () => route(ctx, path, url.searchParams, body));
  }

  const upgrade = realtimeUpgrade((path) => fallback.take('GET', path));
  const server = await listen(handle, { port: opts.port, host, upgrade });
  origin = server.url;
  return server;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const options = { port: { type: 'string', default: '8788' }, host: { type: 'string' } } as const;
  const { values } = parseArgs({ options });
  const fake = await startFakeOpenAI({ port: Number(values.port), host: values.host });
  console.log(`fake-openai listening on ${fake.url}`);
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => void fake.close().then(() => process.exit(0)));
  }
}
