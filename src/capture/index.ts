/**
 * Payload capture: for a tenant whose config turns `payloadCapture` on, the request's prompt
 * and the answer's text ride in its usage event (src/events) into the usage store's
 * `request_payloads` table, with their own retention. Contract: nothing is noted for any
 * other tenant; `takePayload` redacts secrets and cuts each side to `maxBytes` in the isolate,
 * before the payload leaves it; the events module sends a payload only through a queue of the
 * request's residency zone. The text never goes into the request's log line.
 */
import type { Context } from 'hono';
import type { PayloadCaptureConfig } from '../config/index.ts';
import type { AppEnv, GatewayDeps } from '../context.ts';
import { buildPayload, promptText, type RequestPayload } from './payload.ts';

export {
  answerText,
  buildPayload,
  type CaptureSettings,
  expiresOn,
  jsonBytes,
  keepText,
  promptText,
  type RequestPayload,
} from './payload.ts';

/** What a capturing request has noted so far (raw: redacted and cut by `takePayload`). */
export interface PendingCapture {
  settings: PayloadCaptureConfig;
  body: Record<string, unknown>;
  answer: string | null;
}

function settingsOf(c: Context<AppEnv>): PayloadCaptureConfig | undefined {
  const tenant = c.get('apiKey')?.tenant;
  const { tenants } = c.get('deps').config;
  if (tenant === undefined || !Object.hasOwn(tenants, tenant)) return undefined;
  const settings = tenants[tenant]!.payloadCapture;
  return settings.enabled ? settings : undefined;
}

/** Notes the request (its prompt) when the caller's tenant captures payloads. */
export function capturePrompt(c: Context<AppEnv>, body: Record<string, unknown>): void {
  const settings = settingsOf(c);
  if (settings) c.set('capture', { settings, body, answer: null });
}

/** Notes the answer's text, if this request is being captured. */
export function captureAnswer(c: Context<AppEnv>, text: string | null): void {
  const pending = c.get('capture');
  if (pending) pending.answer = text;
}

/** The request's payload, redacted and cut, or undefined when it is not captured. */
export function takePayload(c: Context<AppEnv>): RequestPayload | undefined {
  const pending = c.get('capture');
  if (!pending) return undefined;
  return buildPayload(
    { prompt: promptText(pending.body), answer: pending.answer },
    c.get('startedAt'),
    pending.settings,
    secretsOf(c.get('deps')),
  );
}

/** Every secret the gateway holds (upstream keys, admin tokens): redacted from kept text. */
export function secretsOf(deps: Pick<GatewayDeps, 'providers' | 'config'>): string[] {
  return [
    ...[...deps.providers.values()].flatMap((p) => p.secrets),
    ...Object.values(deps.config.admin.tokens),
    ...Object.values(deps.config.admin.tenantTokens).map((t) => t.token),
  ];
}
