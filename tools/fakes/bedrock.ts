/**
 * A fake AWS Bedrock Runtime upstream (Converse / ConverseStream). TEST FIXTURE (not a model;
 * nothing here is part of the gateway). Wire shapes follow the AWS Bedrock API reference:
 * - `POST /model/{modelId}/converse`:
 *   https://docs.aws.amazon.com/bedrock/latest/APIReference/API_runtime_Converse.html (request
 *   `messages[]` {role, content: ContentBlock[]}, `system[]`, `inferenceConfig`, `toolConfig`;
 *   response `output.message.content[]` text / toolUse {toolUseId, name, input}, `stopReason`
 *   end_turn | tool_use | max_tokens | stop_sequence | guardrail_intervened | content_filtered,
 *   `usage` (API_runtime_TokenUsage: inputTokens, outputTokens, totalTokens,
 *   cacheReadInputTokens, cacheWriteInputTokens), `metrics.latencyMs`);
 * - `POST /model/{modelId}/converse-stream`:
 *   https://docs.aws.amazon.com/bedrock/latest/APIReference/API_runtime_ConverseStream.html and
 *   API_runtime_ConverseStreamOutput.html: `application/vnd.amazon.eventstream` messages
 *   (https://docs.aws.amazon.com/transcribe/latest/dg/event-stream.html) with headers
 *   `:event-type`, `:content-type: application/json`, `:message-type: event`, in the order
 *   messageStart, contentBlockStart (toolUse only), contentBlockDelta, contentBlockStop,
 *   messageStop, metadata (usage, last); exceptions as `:message-type: exception` +
 *   `:exception-type` (e.g. throttlingException). Payloads carry the `p` padding field real
 *   Bedrock adds. Encoded with `@smithy/eventstream-codec`, the AWS SDK's own codec;
 * - errors (Converse "Errors" section, CommonErrors.html): body `{"message": "..."}`, type in
 *   the `x-amzn-errortype` header (`Name:http://internal.amazon.com/coral/com.amazon.bedrock/`);
 * - auth: SigV4 (https://docs.aws.amazon.com/IAM/latest/UserGuide/create-signed-request.html).
 *   Every model request must carry `authorization: AWS4-HMAC-SHA256 Credential=<key id>/<date>/
 *   <region>/bedrock/aws4_request, SignedHeaders=..., Signature=...` and `x-amz-date`; an
 *   unknown key id gets 403 UnrecognizedClientException. The scenario server hands routes the
 *   parsed body and the path under the scenario only, so the full signature check is
 *   `verifySigV4` (an independent node:crypto implementation), exposed to tests as
 *   `POST /__verify-sigv4 {request: <recorded request>, secretAccessKey}`.
 * Token counts are deterministic (ceil(chars / 4)), not real.
 *
 * Scenarios: see ./scenario-server.ts. CLI: `node tools/fakes/bedrock.ts --port 8792`.
 */
import { createHash, createHmac } from 'node:crypto';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { EventStreamCodec } from '@smithy/eventstream-codec';
import { fromUtf8, toUtf8 } from '@smithy/util-utf8';
import {
  type BaseStep,
  type FakeServer,
  hex,
  INVALID_JSON,
  isObj,
  type RecordedRequest,
  type Reply,
  startScenarioServer,
  textTokens,
} from './scenario-server.ts';

export type { FakeServer, RecordedRequest } from './scenario-server.ts';

/** The access key id the fake accepts (the tests' config uses it with FAKE_BEDROCK_SECRET). */
export const FAKE_BEDROCK_ACCESS_KEY_ID = 'AKIAFAKEBEDROCK00001';
export const FAKE_BEDROCK_SECRET = 'fake-bedrock-secret-key-0123456789abcdef';

export interface BedrockStep extends BaseStep {
  content?: string; // reply text (default DEFAULT_REPLY)
  toolCall?: { name: string; input: Record<string, unknown> }; // reply with a toolUse block
  stopReason?: string; // default end_turn (tool_use with toolCall)
  cacheReadTokens?: number; // usage.cacheReadInputTokens
  cacheWriteTokens?: number; // usage.cacheWriteInputTokens
  errorType?: string; // x-amzn-errortype of a scripted `status` (default by status)
  streamExceptionAfter?: number; // stream: after this many events send an exception and end
  streamExceptionType?: string; // default modelStreamErrorException
}

export const DEFAULT_REPLY = 'Hello! This is the fake Bedrock upstream.';

