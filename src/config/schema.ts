import { z } from 'zod';
import { ORIGIN } from '../cors/policy.ts';
import { PII_DETECTORS, SECRET_DETECTORS } from '../guardrails/detectors.ts';
import { servesEndpoint } from '../providers/capabilities.ts';

/**
 * The gateway config: which providers exist, which public model names map to which upstream
 * targets (in fallback order), the regions, and the defaults for timeouts, retries and limits.
 * Every field is documented with its default. `${VAR}` in any string is replaced by the
 * Worker variable or secret VAR at load time (see ./load.ts).
 */

const id = z.string().regex(/^[a-zA-Z0-9][\w.:/-]*$/, 'use letters, digits and . _ : / -');

export const timeoutsSchema = z.object({
  /** Time allowed for the upstream's response headers and first body bytes. Default 60 000 ms. */
  firstByteMs: z.number().int().positive().default(60_000),
  /** Longest silence allowed between two body chunks once the body started. Default 30 000 ms. */
  idleMs: z.number().int().positive().default(30_000),
});

export const retrySchema = z.object({
  /** Attempts on one target before falling back to the next (1 = no retry). Default 2. */
  maxAttempts: z.number().int().min(1).max(10).default(2),
  /** Base of the exponential backoff (full jitter). Default 200 ms. */
  baseDelayMs: z.number().int().min(0).default(200),
  /** Cap on a single backoff, and on a `retry-after` we are willing to wait; a longer
   * `retry-after` moves on to the next target instead. Default 5 000 ms. */
  maxDelayMs: z.number().int().min(0).default(5_000),
});

/** Per-provider overrides of the defaults. */
const providerCommon = {
  /** The region (a key of `regions`) this endpoint runs in. Default none: a global endpoint,
   * tried after every regional one. */
  region: id.optional(),
  /** Residency zones whose data may go to this endpoint (e.g. `["eu"]`). Default: the zone
   * of `region`, or none. An endpoint with no zone serves only keys with no residency. */
  zones: z.array(z.string().min(1)).optional(),
  timeouts: timeoutsSchema.partial().optional(),
  retry: retrySchema.partial().optional(),
  /** Extra headers sent upstream on every request (e.g. OpenAI-Organization). Default none. */
  headers: z.record(z.string(), z.string()).optional(),
};

export const openaiProviderSchema = z.object({
  kind: z.literal('openai'),
  /** Default https://api.openai.com/v1. */
  baseUrl: z.url().default('https://api.openai.com/v1'),
  apiKey: z.string().min(1),
  ...providerCommon,
});

export const compatibleProviderSchema = z.object({
  /** Any OpenAI-compatible host: vLLM, Groq, Together, Fireworks, Ollama... */
  kind: z.literal('openai-compatible'),
  baseUrl: z.url(),
  /** Sent as a bearer token when set. Default none. */
  apiKey: z.string().min(1).optional(),
  /** Whether the host honours `stream_options.include_usage`. Default true. When false the
   * gateway estimates streamed usage and marks it `estimated` in the request log. */
  streamUsage: z.boolean().default(true),
  ...providerCommon,
});

export const azureProviderSchema = z.object({
  kind: z.literal('azure-openai'),
  /** https://<resource>.openai.azure.com */
  endpoint: z.url(),
  apiKey: z.string().min(1),
  /** Default 2024-10-21 (the GA API version that supports stream_options). */
  apiVersion: z.string().min(1).default('2024-10-21'),
  /** Upstream model name -> deployment name. Default: the deployment is named like the model. */
  deployments: z.record(z.string(), z.string()).default({}),
  ...providerCommon,
});

export const originProviderSchema = z.object({
  /** The region's self-hosted origin (origin/): requests are HMAC-signed (src/signing). */
  kind: z.literal('origin'),
  /** The origin's OpenAI-compatible base, e.g. https://origin.eu-west.example.com/v1. */
  baseUrl: z.url(),
  /** Names the signing key on the origin (ORIGIN_SIGNING_KEYS there), for rotation. */
  keyId: z.string().regex(/^[\w.-]+$/, 'use letters, digits and . _ -'),
  signingKey: z.string().min(16, 'use at least 16 characters'),
  ...providerCommon,
});

