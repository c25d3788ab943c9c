/**
 * Scenarios on the provider fakes (tools/fakes/anthropic.ts, gemini.ts, bedrock.ts), started by
 * global-setup.ts; the same control API as the OpenAI fake (see helpers.ts `scenario`).
 */
import { env } from 'cloudflare:workers';
import type { RecordedRequest, Scenario } from './helpers.ts';

const bindings = env as unknown as Record<string, string>;
export const FAKES = {
  anthropic: bindings.FAKE_ANTHROPIC_URL!,
  gemini: bindings.FAKE_GEMINI_URL!,
  bedrock: bindings.FAKE_BEDROCK_URL!,
};

export async function fakeScenario(
  fake: keyof typeof FAKES,
  ...steps: Record<string, unknown>[]
): Promise<Scenario> {
  const url = FAKES[fake];
  const res = await fetch(`${url}/__scenarios`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ steps: steps.length > 0 ? steps : [{}] }),
  });
  if (!res.ok) throw new Error(`fake ${fake}: cannot create scenario (${res.status})`);
  const { id, baseUrl } = (await res.json()) as { id: string; baseUrl: string };
  const read = async (path: string) =>
    (
      (await (await fetch(`${url}/__scenarios/${id}${path}`)).json()) as {
        requests: RecordedRequest[];
      }
    ).requests;
  return {
    id,
    baseUrl,
    requests: () => read(''),
    waitFor: (n, timeoutMs = 3_000) => read(`/wait?requests=${n}&timeoutMs=${timeoutMs}`),
  };
}