const ERRORS: Record<number, [string, string]> = {
  400: ['ValidationException', 'Invalid request (scripted by the fake upstream).'],
  403: [
    'AccessDeniedException',
    'You do not have access to the model with the specified model ID.',
  ],
  404: ['ResourceNotFoundException', 'The requested resource could not be found.'],
  408: ['ModelTimeoutException', 'The request took too long to process.'],
  424: ['ModelErrorException', 'The model failed to process the request.'],
  429: ['ThrottlingException', 'Too many requests, please wait before trying again.'],
  500: ['InternalServerException', 'The server encountered an internal error.'],
  503: ['ServiceUnavailableException', 'The service is unavailable. Please try again later.'],
};

const NAMESPACE = 'http://internal.amazon.com/coral/com.amazon.bedrock/';

const error = (status: number, type: string, message: string): Reply => ({
  status,
  body: { message },
  headers: { 'x-amzn-errortype': `${type}:${NAMESPACE}`, 'x-amzn-requestid': hex(16) },
});

function scriptedError(step: BedrockStep): Reply {
  const status = step.status ?? 500;
  const [type, message] = ERRORS[status] ?? ['InternalServerException', `Scripted ${status}.`];
  const reply = error(status, step.errorType ?? type, message);
  return step.errorBody !== undefined && 'body' in reply
    ? { ...reply, body: step.errorBody }
    : reply;
}

const codec = new EventStreamCodec(toUtf8, fromUtf8);
const PADDING = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJ';
const str = (value: string) => ({ type: 'string' as const, value });

/** One event-stream message; `p` is the padding real Bedrock adds to hide payload sizes. */
export function eventFrame(eventType: string, payload: Record<string, unknown>): Uint8Array {
  return codec.encode({
    headers: {
      ':event-type': str(eventType),
      ':content-type': str('application/json'),
      ':message-type': str('event'),
    },
    body: fromUtf8(
      JSON.stringify({ ...payload, p: PADDING.slice(0, 1 + (eventType.length % 20)) }),
    ),
  });
}

export function exceptionFrame(exceptionType: string, message: string): Uint8Array {
  return codec.encode({
    headers: {
      ':exception-type': str(exceptionType),
      ':content-type': str('application/json'),
      ':message-type': str('exception'),
    },
    body: fromUtf8(JSON.stringify({ message })),
  });
}

const blockText = (blocks: unknown): string =>
  Array.isArray(blocks)
    ? blocks
        .map((b) =>
          !isObj(b)
            ? ''
            : typeof b.text === 'string'
              ? b.text
              : isObj(b.toolResult)
                ? blockText(b.toolResult.content)
                : '',
        )
        .join('')
    : '';

/** A Converse request check with the service's own messages; undefined when valid. */
function invalid(body: Record<string, unknown>): string | undefined {
  const messages = body.messages;
  if (!Array.isArray(messages) || messages.length === 0) {
    return 'A conversation must start with a user message. Try again with a conversation that starts with a user message.';
  }
  let role = '';
  let toolBlocks = false;
  for (const m of messages) {
    if (!isObj(m) || !Array.isArray(m.content) || m.content.length === 0) {
      return 'The content field in the Message object is empty or not an array.';
    }
    if (m.role !== 'user' && m.role !== 'assistant') return `Unknown role ${String(m.role)}.`;
    if (role === '' && m.role !== 'user') {
      return 'A conversation must start with a user message. Try again with a conversation that starts with a user message.';
    }
    if (m.role === role) {
      return 'A conversation must alternate between user and assistant roles. Make sure the conversation alternates between user and assistant roles and try again.';
    }
    role = m.role;
    for (const b of m.content as unknown[]) {
      if (!isObj(b)) return 'Malformed content block.';
      if (typeof b.text === 'string' && b.text.trim() === '') {
        return 'The text field in the ContentBlock object is blank. Add text to the text field, and try again.';
      }
      if (isObj(b.toolUse) || isObj(b.toolResult)) toolBlocks = true;
      if (isObj(b.image)) {
        const image = b.image;
        const bytes = isObj(image.source) ? image.source.bytes : undefined;
        if (!['png', 'jpeg', 'gif', 'webp'].includes(String(image.format))) {
          return 'Invalid image format.';
        }
        if (typeof bytes !== 'string' || !/^[A-Za-z0-9+/]+=*$/.test(bytes)) {
          return 'Invalid image bytes: expected base64.';
        }
      }
    }
  }
  if (toolBlocks && !isObj(body.toolConfig)) {
    return 'The toolConfig field must be defined when using toolUse and toolResult content blocks.';
  }
  return undefined;
}