export const anthropicProviderSchema = z.object({
  /** The Anthropic Messages API (src/providers/anthropic). */
  kind: z.literal('anthropic'),
  /** Default https://api.anthropic.com/v1. */
  baseUrl: z.url().default('https://api.anthropic.com/v1'),
  apiKey: z.string().min(1),
  /** The `anthropic-version` header. Default 2023-06-01. */
  version: z.string().min(1).default('2023-06-01'),
  /** `max_tokens` sent when the client set none (Anthropic requires it). Default 4 096. */
  defaultMaxTokens: z.number().int().positive().default(4_096),
  ...providerCommon,
});

export const geminiProviderSchema = z.object({
  /** Google Gemini API, generateContent (src/providers/gemini). */
  kind: z.literal('gemini'),
  /** Default https://generativelanguage.googleapis.com/v1beta. */
  baseUrl: z.url().default('https://generativelanguage.googleapis.com/v1beta'),
  apiKey: z.string().min(1),
  ...providerCommon,
});

export const bedrockProviderSchema = z.object({
  /** AWS Bedrock Runtime, Converse / ConverseStream, SigV4-signed (src/providers/bedrock). */
  kind: z.literal('bedrock'),
  /** The AWS region, e.g. us-east-1 (`region` is the gateway region, a key of `regions`). */
  awsRegion: z.string().regex(/^[a-z]{2}(-[a-z]+)+-\d+$/, 'an AWS region such as us-east-1'),
  accessKeyId: z.string().min(1),
  secretAccessKey: z.string().min(1),
  /** For temporary credentials. Default none ('' counts as none). */
  sessionToken: z.string().optional(),
  /** Default https://bedrock-runtime.<awsRegion>.amazonaws.com (override: VPC endpoint, tests). */
  endpoint: z.url().optional(),
  /** The Bedrock control plane the cron probe asks (ListFoundationModels, SigV4-signed).
   * Default https://bedrock.<awsRegion>.amazonaws.com. */
  controlEndpoint: z.url().optional(),
  ...providerCommon,
});

export const providerSchema = z.discriminatedUnion('kind', [
  openaiProviderSchema,
  compatibleProviderSchema,
  azureProviderSchema,
  originProviderSchema,
  anthropicProviderSchema,
  geminiProviderSchema,
  bedrockProviderSchema,
]);

export const targetSchema = z.object({
  /** A key of `providers`. */
  provider: id,
  /** The model name the provider knows. */
  model: z.string().min(1),
  /** Share of traffic among targets of the same priority. Default 1. */
  weight: z.number().positive().default(1),
  /** Lower is tried first; targets with equal priority are load-balanced by weight.
   * Default: the target's position in the list, so the list is the fallback order. */
  priority: z.number().int().min(0).optional(),
});

export const modelSchema = z.object({
  /** `chat` models serve /v1/chat/completions and /v1/completions; `embedding` models serve
   * /v1/embeddings. Default chat. */
  type: z.enum(['chat', 'embedding']).default('chat'),
  targets: z.array(targetSchema).min(1, 'a model needs at least one target'),
  /** Shown as `owned_by` in /v1/models. Default "gateway". */
  ownedBy: z.string().default('gateway'),
  /** The most completion tokens one choice can produce (the model's real output limit):
   * token and budget reservations count a larger `max_tokens` as this. Default 32 768. */
  maxOutputTokens: z.number().int().positive().max(10_000_000).default(32_768),
  /** Largest `dimensions` an embedding request may ask for; more is a 400. Default 4 096. */
  maxDimensions: z.number().int().positive().max(1_000_000).default(4_096),
});

