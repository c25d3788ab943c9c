/**
 * `npm run dev`: the whole system on this machine, no cloud account, no Docker.
 *
 * Starts a local Upstash (redis-server behind the REST bridge, or an embedded store), the
 * usage store (PostgreSQL, and the usage-event consumer beside the edge), the
 * cloud provider fakes (OpenAI, Azure OpenAI EU, Anthropic, Gemini, Bedrock US and EU; a real
 * service wherever its key is set), three regional origins each over its own simulated vLLM,
 * TensorRT-LLM and TEI pools, seeds the development key and three example keys, and runs the
 * edge (`wrangler dev -c wrangler.dev.toml`, workers/gateway.dev.config.json) on http://127.0.0.1:$PORT.
 * See tools/dev/ for the parts and README.md for what to try.
 *
 * Environment: PORT (8787), GATEWAY_DEV_KEY, ADMIN_TOKEN, ORIGIN_SIGNING_KEY, the providers'
 * keys (OPENAI_API_KEY, ANTHROPIC_API_KEY, GEMINI_API_KEY, AZURE_OPENAI_EU_ENDPOINT +
 * AZURE_OPENAI_EU_API_KEY, AWS_ACCESS_KEY_ID + AWS_SECRET_ACCESS_KEY), UPSTASH_REDIS_REST_URL +
 * UPSTASH_REDIS_REST_TOKEN (a real Upstash: nothing is seeded), USAGE_DATABASE_URL (the usage
 * store; default a throwaway local PostgreSQL, migrated), DEV_STACK_FILE (where the
 * JSON description of the running stack goes; default .wrangler/dev-stack.json),
 * DEV_PROBE_INTERVAL_MS (the health probe the cron runs in production; default 15 000; 0: none),
 * OTEL_EXPORTER_OTLP_ENDPOINT and the other OTEL_* variables (traces and metrics of the edge
 * and the origins to that collector; default none).
 * Commands on standard input: status, stop NAME, start NAME, help. Ctrl-C stops everything.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { Redis } from '@upstash/redis/cloudflare';
import { createKeySchema, KeyStore } from '../src/auth/index.ts';
import { telemetryVars } from '../src/telemetry/settings.ts';
import { answers, Children } from './dev/children.ts';
import { buildConsole } from './dev/console.ts';
import { freePort, portInUse } from './dev/ports.ts';
import { type Stack, startStack } from './dev/stack.ts';
import { summaryLines } from './dev/summary.ts';
import { type ExampleKey, exampleKeys } from './dev/topology.ts';

const ROOT = resolve(import.meta.dirname, '..');
const env = process.env;
const port = Number(env.PORT ?? 8787);
const edgeUrl = `http://127.0.0.1:${port}`;
const adminToken = env.ADMIN_TOKEN ?? 'dev-admin-token-change-me';
const devKey = env.GATEWAY_DEV_KEY ?? 'sk-gw-localdevkey000000000000000000000';
const signingKey = env.ORIGIN_SIGNING_KEY ?? 'dev-origin-signing-key-0123456789';
const stateFile = resolve(env.DEV_STACK_FILE ?? join(ROOT, '.wrangler', 'dev-stack.json'));
const probeEveryMs = Number(env.DEV_PROBE_INTERVAL_MS ?? 15_000);
const say = (line: string) => console.log(line);

if (await portInUse(port)) {
  console.error(`dev: port ${port} is in use (another npm run dev?); set PORT to use another`);
  process.exit(1);
}

const children = new Children(say);
const persistDir = mkdtempSync(join(tmpdir(), 'gateway-dev-'));
let stack: Stack | undefined;
let probeTimer: NodeJS.Timeout | undefined;
let stopping: Promise<void> | undefined;
let seeded: ExampleKey[] | null = null;

const shutdown = (code: number) => {
  stopping ??= (async () => {
    clearInterval(probeTimer);
    say('dev: stopping everything');
    await children.stopAll();
    await stack?.stop();
    rmSync(persistDir, { recursive: true, force: true });
    rmSync(stateFile, { force: true });
  })().finally(() => process.exit(code));
  return stopping;
};
process.on('SIGINT', () => void shutdown(0));
process.on('SIGTERM', () => void shutdown(0));

try {
  // The operator console (console/), served by wrangler dev as static assets under /console.
  await buildConsole();
  stack = await startStack({ env, children, signingKey, say });
  const { info } = stack;
  const keys = info.upstash.local ? await seedKeys(info.upstash) : null;
  seeded = keys;

  // OTEL_EXPORTER_OTLP_ENDPOINT and the other OTEL_* variables, when set, reach the edge as
  // Worker vars (the origins inherit this process's environment).
  const vars: Record<string, string> = {
    ...info.vars,
    ADMIN_TOKEN: adminToken,
    ...telemetryVars(env),
  };
  const args = [
    ...[process.execPath, join(ROOT, 'node_modules/wrangler/bin/wrangler.js'), 'dev'],
    // The gateway and, in the same wrangler dev (one local queue), the usage-event consumer.
    ...['-c', join(ROOT, 'wrangler.dev.toml')],
    ...['-c', join(ROOT, 'workers/usage-consumer.wrangler.toml')],
    ...['--ip', '127.0.0.1', '--port', String(port)],
    ...['--inspector-port', String(await freePort()), '--persist-to', persistDir],
    '--show-interactive-dev-session=false',
    '--test-scheduled',
  ];
  for (const [name, value] of Object.entries(vars)) args.push('--var', `${name}:${value}`);
  await children.start({
    name: 'edge',
    command: args,
    env: {
      CLOUDFLARE_CF_FETCH_ENABLED: 'false',
      WRANGLER_SEND_METRICS: 'false',
      CLOUDFLARE_HYPERDRIVE_LOCAL_CONNECTION_STRING_USAGE_DB: info.usageDb.url,
    },
    ready: () => answers(`${edgeUrl}/health/live`),
    inherit: true,
  });

  // The production cron probes providers and origins every minute; wrangler dev runs no
  // crons, so the local run asks for the same scheduled event itself.
  const probe = () =>
    fetch(`${edgeUrl}/__scheduled?cron=*+*+*+*+*`).then(
      (r) => r.body?.cancel(),
      () => undefined,
    );
  if (probeEveryMs > 0) {
    await probe();
    probeTimer = setInterval(probe, probeEveryMs);
  }

  for (const line of summaryLines({ edgeUrl, info, keys, adminToken, stateFile })) say(line);
  // Last: its existence says the stack is up and the summary printed.
  mkdirSync(dirname(stateFile), { recursive: true });
  writeFileSync(stateFile, JSON.stringify(stateOf(), null, 2));
  listenForCommands();
} catch (err) {
  console.error(`dev: ${err instanceof Error ? err.message : String(err)}`);
  await shutdown(1);
}

async function seedKeys(upstash: { url: string; token: string }): Promise<ExampleKey[]> {
  const store = new KeyStore(new Redis({ url: upstash.url, token: upstash.token }));
  const keys = exampleKeys(devKey);
  for (const k of keys) await store.create(createKeySchema.parse(k.policy), 'dev', k.key);
  return keys;
}

/** What a test or a script needs to find every part (no secrets beyond the local ones). */
function stateOf() {
  const keys = seeded;
  const info = stack!.info;
  const pid = (name: string) => children.pid(name) ?? null;
  return {
    edge: { url: edgeUrl, pid: pid('edge') },
    adminToken,
    keys: keys?.map(({ label, key }) => ({ label, key })) ?? [],
    upstash: { url: info.upstash.url, backend: info.upstash.backend },
    usageDb: info.usageDb,
    fakes: info.fakes,
    origins: info.origins.map((o) => ({ ...o, pid: pid(o.name) })),
    sims: info.sims.map((s) => ({ ...s, pid: pid(s.name) })),
    pids: [process.pid, ...children.names().map(pid)].filter((p) => p !== null),
  };
}

function listenForCommands(): void {
  if (process.stdin.destroyed) return;
  const rl = createInterface({ input: process.stdin });
  rl.on('line', (line) => void command(line.trim()));
  rl.on('error', () => undefined);
}

async function command(line: string): Promise<void> {
  const [verb, name] = line.split(/\s+/);
  try {
    if (verb === 'stop' && name && name !== 'edge') {
      await children.stop(name);
      say(`dev: ${name} stopped; "start ${name}" brings it back`);
    } else if (verb === 'start' && name) {
      await children.start(name);
      say(`dev: ${name} is up again`);
      writeFileSync(stateFile, JSON.stringify(stateOf(), null, 2));
    } else if (verb === 'status') {
      for (const n of children.names()) {
        say(
          `  ${n.padEnd(18)} ${children.isRunning(n) ? `running (pid ${children.pid(n)})` : 'stopped'}`,
        );
      }
    } else if (verb) {
      say('dev: commands: status | stop NAME | start NAME (names: see status) | Ctrl-C to quit');
    }
  } catch (err) {
    say(`dev: ${err instanceof Error ? err.message : String(err)}`);
  }
}
