/**
 * A throwaway local PostgreSQL for `npm run dev` and the tests: Debian's `postgres` (initdb
 * in a temp dir, on a free loopback port, fsync off), run as an unprivileged user when we
 * are root (postgres refuses to run as root); without a postgres binary, an embedded one
 * (PGlite behind its socket server), said once on stderr.
 *
 * CLI: node tools/postgres/index.ts [--port 5433] [--embedded]  prints DATABASE_URL, applies
 * the migrations and serves until SIGINT/SIGTERM.
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import postgres from 'postgres';
import { freePort } from '../dev/ports.ts';
import { hasRedisServer as onPath } from '../upstash/redis-server.ts';
import { migrate } from './migrate.ts';

export { migrate } from './migrate.ts';

export interface LocalPostgres {
  /** postgres://postgres:postgres@127.0.0.1:<port>/postgres (trust auth) */
  url: string;
  port: number;
  backend: 'postgres' | 'pglite';
  /** Stops the server and deletes its data. Safe to call twice. */
  stop(): Promise<void>;
  /** Stops the server, keeping its data (an outage, for tests). */
  pause(): Promise<void>;
  /** Starts it again on the same port and data. */
  resume(): Promise<void>;
}

export interface LocalPostgresOptions {
  /** Use PGlite even when postgres is installed. Default false. */
  preferEmbedded?: boolean;
  /** Default: a free port picked by the OS. */
  port?: number;
}

const HOST = '127.0.0.1';
const running = new Set<ChildProcess>();
let warnedEmbedded = false;
let exitHookInstalled = false;

/** The directory of Debian's server binaries (/usr/lib/postgresql/<v>/bin, newest), or the
 * PATH's. */
export function postgresBinDir(): string | undefined {
  const root = '/usr/lib/postgresql';
  if (existsSync(root)) {
    const versions = readdirSync(root)
      .filter((v) => existsSync(join(root, v, 'bin', 'postgres')))
      .sort((a, b) => Number(b) - Number(a));
    if (versions[0]) return join(root, versions[0], 'bin');
  }
  return onPath('postgres') && onPath('initdb') ? '' : undefined;
}

export async function startLocalPostgres(opts: LocalPostgresOptions = {}): Promise<LocalPostgres> {
  const bin = opts.preferEmbedded ? undefined : postgresBinDir();
  if (bin !== undefined) return startServer(bin, opts.port ?? (await freePort()));
  if (!opts.preferEmbedded && !warnedEmbedded) {
    warnedEmbedded = true;
    process.stderr.write(
      'local-postgres: no postgres installed (apt-get install postgresql); using embedded ' +
        'PGlite behind its socket server (dev only: one connection at a time, slower)\n',
    );
  }
  return startPglite(opts.port ?? (await freePort()));
}

/** uid/gid of `nobody` when we are root (postgres will not run as root), else none. */
function unprivileged(): { uid: number; gid: number } | undefined {
  if (process.getuid?.() !== 0) return undefined;
  const line = readFileSync('/etc/passwd', 'utf8')
    .split('\n')
    .find((l) => l.startsWith('nobody:'));
  const [, , uid, gid] = line?.split(':') ?? [];
  if (!uid || !gid) throw new Error('local-postgres: running as root and no user "nobody"');
  return { uid: Number(uid), gid: Number(gid) };
}