export const regionSchema = z.object({
  /** Residency zone whose data stays in this region, e.g. `eu`. */
  zone: z.string().min(1),
  /** The regional origin (self-hosted models) base URL, probed by the cron. Default none. */
  origin: z.url().optional(),
  /** ISO country codes this region serves first (request.cf.country). Default none. */
  countries: z.array(z.string().length(2)).default([]),
  /** Continent codes (request.cf.continent: AF AN AS EU NA OC SA) it serves. Default none. */
  continents: z.array(z.enum(['AF', 'AN', 'AS', 'EU', 'NA', 'OC', 'SA'])).default([]),
  /** Where it is, to order the fallback regions by distance. Default: config order. */
  location: z
    .object({ lat: z.number().min(-90).max(90), lon: z.number().min(-180).max(180) })
    .optional(),
});

export const routingSchema = z.object({
  /** Home region when neither country nor continent matches. Default: the first region. */
  defaultRegion: id.optional(),
  /** A zone every request is held to, whatever its key says (an EU-only deployment sets
   * `eu`). `none`: keys decide. Default none. */
  forceZone: z.string().min(1).default('none'),
  /** Request header a client may use to ask for a region; honoured only within its zone.
   * Default x-gateway-region. */
  regionHeader: z.string().min(1).default('x-gateway-region'),
  /** A request header holding the client's ISO country code, set by a front proxy you trust
   * (e.g. `cf-ipcountry` from a proxy in front of the Worker, or a laptop during development).
   * When set, a valid code in that header is used instead of `request.cf` to pick the home
   * region (continent and EU membership follow from the country); residency applies exactly
   * as with `request.cf`. Never set it where clients can reach the Worker directly: any
   * client could then choose its home region. Default none (only `request.cf` counts). */
  trustedCountryHeader: z.string().min(1).optional(),
  circuit: z
    .object({
      /** Failures within `windowMs` that open a target's circuit. Default 3. */
      failureThreshold: z.number().int().positive().default(3),
      /** Default 30 000 ms. */
      windowMs: z.number().int().positive().default(30_000),
      /** How long an open circuit keeps a target at the back of the line. Default 30 000 ms. */
      cooldownMs: z.number().int().positive().default(30_000),
    })
    .prefault({}),
  /** How long an isolate trusts the shared health state it read. Default 2 000 ms. */
  healthCacheMs: z.number().int().min(0).default(2_000),
  /** Timeout of one cron health probe. Default 5 000 ms. */
  probeTimeoutMs: z.number().int().positive().default(5_000),
});

export const priceSchema = z.object({
  /** USD per million prompt tokens. */
  inputPerMTok: z.number().min(0),
  /** USD per million completion tokens. Default 0 (embeddings). */
  outputPerMTok: z.number().min(0).default(0),
  /** USD per million prompt tokens served from the provider's prompt cache. Default: the
   * input price (no discount known). */
  cachedInputPerMTok: z.number().min(0).optional(),
  /** USD per million prompt tokens written to the provider's prompt cache (Anthropic and
   * Bedrock charge 1.25x the input price for a 5-minute write). Default: the input price
   * (no surcharge known). */
  cacheWriteInputPerMTok: z.number().min(0).optional(),
  /** USD per million prompt tokens written with a 1-hour cache lifetime (Anthropic: 2x the
   * input price). Default: `cacheWriteInputPerMTok`. */
  cacheWrite1hInputPerMTok: z.number().min(0).optional(),
});

export const redisSchema = z.object({
  /** Upstash REST URL (UPSTASH_REDIS_REST_URL). */
  url: z.url(),
  /** Upstash REST token (UPSTASH_REDIS_REST_TOKEN). */
  token: z.string().min(1),
  /** Per-command timeout on the request path (keys, limits, budget checks); past it the
   * command counts as failed. Settlement writes after the response get 10x this. A string
   * is accepted so it can come from a variable: "\${REDIS_TIMEOUT_MS:-500}". Default 500 ms. */
  timeoutMs: z.coerce.number().int().positive().default(500),
});

