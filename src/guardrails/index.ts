/**
 * Guardrails at the edge: the policies that apply to a request (its key's, else its
 * tenant's, else the config's defaults), run on the request where its messages are final
 * (the start of `proxy()`: after parsing, translation and any template rendering, before
 * routing, the cache and dispatch) and on the answer before it reaches the client (JSON
 * answers whole, streams as they flow: ./stream.ts).
 * Contract: `RequestGuard.for(c)` is undefined when no policy applies; `checkRequest` masks
 * the request in place or throws 400 `guardrail_blocked`; `guardAnswer` returns the answer
 * the client gets. Every decision goes to the log line and the usage event (`guardrails`).
 */
import type { Context } from 'hono';
import type { AppEnv } from '../context.ts';
import { errors, type GatewayError } from '../errors.ts';
import { annotateRequestLog, holdRequestLog } from '../observability/index.ts';
import { isObj, type Json } from '../providers/json.ts';
import type { Answer } from '../proxy/answer.ts';
import type { NativeExchange } from '../proxy/native.ts';
import { type EventStage, openAIErrorEvent } from '../proxy/stream-relay.ts';
import { estimatePromptTokens } from '../usage/index.ts';
import { type CompiledCheck, compiledPolicies, policyNames } from './compile.ts';
import { mapText, textsOf } from './fields.ts';
import { conforms, requestedSchema } from './json-schema.ts';
import { type GuardrailDecision, type Stage, scanText, type Tally } from './scan.ts';
import { type AnswerFormat, guardStage, guardStream, type StreamGuardOptions } from './stream.ts';
import { callWebhook } from './webhook.ts';

export { type CompiledCheck, compiledPolicies, policyNames } from './compile.ts';
export type { GuardrailDecision } from './scan.ts';

type Side = 'request' | 'response';

/** The request as the proxy has it (src/proxy: ProxyRequest). */
export interface GuardedRequest {
  endpoint: string;
  body: Record<string, unknown>;
  native?: NativeExchange | undefined;
}

export class RequestGuard {
  private readonly tallies = new Map<string, Tally>();

  private readonly c: Context<AppEnv>;
  private readonly checks: readonly CompiledCheck[];

  private constructor(c: Context<AppEnv>, checks: readonly CompiledCheck[]) {
    this.c = c;
    this.checks = checks;
  }

  /** The guard of this request, or undefined when no policy applies. */
  static for(c: Context<AppEnv>): RequestGuard | undefined {
    const { config } = c.get('deps');
    const names = policyNames(config, c.get('apiKey'));
    if (names.length === 0) return undefined;
    const policies = compiledPolicies(config.guardrails);
    const checks = names.flatMap((name) => policies.get(name) ?? []);
    return checks.length > 0 ? new RequestGuard(c, checks) : undefined;
  }

  /** What was decided so far: the checks that found something or had to fail open/closed. */
  decisions(): GuardrailDecision[] {
    return [...this.tallies.values()].filter((t) => t.matches > 0 || t.outcome);
  }

  /** Runs the request-side checks in order: masks `request` in place, or throws. */
  async checkRequest(request: GuardedRequest): Promise<void> {
    try {
      for (const check of this.checks) {
        if (!check.request) continue;
        const { config } = check;
        if (check.detectors.length > 0) {
          // counted on what the client sent (the native body when there is one)
          const stages = this.stages(check, 'request');
          const blocked = this.maskIn(request.native ?? request, stages);
          if (request.native) {
            request.body = mapText(
              request.body,
              (t) => scanText(t, stages, { count: false }).text,
            ) as Json;
          }
          if (blocked) throw this.blockedError(blocked);
        } else if (config.type === 'max_prompt_tokens') {
          if (estimatePromptTokens(request.body) > config.maxTokens) this.hit(check, 'request');
        } else if (config.type === 'webhook') {
          const text = textsOf(request.native?.body ?? request.body).join('\n');
          await this.webhook(check, 'request', text);
        }
      }
    } finally {
      this.annotate();
    }
  }

  /** Whether any check looks at answers. */
  get guardsAnswers(): boolean {
    return this.checks.some((check) => check.response);
  }

  /**
   * The answer the client gets: a JSON answer masked (or refused: throws), a stream
   * rewritten as it flows. Other answers (embeddings' vectors) go as they are.
   */
  async guardAnswer(answer: Answer, request: GuardedRequest): Promise<Answer> {
    if (!this.guardsAnswers) return answer;
    const { body, headers } = answer;
    const format = answerFormat(request);
    if (typeof body !== 'string') return { body: this.guardStreamAnswer(body, request), headers };
    return { body: await this.checkAnswer(body, request, format), headers };
  }

  private async checkAnswer(text: string, request: GuardedRequest, format: AnswerFormat) {
    let answer: unknown;
    try {
      answer = JSON.parse(text);
    } catch {
      return text;
    }
    const original = answer;
    try {
      for (const check of this.checks) {
        if (!check.response) continue;
        const { config } = check;
        if (check.detectors.length > 0) {
          const stages = this.stages(check, 'response');
          const holder = { body: answer };
          const blocked = this.maskIn(holder, stages);
          if (blocked) throw this.blockedError(blocked);
          answer = holder.body;
        } else if (config.type === 'json_schema') {
          const schema = requestedSchema(request.native?.body ?? request.body);
          if (schema && !conforms(schema, outputText(answer, format))) this.hit(check, 'response');
        } else if (config.type === 'webhook') {
          await this.webhook(check, 'response', textsOf(answer).join('\n'));
        }
      }
    } finally {
      this.annotate();
    }
    return answer === original ? text : JSON.stringify(answer);
  }

