import {
  type Attributes,
  type Context,
  type Span,
  SpanKind,
  SpanStatusCode,
  trace,
} from '@opentelemetry/api';
import type { Usage } from '../usage/index.ts';
import {
  type AnswerFacts,
  type AttemptStart,
  answerAttributes,
  attemptErrorType,
  attemptStartAttributes,
  usageAttributes,
} from './attributes.ts';
import { type ContentKeeper, inputContentAttributes, outputContentAttributes } from './content.ts';
import { EVENTS, GATEWAY, GEN_AI, GENERAL } from './semconv.ts';
import type { Telemetry } from './telemetry.ts';

/** What the request log line says at the end (the subset the server span reads). */
export interface RequestEnding {
  status: number;
  error_code?: string | null | undefined;
  key_id?: string | undefined;
  tenant?: string | undefined;
  cache?: string | undefined;
  region?: string | undefined;
  provider?: string | undefined;
  route?: { zone: string } | undefined;
  /** The prompt template rendered into the request (src/templates). */
  template?: { id: string; version: number } | undefined;
}

/** Error codes that are a limit's or budget's refusal. */
const LIMIT_REFUSALS = new Set(['rate_limit_exceeded', 'budget_exceeded']);

/**
 * One request's trace: the SERVER span (continuing the client's `traceparent`) and a CLIENT
 * span per upstream attempt. GenAI attributes go on the attempt spans only; the server span
 * has HTTP and gateway attributes, so /health and /admin spans carry no model attributes.
 */
export class RequestTrace {
  readonly #server: Span;
  readonly #context: Context;
  readonly #attempts = new Set<AttemptSpan>();
  #lastProvider: string | undefined;
  #ended = false;
  /** Set when the caller's tenant opts in to content on spans (./content.ts). */
  content: ContentKeeper | undefined;
  /** The request's content attributes, made on the first attempt: every attempt sends the
   * same messages (only the model differs). */
  #inputContent: Attributes | undefined;
  readonly telemetry: Telemetry;