export const authSchema = z.object({
  /** Require a gateway API key on /v1. Default true. "true"/"false" strings are accepted so
   * it can come from a variable: "\${GATEWAY_AUTH_ENABLED:-true}". */
  enabled: z.union([z.boolean(), z.stringbool()]).default(true),
  /** How long an isolate trusts a key lookup (and a miss) before asking Redis again; also
   * the longest a revocation takes to reach every isolate. Default 10 000 ms. */
  keyCacheTtlMs: z.number().int().min(0).default(10_000),
});

export const limitsSchema = z.object({
  /** What to do when Redis is slow or down while checking limits and budgets: `open` lets
   * the request through (availability first), `closed` answers 503. Default open. */
  failMode: z.enum(['open', 'closed']).default('open'),
  /** Completion tokens reserved for a request that sets no max_tokens. Default 1 024. */
  defaultCompletionReserve: z.number().int().positive().default(1_024),
  /** Limits of a key that has none of its own (its `limits.*` null), so every answer carries
   * `x-ratelimit-*` as OpenAI's do. The bundled configs set 600 requests/min (10/s per key).
   * Default none: such keys are unlimited. */
  keyDefaults: z
    .object({
      requestsPerMinute: z.number().int().positive().nullable().default(null),
      tokensPerMinute: z.number().int().positive().nullable().default(null),
    })
    .prefault({}),
  /** With `failMode: open`, what each isolate lets through unchecked per key while Redis
   * cannot be asked (timeouts, refused connections); past it the key gets 503
   * `limits_unavailable` until the window ends. This bounds how far a budget can be
   * overshot during an outage. */
  failOpen: z
    .object({
      /** Unchecked requests per key per window. Default 10. */
      requests: z.number().int().min(0).default(10),
      /** Unchecked worst-case spend per key per window, in USD. Default 1. */
      usd: z.number().min(0).default(1),
      /** Default 60 000 ms. */
      windowMs: z.number().int().positive().default(60_000),
    })
    .prefault({}),
});

export const cacheSchema = z.object({
  /** Default true. */
  enabled: z.boolean().default(true),
  /** Default 3 600 s. */
  defaultTtlSeconds: z.number().int().positive().default(3_600),
  /** Upper bound for any TTL, including the `x-gateway-cache-ttl` header. Default 86 400 s. */
  maxTtlSeconds: z.number().int().positive().default(86_400),
  /** Larger responses are not cached. Default 1 MiB. */
  maxEntryBytes: z
    .number()
    .int()
    .positive()
    .default(1024 * 1024),
  /** Whose requests share entries: `tenant` (default), `key`, or `global` (everyone). */
  scope: z.enum(['tenant', 'key', 'global']).default('tenant'),
  /** Whether a hit counts against the key's tokens/min and spend. Default false: a hit
   * costs nothing upstream, so nothing is charged (requests/min still counts it). */
  chargeHits: z.boolean().default(false),
  /** Zones whose keys' entries may be written to the shared Redis tier. Default none: a
   * residency-restricted key's answers stay out of the global Redis (map a zone here only if
   * that Redis keeps its data in the zone). */
  redisZones: z.array(z.string().min(1)).default([]),
  /** Per public model: `enabled`, `ttlSeconds`, `scope`. Default none. */
  models: z
    .record(
      z.string().min(1),
      z.object({
        enabled: z.boolean().optional(),
        ttlSeconds: z.number().int().positive().optional(),
        scope: z.enum(['tenant', 'key', 'global']).optional(),
      }),
    )
    .default({}),
  /** How long an isolate trusts the purge generations it read. Default 5 000 ms. */
  generationCacheMs: z.number().int().min(0).default(5_000),
});

const corsOrigin = z
  .string()
  .regex(ORIGIN, 'an origin such as https://app.example.com (scheme, host, port; no path), or *');

