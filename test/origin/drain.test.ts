/**
 * Graceful drain of the real entry point (`node origin/src/main.ts`) on SIGTERM: readiness
 * turns off, new requests get 503, in-flight streams finish, then the process exits 0; past
 * DRAIN_DEADLINE_MS what is left is cut.
 */
import type { ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { afterEach, describe, expect, it } from 'vitest';
import type { GpuSim } from '../../tools/gpu-sim/server.ts';
import {
  chat,
  KEY,
  LLAMA,
  signingFetch,
  startOriginProcess,
  startSims,
  waitFor,
} from './helpers.ts';

const sims: GpuSim[] = [];
const children: ChildProcess[] = [];
afterEach(async () => {
  for (const c of children.splice(0)) if (c.exitCode === null) c.kill('SIGKILL');
  await Promise.all(sims.splice(0).map((s) => s.close()));
});

async function startMain(simUrl: string, drainMs: number) {
  const proc = await startOriginProcess(
    { pools: { vllm: { kind: 'vllm', endpoints: [simUrl] } }, models: { [LLAMA]: 'vllm' } },
    { DRAIN_DEADLINE_MS: String(drainMs) },
  );
  children.push(proc.child);
  return proc;
}

const stream = (url: string, maxTokens: number) =>
  signingFetch(KEY)(`${url}/v1/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(chat('count slowly', { max_tokens: maxTokens, stream: true })),
  });

async function readAll(res: Response): Promise<{ text: string; broken: boolean }> {
  const reader = res.body!.getReader();
  const decoder = new TextDecoder();
  let text = '';
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) return { text, broken: false };
      text += decoder.decode(value, { stream: true });
    }
  } catch {
    return { text, broken: true };
  }
}

describe('drain on SIGTERM (child process)', () => {
  it('turns readiness off, refuses new work with 503 and lets streams in flight finish', async () => {
    const [sim] = await startSims(1, { decodeMsPerToken: 20 });
    sims.push(sim!);
    const { child, url } = await startMain(sim!.url, 10_000);
    expect((await fetch(`${url}/health/ready`)).status).toBe(200);

    const res = await stream(url, 40); // ~0.8 s of tokens
    expect(res.status).toBe(200);
    const body = readAll(res);
    const exited = once(child, 'exit');
    child.kill('SIGTERM');
    await waitFor(async () => (await fetch(`${url}/health/ready`)).status === 503);
    expect((await fetch(`${url}/health/live`)).status).toBe(200);
    const refused = await stream(url, 2);
    expect(refused.status).toBe(503);
    expect(refused.headers.get('retry-after')).toBe('1');

    const { text, broken } = await body;
    expect(broken).toBe(false);
    expect(text.trimEnd().endsWith('data: [DONE]')).toBe(true);
    expect(text.match(/"content":"[^"]+"/g)).toHaveLength(40);
    const [code] = await exited;
    expect(code).toBe(0);
    expect(sim!.state().finished).toBe(1);
  });

  it('cuts what is still streaming at DRAIN_DEADLINE_MS and exits', async () => {
    const [sim] = await startSims(1, { decodeMsPerToken: 20 });
    sims.push(sim!);
    const { child, url, output } = await startMain(sim!.url, 300);
    const res = await stream(url, 1_000); // ~20 s: far past the deadline
    const body = readAll(res);
    await new Promise((r) => setTimeout(r, 100));
    const exited = once(child, 'exit');
    child.kill('SIGTERM');
    const [code] = await exited;
    expect(code).toBe(0);
    // Exited with a ~20 s stream unfinished: the deadline cut it (no [DONE], cut: 1).
    expect(sim!.state().finished).toBe(0);
    const { text } = await body;
    expect(text).not.toContain('[DONE]');
    expect(output()).toMatch(/"event":"drain_finished","cut":1/);
    await waitFor(() => sim!.state().disconnects === 1);
  });
});
