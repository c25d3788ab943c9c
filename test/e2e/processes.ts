/** Real processes for end-to-end tests: free ports, `wrangler dev` / `tools/dev.ts`, readiness. */
import { type ChildProcess, spawn } from 'node:child_process';
import { freePort } from '../../tools/dev/ports.ts';

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
