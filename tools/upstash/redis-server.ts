/**
 * Spawns a throwaway `redis-server` on a free loopback port: no RDB snapshots, no AOF, so
 * nothing is written to disk and every start begins empty.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { connect, createServer } from 'node:net';
import { delimiter, isAbsolute, join } from 'node:path';

export interface StartRedisServerOptions {
  /** Port to listen on. Default: a free port picked by the OS. */
  port?: number;
  /** redis-server binary, a name looked up on PATH or a path. Default: 'redis-server'. */
  bin?: string;
  /** How long to wait for the server to answer PING, in ms. Default: 10_000. */
  startTimeoutMs?: number;
  /** Extra command-line arguments, appended after the defaults. Default: none. */
  extraArgs?: string[];
}

export interface RedisServerHandle {
  port: number;
  /** redis://127.0.0.1:<port> */
  url: string;
  /** Kills the server and waits until it has exited. Safe to call twice. */
  stop(): Promise<void>;
}

const HOST = '127.0.0.1';
const running = new Set<ChildProcess>();
let exitHookInstalled = false;

/** Is `bin` an executable path, or an executable name found on PATH? */
export function hasRedisServer(bin = 'redis-server'): boolean {
  const candidates =
    isAbsolute(bin) || bin.includes('/')
      ? [bin]
      : (process.env.PATH ?? '')
          .split(delimiter)
          .filter(Boolean)
          .map((dir) => join(dir, bin));
  return candidates.some((file) => {
    try {
      accessSync(file, constants.X_OK);
      return true;
    } catch {
      return false;
    }
  });
}

export async function startRedisServer(
  opts: StartRedisServerOptions = {},
): Promise<RedisServerHandle> {
  const bin = opts.bin ?? 'redis-server';
  const timeoutMs = opts.startTimeoutMs ?? 10_000;
  // A port picked by probing can be taken by someone else before redis binds it: retry then.
  const attempts = opts.port === undefined ? 3 : 1;
  let lastError: unknown;
  for (let i = 0; i < attempts; i++) {
    const port = opts.port ?? (await freePort());
    try {
      return await launch(bin, port, timeoutMs, opts.extraArgs ?? []);
    } catch (err) {
      lastError = err;
    }
  }
  throw lastError;
}

async function launch(
  bin: string,
  port: number,
  timeoutMs: number,
  extraArgs: string[],
): Promise<RedisServerHandle> {
  const settings: Array<[string, string]> = [
    ['port', String(port)],
    ['bind', HOST],
    ['save', ''],
    ['appendonly', 'no'],
    ['daemonize', 'no'],
    ['loglevel', 'warning'],
  ];
  const args = [...settings.flatMap(([name, value]) => [`--${name}`, value]), ...extraArgs];
  const child = spawn(bin, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  trackChild(child);
  let output = '';
  const collect = (chunk: Buffer) => {
    output = (output + chunk.toString('utf8')).slice(-4000);
  };
  child.stdout?.on('data', collect);
  child.stderr?.on('data', collect);
  const exited = new Promise<void>((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) resolve();
    else child.once('exit', () => resolve());
  });
  let spawnError: Error | undefined;
  child.once('error', (err) => {
    spawnError = err;
  });

  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(timer);
    }
    running.delete(child);
  };

  const deadline = Date.now() + timeoutMs;
  while (true) {
    if (spawnError) throw new Error(`redis-server: cannot start ${bin}: ${spawnError.message}`);
    if (child.exitCode !== null || child.signalCode !== null) {
      running.delete(child);
      throw new Error(`redis-server exited during startup (code ${child.exitCode}):\n${output}`);
    }
    if (await answersPing(port)) break;
    if (Date.now() > deadline) {
      await stop();
      throw new Error(
        `redis-server did not answer PING on port ${port} within ${timeoutMs} ms:\n${output}`,
      );
    }
    await new Promise((r) => setTimeout(r, 25));
  }
  return { port, url: `redis://${HOST}:${port}`, stop };
}

/** A readiness probe only: one inline PING, expecting the +PONG status line. */
function answersPing(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: HOST, port });
    let reply = '';
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(500, () => done(false));
    socket.once('error', () => done(false));
    socket.once('connect', () => socket.write('PING\r\n'));
    socket.on('data', (chunk) => {
      reply += chunk.toString('latin1');
      if (reply.includes('\r\n')) done(reply.startsWith('+PONG'));
    });
  });
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, HOST, () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

/** So a crashed or interrupted test run does not leave servers behind. */
function trackChild(child: ChildProcess): void {
  running.add(child);
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.once('exit', () => {
    for (const c of running) c.kill('SIGKILL');
  });
}