export const corsSchema = z.object({
  /** Browser origins allowed for every key (CORS), e.g. `https://app.example.com`; `*` allows
   * any origin (echoed back, never with credentials). Tenants and keys add their own.
   * Default none: browsers on other origins cannot read answers. */
  origins: z.array(corsOrigin).default([]),
  /** How long a browser may cache a preflight answer. Default 600 s. */
  maxAgeSeconds: z.number().int().min(0).max(86_400).default(600),
});

export const responsesSchema = z.object({
  /** How long a stored response (`store`, the Responses API default) can be read back or
   * continued with `previous_response_id`. Default 2 592 000 s (30 days, as OpenAI keeps). */
  ttlSeconds: z.number().int().positive().default(2_592_000),
  /** Zones whose keys' responses may be stored in the shared Redis. Default none: a
   * residency-restricted key's responses are not stored (`store: false` in the answer),
   * unless that Redis keeps its data in the zone. */
  redisZones: z.array(z.string().min(1)).default([]),
});

/** Capture of a tenant's prompts and answers (src/capture) into the usage store's
 * `request_payloads` table, redacted of secrets in the isolate. */
export const payloadCaptureSchema = z.object({
  /** Keep the request's prompt (messages / prompt / input) and the answer's text for this
   * tenant's requests. Default false: no text leaves the request, in any event, log or table. */
  enabled: z.boolean().default(false),
  /** Days a captured payload is kept at most: its day partition is dropped at the start of
   * the UTC day `retentionDays` after the request's day. Keep it shorter than the raw events'
   * (USAGE_RAW_RETENTION_DAYS, 30). Default 7. */
  retentionDays: z.number().int().min(1).max(365).default(7),
  /** Bytes kept of each side (prompt, answer) as JSON text; past it the text is cut and ends
   * with a `…[truncated N bytes]` marker. At most 48 KiB, so an event with both sides stays
   * under Queues' 128 KB a message. Default 32 768 (32 KiB). */
  maxBytes: z
    .number()
    .int()
    .min(256)
    .max(48 * 1024)
    .default(32 * 1024),
});

export const eventsSchema = z.object({
  /** Send one usage event per /v1 request to the queue bound as USAGE_EVENTS (when one is
   * bound). "true"/"false" strings are accepted: "\${GATEWAY_EVENTS_ENABLED:-true}".
   * Default true. */
  enabled: z.union([z.boolean(), z.stringbool()]).default(true),
  /** Events per sendBatch call; Queues takes at most 100 (and 256 KB). Default 100. */
  batchSize: z.number().int().min(1).max(100).default(100),
  /** How long an event waits in the isolate for others to share its sendBatch. Default 25 ms. */
  flushMs: z.number().int().min(0).max(5_000).default(25),
  /** Tries of one sendBatch before its events are given up (counted, logged). Default 3. */
  sendAttempts: z.number().int().min(1).max(10).default(3),
  /** Wait before the second try of a sendBatch, doubled each time. Default 100 ms. */
  retryDelayMs: z.number().int().min(0).default(100),
  /** Queue producer bindings by residency zone, e.g. `{"eu": "USAGE_EVENTS_EU"}` (a queue
   * created in the EU jurisdiction): the events of a request held to that zone go there, not
   * to USAGE_EVENTS. A captured payload rides only in a queue of its request's zone (this
   * map's, or USAGE_EVENTS when `routing.forceZone` is that zone); otherwise it is left out,
   * counted and logged. Default none. */
  zoneQueues: z.record(z.string().min(1), z.string().min(1)).default({}),
});

/** What every guardrail check has. */
const checkCommon = {
  /** Names the check in decisions, logs and errors. Default: its `type`. */
  name: z
    .string()
    .regex(/^[\w.-]{1,64}$/, 'use letters, digits and . _ -')
    .optional(),
  /** Which side it looks at: the request before it leaves the edge, the answer, or both.
   * Default both. */
  on: z.enum(['request', 'response', 'both']).default('both'),
};
/** block: refuse (400 before the first byte, the format's error event after); mask: replace
 * each match with a typed placeholder such as `[EMAIL]`; flag: let it through, note it. */