  /**
   * The guard of a streamed answer as the relay's event stage (src/proxy/stream-relay.ts),
   * for a stream the relay writes in the client's format: made when the answer stage calls
   * for it, and then `guardAnswer` leaves that stream alone. Undefined when no check scans
   * streamed answers.
   */
  streamStage(request: GuardedRequest): (() => EventStage) | undefined {
    if (!this.guardsAnswers) return undefined;
    const stages = this.streamStages();
    if (stages.length === 0) return undefined;
    return () => {
      this.staged = true;
      return guardStage(this.streamOptions(request, stages));
    };
  }

  /** Whether the relay took the stream stage (the stream is guarded as it is written). */
  private staged = false;

  private guardStreamAnswer(
    body: ReadableStream<Uint8Array>,
    request: GuardedRequest,
  ): ReadableStream<Uint8Array> {
    if (this.staged) return body;
    const stages = this.streamStages();
    if (stages.length === 0) return body;
    return guardStream(body, this.streamOptions(request, stages));
  }

  private streamStages(): Stage[] {
    return this.checks
      .filter((check) => check.response && check.detectors.length > 0)
      .flatMap((check) => this.stages(check, 'response'));
  }

  /** The stream guard's options; the request's log line waits for its end. */
  private streamOptions(request: GuardedRequest, stages: Stage[]): StreamGuardOptions {
    const release = holdRequestLog(this.c);
    return {
      format: answerFormat(request),
      stages,
      errorEvent: request.native?.errorEvent ?? openAIErrorEvent,
      blockedError: (tally) => this.blockedError(tally).toBody().error,
      onEnd: (blocked) => {
        release({
          ...(this.decisions().length > 0 ? { guardrails: this.decisions() } : {}),
          ...(blocked ? { stream_end: 'guardrail_blocked', error_code: 'guardrail_blocked' } : {}),
        });
      },
    };
  }

  /** Masks the text of `holder.body` with `stages`; the first block finding, if any. */
  private maskIn(holder: { body: unknown }, stages: Stage[]): Tally | undefined {
    let blocked: Tally | undefined;
    holder.body = mapText(holder.body, (text) => {
      const out = scanText(text, stages);
      blocked ??= out.blocked;
      return out.text;
    });
    return blocked;
  }

  private tally(check: CompiledCheck, on: Side): Tally {
    const id = `${check.policy}\u0000${check.name}\u0000${on}`;
    let tally = this.tallies.get(id);
    if (!tally) {
      tally = { policy: check.policy, check: check.name, action: check.action, on, matches: 0 };
      this.tallies.set(id, tally);
    }
    return tally;
  }

  private stages(check: CompiledCheck, on: Side): Stage[] {
    const tally = this.tally(check, on);
    return check.detectors.map((detector) => ({ detector, action: check.action, tally }));
  }

  /** A verdict check found its case: counted, and thrown when it blocks. */
  private hit(check: CompiledCheck, on: Side): void {
    const tally = this.tally(check, on);
    tally.matches++;
    if (check.action === 'block') throw this.blockedError(tally);
  }

  private async webhook(check: CompiledCheck, on: Side, text: string): Promise<void> {
    if (check.config.type !== 'webhook') return;
    const { c } = this;
    const outcome = await callWebhook(check.config, on, text, {
      request_id: c.get('requestId'),
      key_id: c.get('apiKey')?.id ?? null,
      tenant: c.get('apiKey')?.tenant ?? null,
      model: c.get('logRecord').model ?? null,
      endpoint: c.req.path,
      policy: check.policy,
      check: check.name,
    });
    if (outcome === 'pass') return;
    if (outcome !== 'fail') this.tally(check, on).outcome = outcome;
    if (outcome === 'failed_open') return;
    this.hit(check, on);
  }

  private blockedError(tally: Tally): GatewayError {
    return errors.guardrailBlocked(tally.on, tally.policy, tally.check);
  }

  private annotate(): void {
    const decisions = this.decisions();
    if (decisions.length > 0) annotateRequestLog(this.c, { guardrails: decisions });
  }
}

function answerFormat(request: GuardedRequest): AnswerFormat {
  return request.native?.format ?? 'openai';
}

/** The answer's generated text, where a JSON schema applies to it. */
function outputText(answer: unknown, format: AnswerFormat): string {
  if (!isObj(answer)) return '';
  if (format === 'openai') {
    const choice = Array.isArray(answer.choices) ? answer.choices[0] : undefined;
    const content = isObj(choice) && isObj(choice.message) ? choice.message.content : undefined;
    return typeof content === 'string' ? content : '';
  }
  const blocks =
    format === 'anthropic' ? [answer] : Array.isArray(answer.output) ? answer.output : [];
  return blocks
    .flatMap((b) => (isObj(b) && Array.isArray(b.content) ? b.content : []))
    .map((part) => (isObj(part) && typeof part.text === 'string' ? part.text : ''))
    .join('');
}