/** The SigV4 header check every operation makes (full verification: `verifySigV4`). */
function unauthorized(headers: Record<string, unknown>): Reply | undefined {
  const auth = String(headers.authorization ?? '');
  const credential =
    /^AWS4-HMAC-SHA256 Credential=([^/]+)\/\d{8}\/[\w-]+\/bedrock\/aws4_request, ?SignedHeaders=[\w;-]+, ?Signature=[0-9a-f]{64}$/.exec(
      auth,
    );
  if (!credential || !headers['x-amz-date']) {
    return error(403, 'MissingAuthenticationTokenException', 'Missing Authentication Token');
  }
  if (credential[1] !== FAKE_BEDROCK_ACCESS_KEY_ID) {
    return error(
      403,
      'UnrecognizedClientException',
      'The security token included in the request is invalid.',
    );
  }
  return undefined;
}

/**
 * ListFoundationModels on the control plane (`GET /foundation-models`,
 * https://docs.aws.amazon.com/bedrock/latest/APIReference/API_ListFoundationModels.html):
 * `{modelSummaries: [...]}`; the gateway's cron probe calls it.
 */
function listFoundationModels(headers: Record<string, unknown>): Reply {
  const denied = unauthorized(headers);
  if (denied) return denied;
  return {
    status: 200,
    body: {
      modelSummaries: [
        {
          modelArn:
            'arn:aws:bedrock:us-east-1::foundation-model/anthropic.claude-3-5-haiku-20241022-v1:0',
          modelId: 'anthropic.claude-3-5-haiku-20241022-v1:0',
          modelName: 'Claude 3.5 Haiku',
          providerName: 'Anthropic',
          inputModalities: ['TEXT'],
          outputModalities: ['TEXT'],
          responseStreamingSupported: true,
          inferenceTypesSupported: ['INFERENCE_PROFILE'],
          modelLifecycle: { status: 'ACTIVE' },
        },
      ],
    },
    headers: { 'x-amzn-requestid': hex(16) },
  };
}

function converse(
  step: BedrockStep,
  stream: boolean,
  body: unknown,
  headers: Record<string, unknown>,
): Reply {
  const denied = unauthorized(headers);
  if (denied) return denied;
  if (body === INVALID_JSON || !isObj(body)) {
    return error(
      400,
      'ValidationException',
      'Malformed input request, please reformat your input and try again.',
    );
  }
  const problem = invalid(body);
  if (problem) return error(400, 'ValidationException', problem);

  const messages = body.messages as Record<string, unknown>[];
  const inputTokens =
    textTokens(blockText(body.system) + messages.map((m) => blockText(m.content)).join('')) +
    3 * messages.length;
  const text = step.toolCall ? '' : (step.content ?? DEFAULT_REPLY);
  const toolUse = step.toolCall
    ? { toolUseId: `tooluse_${hex(11)}`, name: step.toolCall.name, input: step.toolCall.input }
    : undefined;
  const outputTokens =
    textTokens(text) + (toolUse ? textTokens(JSON.stringify(toolUse.input)) + 5 : 0);
  const read = step.cacheReadTokens ?? 0;
  const write = step.cacheWriteTokens ?? 0;
  const usage = {
    inputTokens,
    outputTokens,
    totalTokens: inputTokens + outputTokens + read + write,
    ...(read || write ? { cacheReadInputTokens: read, cacheWriteInputTokens: write } : {}),
  };
  const stopReason = step.stopReason ?? (toolUse ? 'tool_use' : 'end_turn');
  const requestId = { 'x-amzn-requestid': hex(16) };

  if (!stream) {
    return {
      status: 200,
      body: {
        output: {
          message: { role: 'assistant', content: toolUse ? [{ toolUse }] : [{ text }] },
        },
        stopReason,
        usage,
        metrics: { latencyMs: 42 },
      },
      headers: requestId,
    };
  }
  const frames: Uint8Array[] = [eventFrame('messageStart', { role: 'assistant' })];
  if (toolUse) {
    frames.push(
      eventFrame('contentBlockStart', {
        contentBlockIndex: 0,
        start: { toolUse: { toolUseId: toolUse.toolUseId, name: toolUse.name } },
      }),
    );
    const json = JSON.stringify(toolUse.input);
    const size = Math.max(1, Math.ceil(json.length / 3));
    for (let i = 0; i < json.length; i += size) {
      frames.push(
        eventFrame('contentBlockDelta', {
          contentBlockIndex: 0,
          delta: { toolUse: { input: json.slice(i, i + size) } },
        }),
      );
    }
  } else {
    for (const piece of text.match(/\S+\s*|\s+/g) ?? []) {
      frames.push(
        eventFrame('contentBlockDelta', { contentBlockIndex: 0, delta: { text: piece } }),
      );
    }
  }
  frames.push(eventFrame('contentBlockStop', { contentBlockIndex: 0 }));
  frames.push(eventFrame('messageStop', { stopReason }));
  frames.push(eventFrame('metadata', { usage, metrics: { latencyMs: 42 } }));
  if (step.streamExceptionAfter !== undefined) {
    frames.splice(step.streamExceptionAfter);
    const type = step.streamExceptionType ?? 'modelStreamErrorException';
    frames.push(exceptionFrame(type, `Scripted ${type}.`));
  }
  return { frames, contentType: 'application/vnd.amazon.eventstream', headers: requestId };
}

