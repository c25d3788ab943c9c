// HTTP front of the simulator: OpenAI-compatible routes shaped like vLLM's server (trtllm-serve
// answers the same shapes), TEI's /embed, /health, /metrics; real timers drive the model.
import { randomUUID } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { createMetrics, type Kind } from './metrics.ts';
import {
  GpuModel,
  type ModelStats,
  type RequestView,
  type SimEvent,
  seededRandom,
  tokenize,
} from './model.ts';
import { resolveOptions, type SimOptions } from './options.ts';

export type { SimOptions } from './options.ts';

export interface SimState extends ModelStats {
  kind: Kind;
  model: string;
  /** Requests held open by the hang fault right now. */
  hanging: number;
  /** Clients that left before their answer was complete (hung requests included). */
  disconnects: number;
  resets: number;
  injectedErrors: number;
  /** The tracing headers of the last request served (x-request-id, traceparent), as sent. */
  lastTrace: { requestId?: string; traceparent?: string };
}

export interface GpuSim {
  url: string;
  port: number;
  close(): Promise<void>;
  state(): SimState;
}

const FAULTS = ['error', 'hang', 'reset', 'slow'] as const;
type Fault = (typeof FAULTS)[number];
type Json = Record<string, unknown>;

class HttpError extends Error {
  readonly status: number;
  readonly param: string | null;
  constructor(status: number, message: string, param: string | null = null) {
    super(message);
    this.status = status;
    this.param = param;
  }
}

const ERROR_TYPES: Record<number, string> = {
  400: 'BadRequestError',
  404: 'NotFoundError',
  500: 'InternalServerError',
  503: 'ServiceUnavailableError',
};

const FILLER = (
  'the model answers with plain filler words so that output is deterministic and cheap to ' +
  'produce while the timing follows the batch queue cache and prefix of every request'
).split(' ');

