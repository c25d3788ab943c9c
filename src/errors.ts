/**
 * One error type for the whole gateway and one response builder.
 *
 * Bodies are OpenAI-shaped, `{"error":{"message","type","param","code"}}`, because that is what
 * every OpenAI SDK parses into its typed error classes. Messages never carry stack traces,
 * upstream bodies we did not vet, or secrets; client values they echo are clipped.
 */
import { clip } from './observability/redact.ts';

export type ErrorType =
  | 'invalid_request_error'
  | 'authentication_error'
  | 'permission_error'
  | 'not_found_error'
  | 'rate_limit_error'
  | 'server_error'
  | 'timeout_error';

export interface ErrorBody {
  error: { message: string; type: ErrorType | string; param: string | null; code: string | null };
}

export interface GatewayErrorOptions {
  type?: ErrorType | string;
  code?: string | null;
  param?: string | null;
  headers?: Record<string, string>;
}

export class GatewayError extends Error {
  readonly status: number;
  readonly type: string;
  readonly code: string | null;
  readonly param: string | null;
  readonly headers: Record<string, string>;

  constructor(status: number, message: string, options: GatewayErrorOptions = {}) {
    super(message);
    this.name = 'GatewayError';
    this.status = status;
    this.type = options.type ?? defaultType(status);
    this.code = options.code ?? null;
    this.param = options.param ?? null;
    this.headers = options.headers ?? {};
  }

  toBody(): ErrorBody {
    return {
      error: { message: this.message, type: this.type, param: this.param, code: this.code },
    };
  }
}

function defaultType(status: number): ErrorType {
  if (status === 401) return 'authentication_error';
  if (status === 403) return 'permission_error';
  if (status === 404) return 'invalid_request_error';
  if (status === 429) return 'rate_limit_error';
  if (status === 504 || status === 408) return 'timeout_error';
  if (status >= 500) return 'server_error';
  return 'invalid_request_error';
}

