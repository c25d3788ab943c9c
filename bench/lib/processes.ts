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
import { type CpuMs, groupCpuMs, threadCpuMs } from './cpu.ts';

export const ROOT = join(import.meta.dirname, '..', '..');
const WRANGLER = join(ROOT, 'node_modules', 'wrangler', 'bin', 'wrangler.js');

export type WranglerServer = ManagedServer;
export interface ManagedServer {
  name: string;
  url: string;
  stop(): Promise<void>;
  args: string[]; // the command line, keys and tokens masked
  cpuMs(): CpuMs | null; // CPU used so far by its processes
  pid: number | undefined; // the child's (its process group's)
}

const running = new Set<ChildProcess>();

export interface Backends {
  upstream: string; // the fake OpenAI upstream's origin
  redis: { url: string; token: string; backend: string }; // local Upstash REST
  /** CPU ms used so far by the Redis side: the REST bridge's thread and redis-server. */
  redisCpuMs(): number | null;
  stop(): Promise<void>;
}

/** The fake upstream and a local Upstash holding `apiKey`, each in a worker thread. */
export async function startBackends(apiKey: string): Promise<Backends> {
  const start = async <T>(role: 'upstream' | 'upstash') => {
    const file = join(import.meta.dirname, 'backends-thread.ts');
    const worker = new Worker(file, { workerData: { apiKey, role }, name: `bench-${role}` });
    const ready = once(worker, 'message') as Promise<[T]>;
    const failed = once(worker, 'error').then(([err]) => Promise.reject(err));
    const [message] = await Promise.race([ready, failed]);
    const stop = async () => {
      worker.postMessage('close');
      await Promise.race([once(worker, 'exit'), sleep(5_000).then(() => worker.terminate())]);
    };
    return { message, stop };
  };
  const [a, b] = await Promise.all([
    start<{ upstream: string }>('upstream'),
    start<{ redis: Backends['redis'] }>('upstash'),
  ]);
  return {
    upstream: a.message.upstream,
    redis: b.message.redis,
    redisCpuMs: () => threadCpuMs('bench-upstash', 'redis-server'),
    stop: async () => {
      await Promise.all([a.stop(), b.stop()]);
    },
  };
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
  const shown = args.map((a) => a.replace(/^(\w*(?:KEY|TOKEN)\w*):.*/, '$1:***'));
  return startManaged({
    name: opts.name,
    url: `http://127.0.0.1:${port}`,
    readyPath: opts.readyPath,
    spawn: () =>
      spawn(process.execPath, [WRANGLER, ...args], {
        cwd: ROOT,
        env,
        detached: true, // own process group: wrangler + workerd are stopped together
        stdio: ['ignore', 'pipe', 'pipe'],
      }),
    shown: ['wrangler', ...shown],
    kind: (cmd) =>
      !cmd.includes('workerd')
        ? 'wrangler'
        : cmd.includes(`entry=127.0.0.1:${port}`)
          ? 'devProxy'
          : 'worker',
  });
}

/**
 * A server child in its own process group (`spawn` must set `detached`), ready once
 * `GET url + readyPath` answers 200; `kind` names each process of the group for `cpuMs`.
 */
export async function startManaged(opts: {
  name: string;
  url: string;
  readyPath: string;
  spawn: () => ChildProcess;
  shown: string[];
  kind: (cmdline: string) => keyof CpuMs;
  readyTimeoutMs?: number; // default 60 s
}): Promise<ManagedServer> {
  const child = opts.spawn();
  running.add(child);
  const tail: string[] = []; // last lines of output, for error messages (also drains the pipes)
  const keep = (chunk: Buffer) => {
    tail.push(...chunk.toString().split('\n').filter(Boolean));
    tail.splice(0, Math.max(0, tail.length - 30));
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);

  const stop = () => stopChild(child);
  try {
    await waitReady(`${opts.url}${opts.readyPath}`, child, opts.readyTimeoutMs ?? 60_000);
  } catch (err) {
    await stop();
    throw new Error(`${opts.name}: ${(err as Error).message}\n${tail.join('\n')}`);
  }
  const cpuMs = () => (child.pid === undefined ? null : groupCpuMs(child.pid, opts.kind));
  return { name: opts.name, url: opts.url, args: opts.shown, stop, cpuMs, pid: child.pid };
}

async function waitReady(url: string, child: ChildProcess, timeoutMs: number): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (Date.now() < until) {
    if (child.exitCode !== null || child.signalCode !== null) throw new Error('the server exited');
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

/** Stops every server child still running. */
export async function stopAll(): Promise<void> {
  await Promise.all([...running].map(stopChild));
}

/** Last resort, for process 'exit' (no waiting possible): SIGKILL every child's group. */
export function killAllNow(): void {
  for (const child of running) if (child.pid !== undefined) killGroup(child.pid, 'SIGKILL');
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