const textAction = z.enum(['block', 'mask', 'flag']);
const verdictAction = z.enum(['block', 'flag']);
const regexSource = z
  .string()
  .min(1)
  .max(1_000)
  .refine((source) => {
    try {
      new RegExp(source, 'u');
      return true;
    } catch {
      return false;
    }
  }, 'not a valid regular expression');

export const guardrailCheckSchema = z.discriminatedUnion('type', [
  z.object({
    type: z.literal('pii'),
    action: textAction,
    /** Which kinds. Default all: email, phone, credit_card (Luhn), iban (mod 97), ip (v4
     * and v6), us_ssn, es_dni, it_fiscal_code, pl_pesel, fi_hetu (their check digits). */
    entities: z
      .array(z.enum(Object.keys(PII_DETECTORS) as [keyof typeof PII_DETECTORS]))
      .min(1)
      .optional(),
    ...checkCommon,
  }),
  z.object({
    type: z.literal('secrets'),
    action: textAction,
    /** Which kinds. Default all: anthropic_key, openai_key, google_api_key, aws_access_key,
     * aws_secret_key (next to its name), github_token, private_key, jwt. */
    kinds: z
      .array(z.enum(Object.keys(SECRET_DETECTORS) as [keyof typeof SECRET_DETECTORS]))
      .min(1)
      .optional(),
    ...checkCommon,
  }),
  z.object({
    type: z.literal('keywords'),
    action: textAction,
    /** Words or phrases, matched as whole words. */
    words: z.array(z.string().min(1).max(200)).min(1).max(1_000),
    /** Default false. */
    caseSensitive: z.boolean().default(false),
    /** What a masked match becomes. Default `[REDACTED]`. */
    placeholder: z.string().max(64).default('[REDACTED]'),
    ...checkCommon,
  }),
  z.object({
    type: z.literal('regex'),
    action: textAction,
    /** JavaScript regular expressions (compiled with the `u` flag, plus `flags`). */
    patterns: z.array(regexSource).min(1).max(100),
    /** Extra flags: `i`, `m`, `s`. Default none. */
    flags: z
      .string()
      .regex(/^[ims]*$/, 'only i, m and s')
      .default(''),
    /** The longest text a pattern matches. A stream holds back this many characters minus
     * one; a longer match split across chunks may be missed. Default 256. */
    maxMatchChars: z.number().int().min(1).max(16_384).default(256),
    /** What a masked match becomes. Default `[REDACTED]`. */
    placeholder: z.string().max(64).default('[REDACTED]'),
    ...checkCommon,
  }),
  z.object({
    type: z.literal('max_prompt_tokens'),
    action: verdictAction,
    /** The largest prompt, in the gateway's token estimate (src/usage: 4 characters a token). */
    maxTokens: z.number().int().positive(),
    ...checkCommon,
    on: z.literal('request').default('request'),
  }),
  z.object({
    /** The answer conforms to the JSON schema the request asked for (`response_format:
     * json_schema` on chat, `text.format` on Responses). JSON answers only. */
    type: z.literal('json_schema'),
    action: verdictAction,
    ...checkCommon,
    on: z.literal('response').default('response'),
  }),
  z.object({
    /** The operator's service: POST {direction, text, metadata} (JSON), answer
     * {"verdict":"pass"|"fail"}; fail applies `action`. JSON answers and requests (not
     * streams). */
    type: z.literal('webhook'),
    action: verdictAction,
    url: z.url(),
    /** Sent with each call (e.g. authorization). Never shown by the admin API. Default none. */
    headers: z.record(z.string(), z.string()).default({}),
    /** Default 2 000 ms. */
    timeoutMs: z.number().int().positive().max(30_000).default(2_000),
    /** When the service times out, fails or answers nonsense: open lets the text through
     * (noted `failed_open`), closed applies `action` (noted `failed_closed`). Default open. */
    failMode: z.enum(['open', 'closed']).default('open'),
    ...checkCommon,
  }),
]);

