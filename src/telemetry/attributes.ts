/**
 * Pure mapping from the gateway's request, answer and usage to span attributes (GenAI semantic
 * conventions, names in ./semconv.ts). Only what is given is set: an attribute is never
 * invented or defaulted.
 */
import type { Attributes } from '@opentelemetry/api';
import type { Usage } from '../usage/index.ts';
import { GEN_AI, GENERAL, operationName, providerName } from './semconv.ts';

export interface AttemptStart {
  endpoint: string;
  /** The body as sent upstream (upstream model name inside). */
  body: Record<string, unknown>;
  /** The model the client asked for (the gateway's name). */
  requestModel: string;
  providerKind: string;
  url: string;
  attempt: number;
}

/** Attributes known when an upstream attempt starts (samplers and backends read these). */
export function attemptStartAttributes(start: AttemptStart): Attributes {
  const { body } = start;
  const attrs: Attributes = {
    [GEN_AI.operationName]: operationName(start.endpoint),
    [GEN_AI.providerName]: providerName(start.providerKind),
    [GEN_AI.requestModel]: start.requestModel,
  };
  const maxTokens = body.max_completion_tokens ?? body.max_tokens;
  if (typeof maxTokens === 'number') attrs[GEN_AI.requestMaxTokens] = maxTokens;
  if (typeof body.temperature === 'number') attrs[GEN_AI.requestTemperature] = body.temperature;
  if (typeof body.top_p === 'number') attrs[GEN_AI.requestTopP] = body.top_p;
  if (typeof body.seed === 'number') attrs[GEN_AI.requestSeed] = body.seed;
  if (typeof body.n === 'number' && body.n !== 1) attrs[GEN_AI.requestChoiceCount] = body.n;
  if (start.endpoint !== 'embeddings') attrs[GEN_AI.requestStream] = body.stream === true;
  const server = serverOf(start.url);
  if (server) {
    attrs[GENERAL.serverAddress] = server.address;
    attrs[GENERAL.serverPort] = server.port;
  }
  return attrs;
}

/** Upstream URLs repeat (one per provider and endpoint): parsed once per isolate. */
const servers = new Map<string, { address: string; port: number } | null>();
const MAX_SERVERS = 256;

function serverOf(raw: string): { address: string; port: number } | null {
  let server = servers.get(raw);
  if (server !== undefined) return server;
  try {
    const url = new URL(raw);
    server = {
      address: url.hostname,
      port: Number(url.port) || (url.protocol === 'https:' ? 443 : 80),
    };
  } catch {
    server = null; // not a URL: no server attributes
  }
  if (servers.size >= MAX_SERVERS) servers.clear();
  servers.set(raw, server);
  return server;
}

/** Usage as `gen_ai.usage.*` (cache and reasoning counts only when reported). */
export function usageAttributes(usage: Usage): Attributes {
  const attrs: Attributes = {
    [GEN_AI.usageInputTokens]: usage.prompt_tokens,
    [GEN_AI.usageOutputTokens]: usage.completion_tokens,
  };
  if (usage.cached_tokens !== undefined)
    attrs[GEN_AI.usageCacheReadInputTokens] = usage.cached_tokens;
  if (usage.cache_write_tokens !== undefined)
    attrs[GEN_AI.usageCacheCreationInputTokens] = usage.cache_write_tokens;
  if (usage.reasoning_tokens !== undefined)
    attrs[GEN_AI.usageReasoningOutputTokens] = usage.reasoning_tokens;
  return attrs;
}

/** What an answer (OpenAI-shaped, JSON or the stream's bookkeeping) says about itself. */
export interface AnswerFacts {
  id?: string | undefined;
  model?: string | undefined;
  finishReasons?: readonly string[] | undefined;
}

export function answerAttributes(facts: AnswerFacts): Attributes {
  const attrs: Attributes = {};
  if (facts.id) attrs[GEN_AI.responseId] = facts.id;
  if (facts.model) attrs[GEN_AI.responseModel] = facts.model;
  if (facts.finishReasons && facts.finishReasons.length > 0)
    attrs[GEN_AI.responseFinishReasons] = [...facts.finishReasons];
  return attrs;
}

/** The facts of an OpenAI-shaped JSON answer (chat, completions, embeddings). */
export function answerFacts(body: unknown): AnswerFacts {
  if (!body || typeof body !== 'object') return {};
  const b = body as Record<string, unknown>;
  const choices = Array.isArray(b.choices) ? (b.choices as Record<string, unknown>[]) : [];
  const finishReasons = choices
    .map((c) => c?.finish_reason)
    .filter((r): r is string => typeof r === 'string');
  return {
    id: typeof b.id === 'string' ? b.id : undefined,
    model: typeof b.model === 'string' ? b.model : undefined,
    finishReasons,
  };
}

/** `error.type` of a failed attempt: the upstream status, or the failure's reason. */
export function attemptErrorType(failure: { reason: string; status?: number }): string {
  return failure.reason === 'status' && failure.status !== undefined
    ? String(failure.status)
    : failure.reason;
}
