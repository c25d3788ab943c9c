/**
 * Graceful drain of the real entry point (`node origin/src/main.ts`) on SIGTERM: readiness
 * turns off, new requests get 503, in-flight streams finish, then the process exits 0; past
 * DRAIN_DEADLINE_MS what is left is cut.
 */
import type { ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import http from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { signRequest } from '../../src/signing/index.ts';
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

/**
 * One request on a connection of its own (no keep-alive). While draining, the origin closes
 * idle keep-alive connections every 25 ms; a request written onto a pooled one just as it
 * closes fails with "other side closed" (a race of HTTP keep-alive, not of the drain), so the
 * requests made during the drain do not reuse one.
 */
async function onFreshConnection(
  url: string,
  body?: string,
): Promise<{ status: number; retryAfter: string | undefined }> {
  const method = body === undefined ? 'GET' : 'POST';
  const headers: Record<string, string> =
    body === undefined
      ? {}
      : {
          'content-type': 'application/json',
          ...(await signRequest({ key: KEY, method, url, body })),
        };
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method, agent: false, headers }, (res) => {
      res.resume();
      res.on('end', () =>
        resolve({ status: res.statusCode!, retryAfter: res.headers['retry-after'] as string }),
      );
    });
    req.on('error', reject);
    req.end(body);
  });
}

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
    await waitFor(async () => (await onFreshConnection(`${url}/health/ready`)).status === 503);
    expect((await onFreshConnection(`${url}/health/live`)).status).toBe(200);
    const refused = await onFreshConnection(
      `${url}/v1/chat/completions`,
      JSON.stringify(chat('count slowly', { max_tokens: 2, stream: true })),
    );
    expect(refused.status).toBe(503);
    expect(refused.retryAfter).toBe('1');

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