export async function startGpuSim(input: SimOptions = {}): Promise<GpuSim> {
  const o = resolveOptions(input);
  const model = new GpuModel(o);
  const t0 = performance.now();
  const clock = () => performance.now() - t0;
  const rng = seededRandom(o.seed);
  const metrics = createMetrics(o.kind, o.model, () => model.stats());
  const listeners = new Map<string, (ev: SimEvent) => void>();
  const counts = { hanging: 0, disconnects: 0, resets: 0, injectedErrors: 0 };
  let timer: NodeJS.Timeout | undefined;
  let closed = false;

  /** Brings the model to the present, delivers due events, arms the timer for the next one. */
  function tick(): void {
    for (const ev of model.advance(clock())) {
      try {
        listeners.get(ev.req.id)?.(ev);
      } catch (err) {
        console.error('gpu-sim: event handler failed', err);
      }
    }
    if (timer) clearTimeout(timer);
    timer = undefined;
    const next = model.nextEventTime();
    if (next !== undefined && !closed) timer = setTimeout(tick, Math.max(0, next - clock()));
  }

  /** Queues a request in the model; a client that leaves early frees its slot and blocks. */
  function enqueue(
    id: string,
    res: http.ServerResponse,
    tokens: string[],
    maxOutputTokens: number,
    onEvent: (ev: SimEvent) => void,
  ): void {
    tick();
    try {
      model.submit({ id, tokens, maxOutputTokens });
    } catch (err) {
      if (err instanceof RangeError) throw new HttpError(400, err.message);
      throw err;
    }
    listeners.set(id, onEvent);
    res.on('close', () => {
      if (!listeners.delete(id)) return;
      tick();
      model.cancel(id);
      counts.disconnects++;
      tick();
    });
    tick();
  }

  /** The reset fault: drop the request and destroy the connection without an answer. */
  function reset(id: string, res: http.ServerResponse): void {
    listeners.delete(id);
    model.cancel(id);
    counts.resets++;
    // Let the chunks written in this turn (corked until the next tick) reach the client first.
    const socket = res.socket;
    setImmediate(() => socket?.destroy());
  }

  function rollFault(): Fault | undefined {
    if (o.errorRate + o.hangRate + o.resetRate === 0) return undefined;
    const x = rng();
    if (x < o.errorRate) return 'error';
    if (x < o.errorRate + o.hangRate) return 'hang';
    if (x < o.errorRate + o.hangRate + o.resetRate) return 'reset';
    return undefined;
  }

  function generate(body: Json, res: http.ServerResponse, api: 'chat' | 'text', fault?: Fault) {
    const tokens = tokenize(api === 'chat' ? chatPrompt(body.messages) : textPrompt(body.prompt));
    const requested = body.max_completion_tokens ?? body.max_tokens;
    if (requested !== undefined && requested !== null && !isPositiveInt(requested)) {
      throw new HttpError(400, 'max_tokens must be a positive integer', 'max_tokens');
    }
    const maxOut = requested
      ? Math.min(requested, o.maxOutputTokens)
      : o.defaultTokensMin + Math.floor(rng() * (o.defaultTokensMax - o.defaultTokensMin + 1));
    const finishReason = requested ? 'length' : 'stop';
    const stream = body.stream === true;
    const includeUsage = (body.stream_options as Json | undefined)?.include_usage === true;
    const head = {
      id: `${api === 'chat' ? 'chatcmpl' : 'cmpl'}-${randomUUID().replaceAll('-', '')}`,
      object: api === 'chat' ? 'chat.completion.chunk' : 'text_completion',
      created: Math.floor(Date.now() / 1000),
      model: o.model,
    };
    const send = (chunk: Json) => res.write(`data: ${JSON.stringify({ ...head, ...chunk })}\n\n`);
    const choice = (piece: string, finish: string | null, role = false): Json =>
      api === 'chat'
        ? {
            index: 0,
            delta: role ? { role: 'assistant', content: piece } : { content: piece },
            logprobs: null,
            finish_reason: finish,
            ...(finish ? { stop_reason: null } : {}),
          }
        : { index: 0, text: piece, logprobs: null, finish_reason: finish, stop_reason: null };
    let text = '';

    const id = randomUUID();
    enqueue(id, res, tokens, maxOut, (ev) => {
      if (ev.type === 'token') {
        metrics.onToken(ev.req, ev.at, ev.itlMs);
        const n = ev.req.generated;
        const piece = `${n === 1 ? '' : ' '}${FILLER[(tokens.length + n * 7) % FILLER.length]}`;
        text += piece;
        if (stream) {
          if (n === 1) {
            res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8' });
            if (api === 'chat') send({ choices: [choice('', null, true)] });
          }
          send({ choices: [choice(piece, n === maxOut ? finishReason : null)] });
        }
        if (fault === 'reset' && n >= o.resetAfterTokens) reset(id, res);
        return;
      }
      listeners.delete(id);
      metrics.onFinish(ev.req, ev.at, finishReason, false);
      if (fault === 'reset') return reset(id, res);
      const usage = usageOf(ev.req);
      if (stream) {
        if (includeUsage) send({ choices: [], usage });
        res.end('data: [DONE]\n\n');
        return;
      }
      const message = { role: 'assistant', content: text, tool_calls: [] };
      sendJson(res, 200, {
        ...head,
        object: api === 'chat' ? 'chat.completion' : 'text_completion',
        choices: [
          api === 'chat'
            ? { index: 0, message, logprobs: null, finish_reason: finishReason, stop_reason: null }
            : choice(text, finishReason),
        ],
        usage,
      });
    });
  }

  function embed(body: Json, res: http.ServerResponse, native: boolean, fault?: Fault) {
    const raw = native ? body.inputs : body.input;
    const inputs = Array.isArray(raw) && typeof raw[0] !== 'number' ? raw : [raw];
    if (inputs.length === 0) throw new HttpError(400, 'input must not be empty', 'input');
    const perInput = inputs.map((x) => {
      if (typeof x === 'string' && x.length > 0) return tokenize(x);
      if (Array.isArray(x) && x.length > 0) return x.map(String);
      throw new HttpError(400, 'input must be a non-empty string or token array', 'input');
    });
    const tokens = perInput.flat();
    const batch = inputs.length > 1;
    metrics.onRequest(tokens.length, batch);
    const dims = isPositiveInt(body.dimensions) ? body.dimensions : o.embeddingDim;
    const id = randomUUID();
    enqueue(id, res, tokens, 0, (ev) => {
      listeners.delete(id);
      metrics.onFinish(ev.req, ev.at, 'stop', batch);
      if (fault === 'reset') return reset(id, res);
      const vectors = perInput.map((t) => embeddingOf(t.join(' '), dims));
      if (native) return sendJson(res, 200, vectors);
      sendJson(res, 200, {
        object: 'list',
        data: vectors.map((v, index) => ({
          object: 'embedding',
          embedding:
            body.encoding_format === 'base64'
              ? Buffer.from(new Float32Array(v).buffer).toString('base64')
              : v,
          index,
        })),
        model: o.model,
        usage: { prompt_tokens: tokens.length, total_tokens: tokens.length },
      });
    });
  }

  const routes: Record<string, (body: Json, res: http.ServerResponse, fault?: Fault) => void> =
    o.kind === 'tei'
      ? {
          '/v1/embeddings': (b, r, f) => embed(b, r, false, f),
          '/embed': (b, r, f) => embed(b, r, true, f),
        }
      : {
          '/v1/chat/completions': (b, r, f) => generate(b, r, 'chat', f),
          '/v1/completions': (b, r, f) => generate(b, r, 'text', f),
        };

  let lastTrace: SimState['lastTrace'] = {};

  async function handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const path = new URL(req.url ?? '/', 'http://sim').pathname;
    const requestId = req.headers['x-request-id'];
    if (typeof requestId === 'string') res.setHeader('x-request-id', requestId);
    if (path in routes) {
      const { traceparent } = req.headers;
      lastTrace = {
        ...(typeof requestId === 'string' ? { requestId } : {}),
        ...(typeof traceparent === 'string' ? { traceparent } : {}),
      };
    }
    const starting = clock() < o.slowStartMs;
    const loading = () => {
      res.setHeader(
        'retry-after',
        String(Math.max(1, Math.ceil((o.slowStartMs - clock()) / 1000))),
      );
      return new HttpError(503, 'The model is still loading.');
    };

    if (req.method === 'GET' && path === '/health') {
      if (starting) throw loading();
      res.writeHead(200).end();
      return;
    }
    if (req.method === 'GET' && (path === '/metrics' || path === '/prometheus/metrics')) {
      tick();
      const text = await metrics.registry.metrics();
      res.writeHead(200, { 'content-type': metrics.registry.contentType }).end(text);
      return;
    }
    if (req.method === 'GET' && path === '/v1/models') {
      sendJson(res, 200, {
        object: 'list',
        data: [
          {
            id: o.model,
            object: 'model',
            created: Math.floor(Date.now() / 1000),
            owned_by: { vllm: 'vllm', trt: 'tensorrt_llm', tei: 'text-embeddings-inference' }[
              o.kind
            ],
            root: o.model,
            parent: null,
            max_model_len: o.kvBlocks * o.blockSize,
          },
        ],
      });
      return;
    }
    const route = req.method === 'POST' ? routes[path] : undefined;
    if (!route) throw new HttpError(404, `${req.method} ${path} is not served by ${o.kind}`);
    if (starting) throw loading();
    const body = await readJson(req);
    if (body.model !== undefined && body.model !== o.model) {
      throw new HttpError(404, `The model \`${String(body.model)}\` does not exist.`, 'model');
    }
    const header = req.headers['x-sim-fault'];
    if (header !== undefined && !FAULTS.includes(header as Fault)) {
      throw new HttpError(400, `x-sim-fault must be one of ${FAULTS.join(', ')}`);
    }
    const fault = (header as Fault | undefined) ?? rollFault();
    if (fault === 'slow') throw loading();
    if (fault === 'error') {
      counts.injectedErrors++;
      metrics.onFailure('inference');
      throw new HttpError(500, 'Simulated internal server error.');
    }
    if (fault === 'hang') {
      counts.hanging++;
      res.on('close', () => {
        counts.hanging--;
        counts.disconnects++;
      });
      return;
    }
    route(body, res, fault);
  }

  const server = http.createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      if (res.headersSent) return void res.destroy();
      const e = err instanceof HttpError ? err : new HttpError(500, String(err));
      const path = req.url ?? '';
      // TEI's native routes answer errors in TEI's own shape.
      const body = path.startsWith('/embed')
        ? { error: e.message, error_type: e.status === 400 ? 'Validation' : 'Backend' }
        : {
            error: {
              message: e.message,
              type: ERROR_TYPES[e.status] ?? 'InternalServerError',
              param: e.param,
              code: e.status,
            },
          };
      sendJson(res, e.status, body);
    });
  });
  server.listen(o.port, o.host);
  await new Promise<void>((resolve, reject) => {
    server.once('listening', resolve).once('error', reject);
  });
  const { port } = server.address() as AddressInfo;
  const host = o.host.includes(':') ? `[${o.host}]` : o.host;

  return {
    url: `http://${host}:${port}`,
    port,
    state: () => ({ kind: o.kind, model: o.model, ...model.stats(), ...counts, lastTrace }),
    async close() {
      closed = true;
      if (timer) clearTimeout(timer);
      listeners.clear();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

function sendJson(res: http.ServerResponse, status: number, body: unknown): void {
  if (res.destroyed) return;
  res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
}

async function readJson(req: http.IncomingMessage): Promise<Json> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > 32 * 1024 * 1024) throw new HttpError(400, 'request body too large');
    chunks.push(chunk);
  }
  try {
    const body: unknown = JSON.parse(Buffer.concat(chunks).toString('utf8'));
    if (body && typeof body === 'object' && !Array.isArray(body)) return body as Json;
  } catch {}
  throw new HttpError(400, 'request body must be a JSON object');
}

