/**
 * A Worker on plain `workerd serve`, the runtime Cloudflare runs Workers on, without
 * `wrangler dev`'s proxy, inspector relay and log printing: `wrangler deploy --dry-run --outdir`
 * writes the exact bundle a deploy would upload, and a small generated capnp config serves it
 * (text bindings for the vars, a network service allowing loopback as its global outbound).
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { freePort } from '../../tools/dev/ports.ts';
import { type ManagedServer, ROOT, startManaged } from './processes.ts';

const WRANGLER = join(ROOT, 'node_modules', 'wrangler', 'bin', 'wrangler.js');
/** The workerd wrangler itself runs (wrangler dev's), else the top-level one. */
export const WORKERD = [
  join(ROOT, 'node_modules', 'wrangler', 'node_modules', '@cloudflare', 'workerd-linux-64'),
  join(ROOT, 'node_modules', '@cloudflare', 'workerd-linux-64'),
]
  .map((dir) => join(dir, 'bin', 'workerd'))
  .find((bin) => existsSync(bin));

export interface Bundle {
  dir: string;
  main: string; // the entry module's file name inside `dir`
  compatibilityDate: string;
  compatibilityFlags: string[];
}

/** `wrangler deploy --dry-run --outdir dir` for one wrangler config (relative to `root`, by
 * default the repo; another tree of it for an A/B run, see bench/callgrind.ts). */
export function bundle(config: string, dir: string, root: string = ROOT): Bundle {
  mkdirSync(dir, { recursive: true });
  const args = [WRANGLER, 'deploy', '--dry-run', '--outdir', dir, '-c', config, '--env', ''];
  execFileSync(process.execPath, args, {
    cwd: root,
    stdio: ['ignore', 'ignore', 'pipe'],
    env: { ...process.env, WRANGLER_SEND_METRICS: 'false' },
  });
  const main = readdirSync(dir).find((f) => f.endsWith('.js'));
  if (!main) throw new Error(`wrangler deploy --dry-run wrote no .js into ${dir}`);
  const toml = readFileSync(join(root, config), 'utf8');
  const date = /^compatibility_date\s*=\s*"([^"]+)"/m.exec(toml)?.[1];
  const flags = /^compatibility_flags\s*=\s*\[([^\]]*)\]/m.exec(toml)?.[1] ?? '';
  if (!date) throw new Error(`${config}: no compatibility_date`);
  const compatibilityFlags = [...flags.matchAll(/"([^"]+)"/g)].map((m) => m[1]!);
  return { dir, main, compatibilityDate: date, compatibilityFlags };
}

/** The capnp config serving `b` on 127.0.0.1:`port`, its vars as text bindings. */
export function capnpConfig(b: Bundle, port: number, vars: Record<string, string>): string {
  const q = (s: string) => JSON.stringify(s); // capnp text literals take JSON string escapes
  const bindings = Object.entries(vars)
    .map(([name, value]) => `(name = ${q(name)}, text = ${q(value)})`)
    .join(',\n      ');
  return `using Workerd = import "/workerd/workerd.capnp";

const config :Workerd.Config = (
  services = [
    (name = "main", worker = .worker),
    (name = "net", network = (allow = ["public", "private", "local"])),
  ],
  sockets = [(name = "http", address = "127.0.0.1:${port}", http = (), service = "main")],
);

const worker :Workerd.Worker = (
  modules = [(name = ${q(b.main)}, esModule = embed ${q(b.main)})],
  compatibilityDate = ${q(b.compatibilityDate)},
  compatibilityFlags = [${b.compatibilityFlags.map(q).join(', ')}],
  bindings = [
      ${bindings}
  ],
  globalOutbound = "net",
);
`;
}

/** `workerd serve` of bundle `b` with `vars`; its CPU is the workerd process's own. */
export async function startWorkerd(opts: {
  name: string;
  bundle: Bundle;
  vars: Record<string, string>;
  readyPath: string;
  inspectorPort?: number; // serve the inspector protocol there (bench/profile.ts)
  /** A command to run workerd under, e.g. valgrind and its options (bench/callgrind.ts). */
  wrapper?: string[];
  readyTimeoutMs?: number;
}): Promise<ManagedServer> {
  if (!WORKERD)
    throw new Error('no workerd binary under node_modules/@cloudflare/workerd-linux-64');
  const port = await freePort();
  const config = join(opts.bundle.dir, `${opts.name}.capnp`); // `embed` is relative to it
  writeFileSync(config, capnpConfig(opts.bundle, port, opts.vars));
  const args = ['serve', config, '--experimental'];
  if (opts.inspectorPort) args.push(`--inspector-addr=127.0.0.1:${opts.inspectorPort}`);
  const [command, ...argv] = [...(opts.wrapper ?? []), WORKERD, ...args];
  const spawnIt = (): ChildProcess =>
    spawn(command!, argv, { detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  return startManaged({
    name: opts.name,
    url: `http://127.0.0.1:${port}`,
    readyPath: opts.readyPath,
    spawn: spawnIt,
    shown: [...(opts.wrapper ?? []), 'workerd', ...args],
    kind: () => 'worker',
    ...(opts.readyTimeoutMs ? { readyTimeoutMs: opts.readyTimeoutMs } : {}),
  });
}
