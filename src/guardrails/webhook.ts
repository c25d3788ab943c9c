/**
 * The webhook check: the operator's own service judges a text. POST JSON
 * `{direction, text, metadata}`, answer `{"verdict": "pass" | "fail"}` within `timeoutMs`.
 * A timeout, a connection failure, a non-2xx status or another answer is a failure, settled
 * by `failMode`: open lets the text through, closed counts it as a fail.
 */
import type { GuardrailCheck } from '../config/index.ts';

type WebhookCheck = Extract<GuardrailCheck, { type: 'webhook' }>;

export interface WebhookMetadata {
  request_id: string;
  key_id: string | null;
  tenant: string | null;
  model: string | null;
  endpoint: string;
  policy: string;
  check: string;
}

export type WebhookOutcome = 'pass' | 'fail' | 'failed_open' | 'failed_closed';

export async function callWebhook(
  check: WebhookCheck,
  direction: 'request' | 'response',
  text: string,
  metadata: WebhookMetadata,
): Promise<WebhookOutcome> {
  const failed: WebhookOutcome = check.failMode === 'open' ? 'failed_open' : 'failed_closed';
  try {
    const res = await fetch(check.url, {
      method: 'POST',
      headers: { ...check.headers, 'content-type': 'application/json' },
      body: JSON.stringify({ direction, text, metadata }),
      signal: AbortSignal.timeout(check.timeoutMs),
    });
    if (!res.ok) {
      await res.body?.cancel();
      return failed;
    }
    const answer = (await res.json()) as { verdict?: unknown };
    return answer?.verdict === 'pass' ? 'pass' : answer?.verdict === 'fail' ? 'fail' : failed;
  } catch {
    return failed;
  }
}