const isPositiveInt = (x: unknown): x is number => Number.isInteger(x) && (x as number) > 0;

/** A crude chat template: identical conversation prefixes give identical token prefixes. */
function chatPrompt(messages: unknown): string {
  if (!Array.isArray(messages) || messages.length === 0) {
    throw new HttpError(400, 'messages must be a non-empty array', 'messages');
  }
  const parts = messages.map((m: Json) => {
    const content = Array.isArray(m?.content)
      ? m.content.map((p: Json) => (typeof p?.text === 'string' ? p.text : '')).join('\n')
      : String(m?.content ?? '');
    return `<|${String(m?.role ?? 'user')}|>\n${content}\n`;
  });
  return `${parts.join('')}<|assistant|>\n`;
}

function textPrompt(prompt: unknown): string {
  if (typeof prompt === 'string' && prompt.length > 0) return prompt;
  if (Array.isArray(prompt) && prompt.length > 0) return prompt.map(String).join('\n');
  throw new HttpError(400, 'prompt must be a non-empty string', 'prompt');
}

function usageOf(req: RequestView) {
  return {
    prompt_tokens: req.promptTokens,
    total_tokens: req.promptTokens + req.generated,
    completion_tokens: req.generated,
    prompt_tokens_details: { cached_tokens: req.cachedTokens },
  };
}

/** A unit vector that depends only on the text. */
function embeddingOf(text: string, dims: number): number[] {
  let h = 2166136261;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 16777619);
  const rnd = seededRandom(h);
  const v = Array.from({ length: dims }, () => rnd() * 2 - 1);
  const norm = Math.hypot(...v) || 1;
  return v.map((x) => x / norm);
}
