/**
 * The local run's child processes by name: each in its own process group (wrangler's workerd
 * goes with it), output kept (and, unless quiet, echoed with a `[name]` prefix), stopped with
 * SIGTERM then SIGKILL, startable again by name. An unexpected exit is reported once, with how
 * to bring the child back.
 */
import { type ChildProcess, spawn } from 'node:child_process';

export interface ChildSpec {
  name: string;
  command: readonly string[];
  env?: Record<string, string>;
  /** Resolves true once the child serves. */
  ready: () => Promise<boolean>;
  /** Echo nothing but the last lines on an unexpected exit. Default false. */
  quiet?: boolean;
  /** Let the child write to this terminal as it is (wrangler). Default false. */
  inherit?: boolean;
}

const READY_TIMEOUT_MS = 60_000;
const STOP_GRACE_MS = 5_000;
const KEPT_LINES = 40;

interface Running {
  spec: ChildSpec;
  child: ChildProcess;
  tail: string[];
  stopping: boolean;
  exited: Promise<void>;
}

export class Children {
  readonly #running = new Map<string, Running>();
  readonly #specs = new Map<string, ChildSpec>();
  readonly #say: (line: string) => void;
  #closing = false;

  constructor(say: (line: string) => void) {
    this.#say = say;
  }

  names(): string[] {
    return [...this.#specs.keys()];
  }

  pid(name: string): number | undefined {
    return this.#running.get(name)?.child.pid;
  }

  isRunning(name: string): boolean {
    return this.#running.has(name);
  }

  /** Starts `spec` (or the known child `name`) and waits until it is ready. */
  async start(spec: ChildSpec | string): Promise<void> {
    const s = typeof spec === 'string' ? this.#specs.get(spec) : spec;
    if (!s) throw new Error(`no child named "${spec}" (known: ${this.names().join(', ')})`);
    if (this.#running.has(s.name)) return;
    this.#specs.set(s.name, s);
    const [cmd, ...args] = s.command;
    const child = spawn(cmd!, args, {
      detached: true,
      env: { ...process.env, ...s.env },
      stdio: s.inherit ? ['ignore', 'inherit', 'inherit'] : ['ignore', 'pipe', 'pipe'],
    });
    const run: Running = {
      spec: s,
      child,
      tail: [],
      stopping: false,
      exited: new Promise((resolve) => child.once('exit', () => resolve())),
    };
    this.#running.set(s.name, run);
    const onData = (data: Buffer) => {
      for (const line of String(data).split('\n')) {
        if (line === '') continue;
        run.tail.push(line);
        if (run.tail.length > KEPT_LINES) run.tail.shift();
        if (!s.quiet) this.#say(`[${s.name}] ${line}`);
      }
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    child.once('exit', (code, signal) => {
      this.#running.delete(s.name);
      if (run.stopping || this.#closing) return;
      if (s.quiet) for (const line of run.tail.slice(-10)) this.#say(`[${s.name}] ${line}`);
      this.#say(
        `dev: ${s.name} exited (${signal ?? `code ${code}`}); type "start ${s.name}" to bring it back`,
      );
    });
    const until = Date.now() + READY_TIMEOUT_MS;
    while (Date.now() < until) {
      if (!this.#running.has(s.name)) break;
      if (await s.ready().catch(() => false)) return;
      await new Promise((r) => setTimeout(r, 100));
    }
    await this.stop(s.name);
    throw new Error(`${s.name} did not start:\n${run.tail.join('\n')}`);
  }

  async stop(name: string): Promise<void> {
    const run = this.#running.get(name);
    if (!run?.child.pid) return;
    run.stopping = true;
    signalGroup(run.child.pid, 'SIGTERM');
    const timer = setTimeout(() => signalGroup(run.child.pid!, 'SIGKILL'), STOP_GRACE_MS);
    await run.exited;
    clearTimeout(timer);
    // The group may outlive its leader (wrangler's workerd): make sure nothing stays.
    signalGroup(run.child.pid, 'SIGKILL');
  }

  /** Stops every child, in the reverse order of their start. */
  async stopAll(): Promise<void> {
    this.#closing = true;
    await Promise.all([...this.#running.keys()].reverse().map((name) => this.stop(name)));
  }
}

function signalGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch {
    // Already gone.
  }
}

/** Resolves true when `url` answers 2xx. */
export async function answers(url: string): Promise<boolean> {
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(2_000) });
    await res.body?.cancel();
    return res.ok;
  } catch {
    return false;
  }
}