export const guardrailsSchema = z.object({
  /** Named policies, each a list of checks applied in order. Default none. */
  policies: z
    .record(id, z.object({ checks: z.array(guardrailCheckSchema).min(1).max(50) }))
    .default({}),
  /** The policies of a request whose key and tenant name none: a list, or a comma-separated
   * string (so a Worker variable can set it: `"${GATEWAY_GUARDRAIL_POLICIES:-}"`). Default
   * none. */
  defaultPolicies: z
    .union([
      z.array(id),
      z.string().transform((names) =>
        names
          .split(',')
          .map((n) => n.trim())
          .filter((n) => n !== ''),
      ),
    ])
    .default([]),
});

export const configSchema = z
  .object({
    providers: z.record(id, providerSchema),
    models: z.record(z.string().min(1), modelSchema),
    regions: z.record(id, regionSchema).default({}),
    routing: routingSchema.prefault({}),
    /** Per-tenant defaults. `residency`: the zone of every key of the tenant whose own
     * residency is `tenant` (the key default). Default none. */
    tenants: z
      .record(
        z.string().min(1),
        z.object({
          residency: z.string().min(1).default('none'),
          /** Browser origins allowed for this tenant's keys (CORS), e.g.
           * `https://app.acme.com`. Default none. */
          corsOrigins: z.array(corsOrigin).default([]),
          payloadCapture: payloadCaptureSchema.prefault({}),
          /** Put the request's messages and the answer's text on its attempt spans
           * (`gen_ai.input.messages`, `gen_ai.system_instructions`, `gen_ai.output.messages`),
           * redacted of secrets and cut to 8 KiB each, for the OTLP collector. Default false:
           * spans carry no content. */
          traceContent: z.boolean().default(false),
          /** Guardrail policies of this tenant's keys (a key's own list replaces it). Default:
           * `guardrails.defaultPolicies`. */
          guardrails: z.array(id).optional(),
        }),
      )
      .default({}),
    cors: corsSchema.prefault({}),
    /** Content checks on requests and answers (src/guardrails). */
    guardrails: guardrailsSchema.prefault({}),
    responses: responsesSchema.prefault({}),
    /** Shared state (keys, limits, spend). Required when auth is enabled. Default none. */
    redis: redisSchema.optional(),
    auth: authSchema.prefault({}),
    cache: cacheSchema.prefault({}),
    limits: limitsSchema.prefault({}),
    /** Usage events (src/events) to the queue the usage store's consumer reads. */
    events: eventsSchema.prefault({}),
    /** Prices by upstream model name, or `provider/model` for a provider-specific price.
     * A model with no price costs 0 (and the log line says `cost_unknown`). Default none. */
    prices: z.record(z.string().min(1), priceSchema).default({}),
    /** Admin API tokens by name (the name is the actor in the audit log). Default none:
     * the admin API answers 401 to everyone. */
    admin: z
      .object({
        tokens: z.record(id, z.string().min(16, 'use at least 16 characters')).default({}),
        /** Failed admin authentications allowed per client address (`cf-connecting-ip`) per
         * minute, counted in Redis across isolates; past it every admin request from that
         * address gets 429 with `retry-after`, right token or not. Default 10. */
        failedAuthPerMinute: z.number().int().positive().default(10),
        /** How long an operator console session (`POST /admin/session`, the `gw_console`
         * cookie) lasts, in seconds; at most 30 days. Default 28 800 (8 hours). */
        sessionTtlSeconds: z.number().int().positive().max(2_592_000).default(28_800),
        /** Admin tokens limited to one tenant, by name: they read only that tenant's rows of
         * the request log and usage (`/admin/requests`, `/admin/usage`) and nothing else of
         * the admin API. Default none. */
        tenantTokens: z
          .record(
            id,
            z.object({
              token: z.string().min(16, 'use at least 16 characters'),
              tenant: z.string().min(1),
            }),
          )
          .default({}),
      })
      .prefault({}),
    defaults: z
      .object({
        timeouts: timeoutsSchema.prefault({}),
        retry: retrySchema.prefault({}),
        /** Largest accepted request body. Default 10 MiB (room for base64 images). */
        maxBodyBytes: z
          .number()
          .int()
          .positive()
          .default(10 * 1024 * 1024),
      })
      .prefault({}),
  })
  .superRefine((config, ctx) => {
    for (const [name, provider] of Object.entries(config.providers)) {
      if (provider.region && !(provider.region in config.regions)) {
        ctx.addIssue({
          code: 'custom',
          path: ['providers', name, 'region'],
          message: `unknown region "${provider.region}" (known: ${Object.keys(config.regions).join(', ') || 'none'})`,
        });
      }
    }
    const policies = config.guardrails.policies;
    const named: [string[], (string | number)[]][] = [
      [config.guardrails.defaultPolicies, ['guardrails', 'defaultPolicies']],
      ...Object.entries(config.tenants).map(([t, tenant]): [string[], (string | number)[]] => [
        tenant.guardrails ?? [],
        ['tenants', t, 'guardrails'],
      ]),
    ];
    for (const [names, path] of named) {
      names.forEach((name, i) => {
        if (!Object.hasOwn(policies, name)) {
          ctx.addIssue({
            code: 'custom',
            path: [...path, i],
            message: `unknown guardrail policy "${name}" (known: ${Object.keys(policies).join(', ') || 'none'})`,
          });
        }
      });
    }
    const fallback = config.routing.defaultRegion;
    if (fallback && !(fallback in config.regions)) {
      ctx.addIssue({
        code: 'custom',
        path: ['routing', 'defaultRegion'],
        message: `unknown region "${fallback}"`,
      });
    }
    if (config.auth.enabled && !config.redis) {
      ctx.addIssue({
        code: 'custom',
        path: ['redis'],
        message: 'required when auth.enabled is true (keys, limits and spend live in Redis)',
      });
    }
    for (const [name, model] of Object.entries(config.models)) {
      model.targets.forEach((target, i) => {
        const provider = Object.hasOwn(config.providers, target.provider)
          ? config.providers[target.provider]
          : undefined;
        if (!provider) {
          ctx.addIssue({
            code: 'custom',
            path: ['models', name, 'targets', i, 'provider'],
            message: `unknown provider "${target.provider}" (known: ${Object.keys(config.providers).join(', ') || 'none'})`,
          });
        } else if (model.type === 'embedding' && !servesEndpoint(provider.kind, 'embeddings')) {
          ctx.addIssue({
            code: 'custom',
            path: ['models', name, 'targets', i, 'provider'],
            message: `"${target.provider}" (${provider.kind}) cannot serve embeddings`,
          });
        }
      });
    }
  });

export type GatewayConfig = z.output<typeof configSchema>;
export type ProviderConfig = z.output<typeof providerSchema>;
export type ModelConfig = z.output<typeof modelSchema>;
export type TargetConfig = z.output<typeof targetSchema>;
export type Timeouts = z.output<typeof timeoutsSchema>;
export type RetryPolicy = z.output<typeof retrySchema>;
export type Price = z.output<typeof priceSchema>;
export type RegionConfig = z.output<typeof regionSchema>;
export type CacheConfig = z.output<typeof cacheSchema>;
export type GuardrailsConfig = z.output<typeof guardrailsSchema>;
export type GuardrailCheck = z.output<typeof guardrailCheckSchema>;
export type EventsConfig = z.output<typeof eventsSchema>;
export type PayloadCaptureConfig = z.output<typeof payloadCaptureSchema>;
export type RoutingConfig = z.output<typeof routingSchema>;