async function startServer(binDir: string, port: number): Promise<LocalPostgres> {
  const exe = (name: string) => (binDir ? join(binDir, name) : name);
  const user = unprivileged();
  const dir = mkdtempSync(join(tmpdir(), 'local-postgres-'));
  const data = join(dir, 'data');
  if (user) chownSync(dir, user.uid, user.gid);
  const init = spawnSync(
    exe('initdb'),
    ['-D', data, '-U', 'postgres', '--auth=trust', '-E', 'UTF8', '--no-sync', '--no-instructions'],
    { encoding: 'utf8', ...(user ?? {}), env: { ...process.env, LC_ALL: 'C' } },
  );
  if (init.status !== 0) {
    rmSync(dir, { recursive: true, force: true });
    throw new Error(`local-postgres: initdb failed:\n${init.stderr || init.stdout}`);
  }
  let child: ChildProcess | undefined;
  const launch = async () => {
    const args = ['-D', data, '-p', String(port), '-k', dir, '-c', `listen_addresses=${HOST}`];
    // A throwaway database: no durability work.
    for (const s of ['fsync=off', 'synchronous_commit=off', 'full_page_writes=off'])
      args.push('-c', s);
    const proc = spawn(exe('postgres'), args, {
      stdio: ['ignore', 'pipe', 'pipe'],
      ...(user ?? {}),
      env: { ...process.env, LC_ALL: 'C' },
    });
    track(proc);
    proc.once('exit', () => running.delete(proc));
    let output = '';
    const collect = (chunk: Buffer) => {
      output = (output + chunk.toString('utf8')).slice(-4000);
    };
    proc.stdout?.on('data', collect);
    proc.stderr?.on('data', collect);
    child = proc;
    await waitReady(url, () => (proc.exitCode !== null ? output : undefined));
  };
  const halt = async () => {
    const proc = child;
    child = undefined;
    if (!proc || proc.exitCode !== null) return;
    const exited = new Promise((r) => proc.once('exit', r));
    proc.kill('SIGINT'); // fast shutdown: aborts open sessions
    const timer = setTimeout(() => proc.kill('SIGKILL'), 5_000);
    await exited;
    clearTimeout(timer);
    running.delete(proc);
  };
  // Trust auth: the password is ignored, but Hyperdrive (wrangler dev) insists on one.
  const url = `postgres://postgres:postgres@${HOST}:${port}/postgres`;
  try {
    await launch();
  } catch (err) {
    await halt();
    rmSync(dir, { recursive: true, force: true });
    throw err;
  }
  return {
    url,
    port,
    backend: 'postgres',
    pause: halt,
    resume: launch,
    stop: async () => {
      await halt();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

async function startPglite(port: number): Promise<LocalPostgres> {
  const { PGlite } = await import('@electric-sql/pglite');
  const { PGLiteSocketServer } = await import('@electric-sql/pglite-socket');
  const db = await PGlite.create();
  let server: InstanceType<typeof PGLiteSocketServer> | undefined;
  const launch = async () => {
    server = new PGLiteSocketServer({ db, port, host: HOST, maxConnections: 100 });
    await server.start();
  };
  const halt = async () => {
    await server?.stop();
    server = undefined;
  };
  await launch();
  return {
    url: `postgres://postgres:postgres@${HOST}:${port}/postgres`,
    port,
    backend: 'pglite',
    pause: halt,
    resume: launch,
    stop: async () => {
      await halt();
      await db.close();
    },
  };
}

async function waitReady(url: string, exitedWith: () => string | undefined): Promise<void> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    const output = exitedWith();
    if (output !== undefined) throw new Error(`local-postgres: postgres exited:\n${output}`);
    const sql = postgres(url, { max: 1, connect_timeout: 2, onnotice: () => undefined });
    try {
      await sql`SELECT 1`;
      return;
    } catch (err) {
      if (Date.now() > deadline) throw new Error(`local-postgres: not ready: ${String(err)}`);
    } finally {
      await sql.end({ timeout: 1 }).catch(() => undefined);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** So an interrupted run does not leave servers behind. */
function track(child: ChildProcess): void {
  if (!exitHookInstalled) {
    exitHookInstalled = true;
    process.once('exit', () => {
      for (const c of running) c.kill('SIGKILL');
    });
  }
  running.add(child);
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: { port: { type: 'string' }, embedded: { type: 'boolean', default: false } },
  });
  const local = await startLocalPostgres({
    preferEmbedded: values.embedded,
    ...(values.port ? { port: Number(values.port) } : {}),
  });
  const applied = await migrate(local.url);
  console.log(`DATABASE_URL=${local.url}`);
  console.log(`# backend: ${local.backend}; migrations applied: ${applied.length}; Ctrl-C to stop`);
  const shutdown = () => local.stop().then(() => process.exit(0));
  process.on('SIGINT', shutdown);
  process.on('SIGTERM', shutdown);
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main().catch((err: unknown) => {
    console.error(err);
    process.exit(1);
  });
}