/** The errors the gateway itself raises, by name, so call sites read as policy. */
export const errors = {
  invalidJson: () =>
    new GatewayError(400, 'The request body is not valid JSON.', { code: 'invalid_json' }),
  jsonTooDeep: (maxDepth: number) =>
    new GatewayError(400, `The request body nests deeper than ${maxDepth} levels.`, {
      code: 'invalid_json',
    }),
  invalidField: (param: string, reason: string) =>
    new GatewayError(400, `Invalid value for '${clip(param)}': ${clip(reason, 1_000)}`, {
      code: 'invalid_request',
      param,
    }),
  modelNotFound: (model: string) =>
    new GatewayError(
      404,
      `The model '${clip(model)}' does not exist or you do not have access to it.`,
      {
        code: 'model_not_found',
        param: 'model',
      },
    ),
  /** A stored response that is not there for the caller: unknown, expired, deleted, or
   * another tenant's (never said which). */
  responseNotFound: (id: string, param: string | null = null) =>
    new GatewayError(
      404,
      param
        ? `Previous response with id '${clip(id)}' not found.`
        : `Response with id '${clip(id)}' not found.`,
      { code: param ? 'previous_response_not_found' : 'response_not_found', param },
    ),
  wrongEndpoint: (model: string, endpoint: string) =>
    new GatewayError(400, `The model '${clip(model)}' is not supported on ${endpoint}.`, {
      code: 'model_not_supported',
      param: 'model',
    }),
  /** A guardrail check refused the request or its answer: names the check, never the text. */
  guardrailBlocked: (side: 'request' | 'response', policy: string, check: string) =>
    new GatewayError(
      400,
      `The ${side === 'request' ? 'request' : 'answer'} was blocked by the guardrail check '${check}' (policy '${policy}').`,
      { code: 'guardrail_blocked', param: null },
    ),
  bodyTooLarge: (maxBytes: number) =>
    new GatewayError(413, `The request body exceeds the limit of ${maxBytes} bytes.`, {
      code: 'request_too_large',
    }),
  notFound: (path: string) =>
    new GatewayError(404, `Unknown route: ${clip(path)}`, {
      type: 'not_found_error',
      code: 'not_found',
    }),
  methodNotAllowed: (method: string, path: string, allowed: readonly string[]) =>
    new GatewayError(
      405,
      `Method ${clip(method, 32)} is not allowed on ${clip(path)}; use ${allowed.join(' or ')}.`,
      { code: 'method_not_allowed', headers: { allow: allowed.join(', ') } },
    ),
  upstreamTimeout: () =>
    new GatewayError(504, 'The upstream provider did not answer in time.', {
      code: 'upstream_timeout',
    }),
  upstreamUnavailable: (retryAfterSeconds?: number) =>
    new GatewayError(503, 'All upstream providers for this model are unavailable.', {
      code: 'upstream_unavailable',
      headers: retryAfterSeconds ? { 'retry-after': String(retryAfterSeconds) } : {},
    }),
  upstreamFailed: () =>
    new GatewayError(502, 'All upstream providers for this model failed.', {
      code: 'upstream_error',
    }),
  missingApiKey: () =>
    new GatewayError(
      401,
      "You didn't provide an API key. Send it as 'Authorization: Bearer <key>' or 'x-api-key'.",
      { type: 'invalid_request_error', code: 'missing_api_key' },
    ),
  /** Two Authorization headers, or Authorization and x-api-key naming different keys. */
  ambiguousApiKey: () =>
    new GatewayError(
      401,
      'More than one API key was sent (two Authorization headers, or Authorization and x-api-key that differ); send exactly one.',
      { type: 'invalid_request_error', code: 'ambiguous_api_key' },
    ),
  /** The same answer for unknown, revoked, disabled and expired keys: no oracle. */
  invalidApiKey: () =>
    new GatewayError(401, 'Incorrect API key provided.', {
      type: 'invalid_request_error',
      code: 'invalid_api_key',
    }),
  authUnavailable: () =>
    new GatewayError(503, 'API keys cannot be verified right now; retry shortly.', {
      code: 'auth_unavailable',
      headers: { 'retry-after': '1' },
    }),
  modelNotAllowed: (model: string) =>
    new GatewayError(403, `This API key is not allowed to use the model '${clip(model)}'.`, {
      code: 'model_not_allowed',
      param: 'model',
    }),
  rateLimited: (kind: 'requests' | 'tokens', retryAfterSeconds: number, detail: string) =>
    new GatewayError(
      429,
      `Rate limit reached on ${kind} per minute: ${detail}. Please try again in ${retryAfterSeconds}s.`,
      {
        type: kind,
        code: 'rate_limit_exceeded',
        headers: { 'retry-after': String(retryAfterSeconds) },
      },
    ),
  /** A reservation larger than the whole bucket never fits, however long the client waits:
   * no `retry-after`, and `x-should-retry: false`. */
  exceedsTokenLimit: (limit: number, requested: number) =>
    new GatewayError(
      429,
      `This request needs ${requested} tokens (prompt estimate + max_tokens), more than this key's limit of ${limit} tokens per minute: it can never be served. Lower max_tokens or shorten the prompt.`,
      {
        type: 'tokens',
        code: 'rate_limit_exceeded',
        param: 'max_tokens',
        headers: { 'x-should-retry': 'false' },
      },
    ),
  /** `x-should-retry: false` stops the OpenAI SDKs from retrying what cannot succeed. */
  budgetExceeded: () =>
    new GatewayError(429, 'This API key has used its monthly budget.', {
      type: 'insufficient_quota',
      code: 'budget_exceeded',
      headers: { 'x-should-retry': 'false' },
    }),
  limitsUnavailable: () =>
    new GatewayError(503, 'Limits cannot be checked right now; retry shortly.', {
      code: 'limits_unavailable',
      headers: { 'retry-after': '1' },
    }),
  /** Nothing the request's residency zone allows can serve it: refuse rather than leave it. */
  residencyBlocked: (zone: string) =>
    new GatewayError(
      403,
      `Data residency blocked this request: no endpoint for this model keeps data in zone '${zone}'. It was not sent anywhere.`,
      {
        type: 'permission_error',
        code: 'residency_blocked',
        headers: { 'x-should-retry': 'false' },
      },
    ),
  adminLockedOut: (retryAfterSeconds: number) =>
    new GatewayError(
      429,
      `Too many failed admin authentications from this address; retry in ${retryAfterSeconds}s.`,
      {
        type: 'rate_limit_error',
        code: 'admin_auth_rate_limited',
        headers: { 'retry-after': String(retryAfterSeconds) },
      },
    ),
  adminUnauthorized: () =>
    new GatewayError(401, 'A valid admin token (or console session) is required.', {
      type: 'authentication_error',
      code: 'invalid_admin_token',
    }),
  keyNotFound: (id: string) =>
    new GatewayError(404, `No API key with id '${clip(id)}'.`, {
      type: 'not_found_error',
      code: 'key_not_found',
      param: 'id',
    }),
  /** A prompt template that is not there for the caller: unknown, deleted, another tenant's
   * (never said which), or a version it does not have. */
  templateNotFound: (
    id: string,
    version?: number,
    param: string = version === undefined ? 'prompt.id' : 'prompt.version',
  ) =>
    new GatewayError(
      404,
      version === undefined
        ? `Prompt template '${clip(id)}' not found.`
        : `Prompt template '${clip(id)}' has no version ${version}.`,
      {
        type: 'invalid_request_error',
        code: 'template_not_found',
        param,
      },
    ),
  /** Every declared, required variable the request did not give, named. */
  missingTemplateVariables: (id: string, names: readonly string[]) =>
    new GatewayError(
      400,
      `Prompt template '${clip(id)}' needs the variables ${names.map((n) => `'${clip(n)}'`).join(', ')}, which the request does not give.`,
      { code: 'missing_template_variables', param: 'prompt.variables' },
    ),
  templateExists: (id: string) =>
    new GatewayError(409, `A prompt template with id '${clip(id)}' already exists.`, {
      code: 'template_exists',
      param: 'id',
    }),
  templatesUnavailable: () =>
    new GatewayError(
      503,
      'Prompt templates need Redis (config `redis`), which cannot be reached.',
      {
        code: 'templates_unavailable',
        headers: { 'retry-after': '1' },
      },
    ),
  /** The client went away before an answer: nobody reads it, but the log says why. */
  clientClosed: () =>
    new GatewayError(499, 'Client closed the request.', { code: 'client_closed_request' }),
  internal: () =>
    new GatewayError(500, 'The gateway hit an internal error.', { code: 'internal_error' }),
};

/** Anything thrown that is not a GatewayError becomes a generic 500: never leak internals. */
export function toGatewayError(err: unknown): GatewayError {
  return err instanceof GatewayError ? err : errors.internal();
}