  constructor(
    telemetry: Telemetry,
    headers: Headers,
    request: { method: string; path: string; requestId: string },
    at = Date.now(),
  ) {
    this.telemetry = telemetry;
    const parent = telemetry.extract(headers);
    this.#server = telemetry.startSpan(
      `${request.method} ${request.path}`,
      SpanKind.SERVER,
      {
        [GENERAL.httpMethod]: request.method,
        [GENERAL.urlPath]: request.path,
        [GATEWAY.requestId]: request.requestId,
      },
      parent,
      at,
    );
    this.#context = trace.setSpan(parent, this.#server);
  }

  /** A CLIENT span for one upstream attempt, child of the server span. */
  attempt(start: AttemptStart & { providerId: string; region: string | undefined }): AttemptSpan {
    const attrs = attemptStartAttributes(start);
    attrs[GATEWAY.attempt] = start.attempt;
    attrs[GATEWAY.provider] = start.providerId;
    if (start.region) attrs[GATEWAY.region] = start.region;
    if (this.content) {
      this.#inputContent ??= inputContentAttributes(start.body, this.content);
      Object.assign(attrs, this.#inputContent);
    }
    const name = this.telemetry.names.inferenceSpanName(
      String(attrs[GEN_AI.operationName]),
      start.requestModel,
    );
    const span = new AttemptSpan(
      this,
      this.telemetry.startSpan(name, SpanKind.CLIENT, attrs, this.#context, Date.now()),
      attrs,
    );
    if (this.#lastProvider !== undefined && this.#lastProvider !== start.providerId) {
      this.telemetry.metrics.fallbacks.add(1, { [GATEWAY.provider]: start.providerId });
    }
    this.#lastProvider = start.providerId;
    this.#attempts.add(span);
    return span;
  }

  forget(span: AttemptSpan): void {
    this.#attempts.delete(span);
  }

  /** Ends the server span (and any attempt still open) and records the request metrics. */
  end(ending: RequestEnding, at = Date.now()): void {
    if (this.#ended) return;
    this.#ended = true;
    for (const open of this.#attempts) open.abandon(at);
    const attrs: Attributes = { [GENERAL.httpStatus]: ending.status };
    if (ending.key_id) attrs[GATEWAY.keyId] = ending.key_id;
    if (ending.tenant) attrs[GATEWAY.tenant] = ending.tenant;
    if (ending.cache) attrs[GATEWAY.cache] = ending.cache;
    if (ending.region) attrs[GATEWAY.region] = ending.region;
    if (ending.route?.zone) attrs[GATEWAY.zone] = ending.route.zone;
    if (ending.template) {
      attrs[GATEWAY.templateId] = ending.template.id;
      attrs[GATEWAY.templateVersion] = ending.template.version;
    }
    if (ending.error_code) attrs[GENERAL.errorType] = ending.error_code;
    this.#server.setAttributes(attrs);
    if (ending.status >= 500) this.#server.setStatus({ code: SpanStatusCode.ERROR });
    this.#server.end(at);

    const { metrics } = this.telemetry;
    const counted: Attributes = { [GENERAL.httpStatus]: ending.status };
    if (ending.provider) counted[GATEWAY.provider] = ending.provider;
    if (ending.region) counted[GATEWAY.region] = ending.region;
    if (ending.cache) counted[GATEWAY.cache] = ending.cache;
    metrics.requests.add(1, counted);
    if (ending.error_code && LIMIT_REFUSALS.has(ending.error_code))
      metrics.limitRefusals.add(1, { [GATEWAY.refusal]: ending.error_code });
    if (ending.error_code === 'residency_blocked') metrics.residencyRefusals.add(1);
  }

  circuitOpened(providerId: string): void {
    this.telemetry.metrics.circuitsOpened.add(1, { [GATEWAY.provider]: providerId });
  }
}

/** One upstream attempt's CLIENT span, and its share of the GenAI client metrics. */
export class AttemptSpan {
  readonly #startedAt = Date.now();
  #firstChunkAt: number | undefined;
  #done = false;
  private readonly owner: RequestTrace;
  readonly span: Span;
  /** The start attributes, reused as the metrics' attributes. */
  private readonly attrs: Attributes;

  constructor(owner: RequestTrace, span: Span, attrs: Attributes) {
    this.owner = owner;
    this.span = span;
    this.attrs = attrs;
  }

  /** `traceparent` naming this span, for the upstream request. */
  get traceparent(): string {
    const { traceId, spanId, traceFlags } = this.span.spanContext();
    return `00-${traceId}-${spanId}-${traceFlags.toString(16).padStart(2, '0')}`;
  }

  /** The upstream's first byte (JSON) or first event (stream) arrived. */
  firstByte(at = Date.now()): void {
    this.#firstChunkAt = at;
    this.span.addEvent(EVENTS.firstByte, at);
  }

  failed(failure: { reason: string; status?: number; message: string }, at = Date.now()): void {
    const errorType = attemptErrorType(failure);
    this.span.setAttribute(GENERAL.errorType, errorType);
    this.span.setStatus({ code: SpanStatusCode.ERROR, message: failure.message });
    this.#finish(at, this.metricAttrs({ [GENERAL.errorType]: errorType }));
  }

  /** The answer is complete (JSON mapped, or the stream ended): response and usage. */
  succeeded(
    facts: AnswerFacts,
    usage: Usage | undefined,
    stream?: { reason: string },
    /** The answer's text, for content on the span (when the tenant opts in). */
    text?: string | null,
    at = Date.now(),
  ): void {
    const attrs = { ...answerAttributes(facts), ...(usage ? usageAttributes(usage) : {}) };
    const { content } = this.owner;
    if (content && typeof text === 'string')
      Object.assign(attrs, outputContentAttributes(text, facts.finishReasons, content));
    if (this.#firstChunkAt !== undefined && stream)
      attrs[GEN_AI.responseTimeToFirstChunk] = (this.#firstChunkAt - this.#startedAt) / 1000;
    this.span.setAttributes(attrs);
    const extra: Attributes = facts.model ? { [GEN_AI.responseModel]: facts.model } : {};
    if (stream) {
      this.span.addEvent(EVENTS.streamEnd, { [GATEWAY.streamEnd]: stream.reason }, at);
      if (stream.reason !== 'done') {
        this.span.setAttribute(GENERAL.errorType, stream.reason);
        this.span.setStatus({ code: SpanStatusCode.ERROR });
        extra[GENERAL.errorType] = stream.reason;
      }
    }
    const { genAi } = this.owner.telemetry.metrics;
    const base = this.metricAttrs(extra);
    if (stream && this.#firstChunkAt !== undefined) {
      genAi.timeToFirstChunk.record((this.#firstChunkAt - this.#startedAt) / 1000, base);
    }
    if (usage) {
      genAi.recordTokens('input', usage.prompt_tokens, base);
      genAi.recordTokens('output', usage.completion_tokens, base);
    }
    this.#finish(at, base);
  }

  /** The request ended with this attempt still open (the client left). */
  abandon(at: number): void {
    this.span.setAttribute(GENERAL.errorType, 'client_abort');
    this.span.setStatus({ code: SpanStatusCode.ERROR });
    this.#finish(at, this.metricAttrs({ [GENERAL.errorType]: 'client_abort' }));
  }

  /** Ends the span; `metricAttrs`: the operation duration's attributes. */
  #finish(at: number, metricAttrs: Attributes): void {
    if (this.#done) return;
    this.#done = true;
    this.span.end(at);
    this.owner.forget(this);
    this.owner.telemetry.metrics.genAi.operationDuration.record(
      (at - this.#startedAt) / 1000,
      metricAttrs,
    );
  }

  #metricAttrs: Attributes | undefined;

  /** The attributes the GenAI metrics are keyed by (low cardinality only), plus `extra`. */
  private metricAttrs(extra: Attributes = {}): Attributes {
    this.#metricAttrs ??= this.baseMetricAttrs();
    return Object.keys(extra).length > 0 ? { ...this.#metricAttrs, ...extra } : this.#metricAttrs;
  }

  private baseMetricAttrs(): Attributes {
    const a = this.attrs;
    const out: Attributes = {
      [GEN_AI.operationName]: a[GEN_AI.operationName],
      [GEN_AI.providerName]: a[GEN_AI.providerName],
      [GEN_AI.requestModel]: a[GEN_AI.requestModel],
    };
    if (a[GENERAL.serverAddress] !== undefined)
      out[GENERAL.serverAddress] = a[GENERAL.serverAddress];
    if (a[GENERAL.serverPort] !== undefined) out[GENERAL.serverPort] = a[GENERAL.serverPort];
    return out;
  }
}