const sha256 = (data: string) => createHash('sha256').update(data, 'utf8').digest('hex');
const hmac = (key: string | Buffer, data: string) =>
  createHmac('sha256', key).update(data, 'utf8').digest();
const rfc3986 = (s: string) =>
  encodeURIComponent(s).replace(
    /[!'()*]/g,
    (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`,
  );

/**
 * Full SigV4 check of a recorded request (node:crypto, independent of the signer the gateway
 * uses). The payload is the recorded JSON body re-serialized, which is byte-identical to what
 * the gateway sent (it sends JSON.stringify output). Non-S3 services encode each path
 * segment twice; the recorded path is already encoded once.
 */
export function verifySigV4(
  request: Pick<RecordedRequest, 'method' | 'path' | 'query' | 'headers' | 'body'>,
  secretAccessKey: string,
): { ok: boolean; reason?: string } {
  const auth =
    /^AWS4-HMAC-SHA256 Credential=([^/]+)\/(\d{8})\/([\w-]+)\/([\w-]+)\/aws4_request, ?SignedHeaders=([\w;-]+), ?Signature=([0-9a-f]{64})$/.exec(
      request.headers.authorization ?? '',
    );
  if (!auth) return { ok: false, reason: 'no SigV4 authorization header' };
  const [, , date, region, service, signedHeaders, signature] = auth;
  const amzDate = request.headers['x-amz-date'] ?? '';
  if (!amzDate.startsWith(date!)) return { ok: false, reason: 'x-amz-date does not match' };
  const names = signedHeaders!.split(';');
  if (!names.includes('host') || !names.includes('x-amz-date')) {
    return { ok: false, reason: 'host and x-amz-date must be signed' };
  }
  const canonicalHeaders = names
    .map(
      (n) =>
        `${n}:${String(request.headers[n] ?? '')
          .trim()
          .replace(/\s+/g, ' ')}\n`,
    )
    .join('');
  const path = request.path
    .replace(/\/+/g, '/')
    .split('/')
    .map((segment) => rfc3986(segment))
    .join('/');
  const query = Object.entries(request.query)
    .map(([k, v]) => [rfc3986(k), rfc3986(v)])
    .sort(([a], [b]) => (a! < b! ? -1 : a! > b! ? 1 : 0))
    .map(([k, v]) => `${k}=${v}`)
    .join('&');
  const payload = request.body === null ? '' : JSON.stringify(request.body);
  const canonical = [
    request.method,
    path,
    query,
    canonicalHeaders,
    signedHeaders,
    sha256(payload),
  ].join('\n');
  const scope = `${date}/${region}/${service}/aws4_request`;
  const toSign = ['AWS4-HMAC-SHA256', amzDate, scope, sha256(canonical)].join('\n');
  let key = hmac(`AWS4${secretAccessKey}`, date!);
  for (const part of [region!, service!, 'aws4_request']) key = hmac(key, part);
  const expected = createHmac('sha256', key).update(toSign, 'utf8').digest('hex');
  return expected === signature ? { ok: true } : { ok: false, reason: 'signature mismatch' };
}

export function startFakeBedrock(opts: { port?: number; host?: string } = {}): Promise<FakeServer> {
  return startScenarioServer<BedrockStep>({
    ...opts,
    scriptedError,
    route: ({ step, method, path, body, headers }) => {
      if (method === 'POST' && path === '/__verify-sigv4' && isObj(body)) {
        const request = body.request as Parameters<typeof verifySigV4>[0];
        return {
          status: 200,
          body: verifySigV4(request, String(body.secretAccessKey ?? FAKE_BEDROCK_SECRET)),
        };
      }
      if (method === 'GET' && path === '/foundation-models') return listFoundationModels(headers);
      const match = /^\/model\/([^/]+)\/(converse|converse-stream)$/.exec(path);
      if (method === 'POST' && match) {
        return converse(step, match[2] === 'converse-stream', body, headers);
      }
      return error(404, 'UnknownOperationException', `Not found: ${method} ${path}`);
    },
  });
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const { values } = parseArgs({
    options: { port: { type: 'string', default: '8792' }, host: { type: 'string' } },
  });
  const fake = await startFakeBedrock({ port: Number(values.port), host: values.host });
  console.log(`fake-bedrock listening on ${fake.url}`);
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => void fake.close().then(() => process.exit(0)));
  }
}
