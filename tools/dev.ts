/**
 * `npm run dev`: the whole gateway on this machine, no cloud account needed.
 *
 * - With OPENAI_API_KEY set in the environment (or in .dev.vars), requests go to OpenAI
 *   (or to OPENAI_BASE_URL when that is set too).
 * - Without it, a local fake OpenAI upstream (tools/fakes/openai.ts) is started and the
 *   gateway points at it, so every endpoint works offline.
 * Then `wrangler dev` serves the Worker on http://127.0.0.1:8787 (PORT to change it).
 */
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { startFakeOpenAI } from './fakes/openai.ts';

const port = Number(process.env.PORT ?? 8787);
const vars: string[] = [];
let fake: Awaited<ReturnType<typeof startFakeOpenAI>> | undefined;

if (!process.env.OPENAI_API_KEY && !devVarsHave('OPENAI_API_KEY')) {
  fake = await startFakeOpenAI({ port: Number(process.env.FAKE_OPENAI_PORT ?? 0) });
  vars.push(`OPENAI_BASE_URL:${fake.url}/v1`, 'OPENAI_API_KEY:sk-fake-local-upstream');
  console.log(`dev: no OPENAI_API_KEY set; using the local fake OpenAI upstream at ${fake.url}`);
} else {
  for (const name of ['OPENAI_API_KEY', 'OPENAI_BASE_URL']) {
    if (process.env[name]) vars.push(`${name}:${process.env[name]}`);
  }
}

const args = [
  'dev',
  '--ip',
  '127.0.0.1',
  '--port',
  String(port),
  '--show-interactive-dev-session=false',
];
for (const v of vars) args.push('--var', v);
const bin = fileURLToPath(new URL('../node_modules/.bin/wrangler', import.meta.url));
const wrangler = spawn(bin, args, {
  stdio: 'inherit',
  env: { ...process.env, CLOUDFLARE_CF_FETCH_ENABLED: 'false', WRANGLER_SEND_METRICS: 'false' },
});

console.log(
  `dev: gateway on http://127.0.0.1:${port}  (try: curl http://127.0.0.1:${port}/v1/models)`,
);

const stop = async () => {
  wrangler.kill('SIGTERM');
  await fake?.close();
};
process.on('SIGINT', stop);
process.on('SIGTERM', stop);
wrangler.on('exit', async (code) => {
  await fake?.close();
  process.exit(code ?? 0);
});

function devVarsHave(name: string): boolean {
  return (
    existsSync('.dev.vars') && new RegExp(`^${name}=`, 'm').test(readFileSync('.dev.vars', 'utf8'))
  );
}
