/**
 * The peer: Portkey's open-source gateway from npm (`@portkey-ai/gateway`), on Node, in front of
 * the same fake upstream (`x-portkey-provider: openai` with `x-portkey-custom-host`). Its CPU is
 * its Node process's.
 */
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { freePort } from '../../tools/dev/ports.ts';
import { type ManagedServer, ROOT, startManaged } from './processes.ts';

const SERVER = join(ROOT, 'node_modules', '@portkey-ai', 'gateway', 'build', 'start-server.js');

export async function startPortkey(upstream: string): Promise<{
  server: ManagedServer;
  headers: Record<string, string>; // what each request carries to route to the upstream
}> {
  const port = await freePort();
  const args = [SERVER, `--port=${port}`, '--headless'];
  const server = await startManaged({
    name: 'portkey',
    url: `http://127.0.0.1:${port}`,
    readyPath: '/',
    spawn: () =>
      spawn(process.execPath, args, {
        cwd: ROOT,
        env: { ...process.env, NODE_ENV: 'production' },
        detached: true,
        stdio: ['ignore', 'pipe', 'pipe'],
      }),
    shown: ['node', ...args.map((a) => a.replace(ROOT, '.'))],
    kind: () => 'worker',
  });
  const headers = { 'x-portkey-provider': 'openai', 'x-portkey-custom-host': `${upstream}/v1` };
  return { server, headers };
}
