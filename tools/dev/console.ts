/** Builds the operator console (console/, Vite) into console/dist, which wrangler serves. */
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'vite';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

export async function buildConsole(): Promise<void> {
  await build({ configFile: join(ROOT, 'console', 'vite.config.ts'), logLevel: 'warn' });
}
