/**
 * The servers: the backends (a worker thread) and `wrangler dev` children (the floor and the
 * gateway, started the same way). Every child runs in its own process group, so stopping it
 * also stops its workerd: `stopAll` at the end, on error and on Ctrl-C; `killAllNow` on exit.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { freePort } from '../../tools/dev/ports.ts';
import { type CpuMs, groupCpuMs } from './cpu.ts';

export const ROOT = join(import.meta.dirname, '..', '..');
const WRANGLER = join(ROOT, 'node_modules', 'wrangler', 'bin', 'wrangler.js');

export interface WranglerServer {
  name: string;
  url: string;
  stop(): Promise<void>;
  args: string[]; // the wrangler command line, keys and tokens masked
  cpuMs(): CpuMs | null; // CPU used so far by its processes
}

const running = new Set<ChildProcess>();

export interface Backends {
  upstream: string; // the fake OpenAI upstream's origin
  redis: { url: string; token: string; backend: string }; // local Upstash REST
  stop(): Promise<void>;
}

/** The fake upstream and a local Upstash holding `apiKey`, in a worker thread. */
export async function startBackends(apiKey: string): Promise<Backends> {
  const worker = new Worker(join(import.meta.dirname, 'backends-thread.ts'), {
    workerData: { apiKey },
  });
  const ready = once(worker, 'message') as Promise<[Omit<Backends, 'stop'>]>;
  const failed = once(worker, 'error').then(([err]) => Promise.reject(err));
  const [backends] = await Promise.race([ready, failed]);
  const stop = async () => {
    worker.postMessage('close');
    await Promise.race([once(worker, 'exit'), sleep(5_000).then(() => worker.terminate())]);
  };
  return { ...backends, stop };
}

/** `wrangler dev` on 127.0.0.1, ready once `GET readyPath` answers 200. */
export async function startWrangler(opts: {
  name: string;
  config?: string; // default: the root wrangler.toml
  vars: Record<string, string>;
  readyPath: string;
  persistTo?: string; // local state (Cache API, ...): default .wrangler/state, shared per config
}): Promise<WranglerServer> {
  const [port, inspectorPort] = [await freePort(), await freePort()];
  const args = ['dev', ...(opts.config ? ['-c', opts.config] : [])];
  args.push('--ip', '127.0.0.1', '--port', String(port), '--inspector-port', String(inspectorPort));
  args.push('--show-interactive-dev-session=false');
  if (opts.persistTo) args.push('--persist-to', opts.persistTo);
  for (const [key, value] of Object.entries(opts.vars)) args.push('--var', `${key}:${value}`);
  const env = {
    ...process.env,
    CLOUDFLARE_CF_FETCH_ENABLED: 'false',
    WRANGLER_SEND_METRICS: 'false',
    // dev-only extras that would do work on every request (a trace store in SQLite, the local
    // resource explorer); production Workers do neither in the request path
    X_LOCAL_OBSERVABILITY: 'false',
    X_LOCAL_EXPLORER: 'false',
  };
  const child = spawn(process.execPath, [WRANGLER, ...args], {
    cwd: ROOT,
    env,
    detached: true, // own process group: wrangler + workerd are stopped together
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  running.add(child);
  const tail: string[] = []; // last lines of output, for error messages (also drains the pipes)
  const keep = (chunk: Buffer) => {
    tail.push(...chunk.toString().split('\n').filter(Boolean));
    tail.splice(0, Math.max(0, tail.length - 30));
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);

  const url = `http://127.0.0.1:${port}`;
  const stop = () => stopChild(child);
  try {
    await waitReady(`${url}${opts.readyPath}`, child, 60_000);
  } catch (err) {
    await stop();
    throw new Error(`${opts.name}: ${(err as Error).message}\n${tail.join('\n')}`);
  }
  const cpuMs = () => (child.pid === undefined ? null : groupCpuMs(child.pid, port));
  const shown = args.map((a) => a.replace(/^(\w*(?:KEY|TOKEN)\w*):.*/, '$1:***'));
  return { name: opts.name, url, args: ['wrangler', ...shown], stop, cpuMs };
}

async function waitReady(url: string, child: ChildProcess, timeoutMs: number): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (Date.now() < until) {
    if (child.exitCode !== null || child.signalCode !== null) throw new Error('wrangler exited');
    // the key is for the floor: it forwards the request to the upstream, which wants one
    const init = {
      headers: { authorization: 'Bearer sk-bench' },
      signal: AbortSignal.timeout(2_000),
    };
    const status = await fetch(url, init).then(
      (res) => res.body?.cancel().then(() => res.status),
      () => 0,
    );
    if (status === 200) return;
    await sleep(250);
  }
  throw new Error(`not ready after ${timeoutMs} ms (${url})`);
}

/** Stops a child's whole process group: SIGTERM, then SIGKILL to whatever is left after 5 s. */
async function stopChild(child: ChildProcess): Promise<void> {
  const pid = child.pid;
  if (!running.delete(child) || pid === undefined) return;
  killGroup(pid, 'SIGTERM');
  for (let waited = 0; groupAlive(pid) && waited < 5_000; waited += 100) await sleep(100);
  if (groupAlive(pid)) killGroup(pid, 'SIGKILL');
  for (let waited = 0; groupAlive(pid) && waited < 2_000; waited += 100) await sleep(100);
  if (groupAlive(pid)) leftovers.add(pid);
}

function killGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch {
    // the group is already gone
  }
}

function groupAlive(pid: number): boolean {
  try {
    process.kill(-pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Process groups that outlived `stopAll` (should be none). */
export const leftovers = new Set<number>();

/** Stops every wrangler child still running. */
export async function stopAll(): Promise<void> {
  await Promise.all([...running].map(stopChild));
}

/** Last resort, for process 'exit' (no waiting possible): SIGKILL every child's group. */
export function killAllNow(): void {
  for (const child of running) if (child.pid !== undefined) killGroup(child.pid, 'SIGKILL');
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
