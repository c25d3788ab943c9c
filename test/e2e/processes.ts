/** Real processes for end-to-end tests: free ports, `wrangler dev` / `tools/dev.ts`, readiness. */
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '../../tools/dev/ports.ts';

const ROOT = join(import.meta.dirname, '..', '..');

export { freePort };

export interface Running {
  url: string;
  output(): string;
  stop(): Promise<void>;
}

/**
 * Starts a command in its own process group (wrangler starts workerd children: stopping the
 * group stops them all) and waits until `readyPath` answers 200.
 */
export async function startProcess(
  args: string[],
  opts: { port: number; env?: Record<string, string>; readyPath?: string; timeoutMs?: number },
): Promise<Running> {
  let output = '';
  const child: ChildProcess = spawn(args[0]!, args.slice(1), {
    detached: true,
    env: {
      ...process.env,
      CLOUDFLARE_CF_FETCH_ENABLED: 'false',
      WRANGLER_SEND_METRICS: 'false',
      ...opts.env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout?.on('data', (d) => {
    output += d;
  });
  child.stderr?.on('data', (d) => {
    output += d;
  });
  const url = `http://127.0.0.1:${opts.port}`;
  const stop = async () => {
    if (!child.pid || child.exitCode !== null) return;
    const exited = new Promise((r) => child.once('exit', r));
    try {
      process.kill(-child.pid, 'SIGTERM');
    } catch {}
    await Promise.race([exited, new Promise((r) => setTimeout(r, 3_000))]);
    try {
      process.kill(-child.pid, 'SIGKILL');
    } catch {}
  };
  const until = Date.now() + (opts.timeoutMs ?? 90_000);
  while (Date.now() < until) {
    try {
      if ((await fetch(`${url}${opts.readyPath ?? '/health/ready'}`)).ok) {
        return { url, output: () => output, stop };
      }
    } catch {}
    if (child.exitCode !== null) break;
    await new Promise((r) => setTimeout(r, 250));
  }
  await stop();
  throw new Error(`${args.join(' ')} did not become ready:\n${output.slice(-3000)}`);
}

/**
 * The command line of `wrangler dev` (this Node) over `configs` (-c each) on `port`, with its
 * own inspector port and state directory (to run beside another), `vars` as --var, and
 * `extra` flags.
 */
export async function wranglerDevArgs(
  port: number,
  opts: { configs: string[]; vars?: Record<string, string>; extra?: string[] },
): Promise<string[]> {
  const args = [process.execPath, 'node_modules/wrangler/bin/wrangler.js', 'dev'];
  for (const config of opts.configs) args.push('-c', config);
  args.push(
    ...(opts.extra ?? []),
    '--ip',
    '127.0.0.1',
    '--port',
    String(port),
    '--inspector-port',
    String(await freePort()),
    '--persist-to',
    `.wrangler/state-e2e-${port}`,
    '--show-interactive-dev-session=false',
  );
  for (const [name, value] of Object.entries(opts.vars ?? {}))
    args.push('--var', `${name}:${value}`);
  return args;
}

/** `wrangler dev` of the root wrangler.toml (or `opts.config`) on `port`, with `vars` as
 * --var. */
export async function startWranglerDev(
  port: number,
  vars: Record<string, string>,
  opts: { config?: string; readyPath?: string } = {},
): Promise<Running> {
  // Each instance needs its own inspector port and state directory to run beside another.
  const args = [
    'node_modules/.bin/wrangler',
    'dev',
    ...(opts.config ? ['-c', opts.config] : []),
    '--ip',
    '127.0.0.1',
    '--port',
    String(port),
    '--show-interactive-dev-session=false',
    '--inspector-port',
    String(await freePort()),
    '--persist-to',
    `.wrangler/state-e2e-${port}`,
  ];
  for (const [name, value] of Object.entries(vars)) args.push('--var', `${name}:${value}`);
  return startProcess(args, { port, ...(opts.readyPath ? { readyPath: opts.readyPath } : {}) });
}

/** What `npm run dev` writes to its state file (`DEV_STACK_FILE`): what runs where. */
export interface StackState {
  edge: { url: string; pid: number };
  usageDb: { url: string; backend: string };
  keys: { label: string; key: string }[];
  fakes: { provider: string; url: string | null }[];
  origins: { region: string; name: string; url: string; pid: number }[];
  sims: { name: string; region: string; kind: string; url: string; pid: number }[];
  pids: number[];
}

export interface DevStack {
  state: StackState;
  /** Everything it printed so far (the last 200 KB). */
  output(): string;
  /** Its stdin (`status`, `stop NAME`, `start NAME`). */
  command(line: string): void;
  child: ChildProcess;
  /** SIGKILL to it and every process it started; removes the state file's folder. */
  kill(): void;
}

/**
 * `npm run dev` as a terminal runs it (its own process group), on a free port, with the
 * real services' keys blanked so every provider is its local fake; resolves once it has
 * written its state file (everything is up).
 */
export async function startDevStack(env: Record<string, string> = {}): Promise<DevStack> {
  const dir = mkdtempSync(join(tmpdir(), 'local-stack-'));
  const stateFile = join(dir, 'stack.json');
  let output = '';
  const child = spawn('npm', ['run', 'dev'], {
    cwd: ROOT,
    detached: true,
    env: {
      ...process.env,
      PORT: String(await freePort()),
      DEV_STACK_FILE: stateFile,
      // The real services' keys must not leak in from the environment running the tests.
      OPENAI_API_KEY: '',
      ANTHROPIC_API_KEY: '',
      GEMINI_API_KEY: '',
      AWS_ACCESS_KEY_ID: '',
      AZURE_OPENAI_EU_API_KEY: '',
      UPSTASH_REDIS_REST_URL: '',
      ...env,
    },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  const keep = (d: Buffer) => {
    output = (output + d).slice(-200_000);
  };
  child.stdout!.on('data', keep);
  child.stderr!.on('data', keep);
  let state: StackState | undefined;
  const kill = () => {
    if (child.pid && child.exitCode === null) {
      try {
        process.kill(-child.pid, 'SIGKILL');
      } catch {}
    }
    for (const pid of state?.pids ?? []) {
      try {
        process.kill(-pid, 'SIGKILL');
      } catch {}
    }
    rmSync(dir, { recursive: true, force: true });
  };
  const until = Date.now() + 150_000;
  while (!existsSync(stateFile) && child.exitCode === null && Date.now() < until) {
    await new Promise((r) => setTimeout(r, 250));
  }
  if (!existsSync(stateFile)) {
    kill();
    throw new Error(`npm run dev did not start:\n${output}`);
  }
  state = JSON.parse(readFileSync(stateFile, 'utf8')) as StackState;
  return {
    state,
    output: () => output,
    command: (line) => child.stdin!.write(`${line}\n`),
    child,
    kill,
  };
}
