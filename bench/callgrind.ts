/**
 * Instructions per request of each Worker on plain `workerd serve`, counted by valgrind's
 * callgrind (`node bench/callgrind.ts [--targets
 * floor,gateway-noauth,gateway,gateway-tracing,gateway-guardrails] [--modes
 * json,stream,prompt2k,answer2k] [--requests 200] [--warmup 200] [--connections 1] [--ref REV]
 * [--label NAME] [--keep DIR]`); `--keep`: each dump also kept as DIR/<target>-<mode>.callgrind.
 * `--ref REV[,REV...]`: the gateway targets are also measured as built from each commit
 * (`git archive` into a temporary tree sharing node_modules), named `<target>@REV`: before
 * and after in one run.
 *
 * Wall-clock and /proc CPU figures move with whatever else the machine runs; an instruction
 * count of the same work barely does, so this is the figure to compare a change by (before
 * and after, on the same machine, whatever its load). Per target: one workerd under callgrind
 * (every thread counted); per mode, `warmup` requests (JIT tiers settle), the counters
 * zeroed (`callgrind_control -z`), `requests` requests over `connections` keep-alive
 * connections, a pause for what `waitUntil` finishes after the responses (the settlements),
 * then a dump (`callgrind_control -d`): its total Ir / requests. Same bundles, vars,
 * upstream and Upstash as `bench/run.ts`, with `REDIS_TIMEOUT_MS` raised to 10 s (valgrind
 * slows workerd ~50x: a Redis deadline must not change the path taken). One connection by
 * default: settlements are batched per 20 ms window (src/store/write-behind.ts), so with
 * several connections how many share a Redis request depends on how fast the machine is
 * that moment; one at a time, every settlement gets its own, whatever the load. Streams:
 * the fake upstream pauses `--chunk-gap-ms` (25) between events, so each is its own read
 * whatever the load (see `setUpstream`). About 3 minutes per target. Writes bench/results/callgrind[-label].json.
 */
import { execFileSync } from 'node:child_process';
import {
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { buildConsole } from '../tools/dev/console.ts';
import { startOtlpReceiver } from '../tools/otlp/receiver.ts';
import { API_KEY, bodyOf, drive, type Mode, setUpstreamStep, UPSTREAM_STEPS } from './lib/load.ts';
import { killAllNow, ROOT, sleep, startBackends, stopAll } from './lib/processes.ts';
import { bundle, startWorkerd } from './lib/workerd.ts';

const { values } = parseArgs({
  options: {
    targets: { type: 'string', default: 'floor,gateway-noauth,gateway' },
    modes: { type: 'string', default: 'json,stream' },
    requests: { type: 'string', default: '200' },
    warmup: { type: 'string', default: '200' },
    connections: { type: 'string', default: '1' },
    ref: { type: 'string' },
    'chunk-gap-ms': { type: 'string', default: '25' },
    label: { type: 'string' },
    /** Keep each dump as DIR/<target>-<mode>.callgrind (for `callgrind_annotate`). */
    keep: { type: 'string' },
  },
});
const targets = values.targets.split(',');
const modes = values.modes.split(',') as Mode[];
const [requests, warmup, connections] = [values.requests, values.warmup, values.connections].map(
  Number,
) as [number, number, number];

const dir = mkdtempSync(join(tmpdir(), 'gw-callgrind-'));
process.on('exit', killAllNow);
const backends = await startBackends(API_KEY);
const otlp = await startOtlpReceiver();
const results: Record<string, Record<string, number>> = {};
try {
  const floor = bundle('bench/wrangler.passthrough.toml', join(dir, 'floor'));
  await buildConsole(); // wrangler.toml's [assets] directory must exist to bundle
  const gateway = bundle('wrangler.toml', join(dir, 'gateway'));
  const refs = values.ref?.split(',') ?? [];
  const gatewayVars = {
    REDIS_TIMEOUT_MS: '10000',
    GATEWAY_FORCE_ZONE: 'none',
    OPENAI_BASE_URL: `${backends.upstream}/v1`,
    OPENAI_API_KEY: 'sk-bench-upstream',
    UPSTASH_REDIS_REST_URL: backends.redis.url,
    UPSTASH_REDIS_REST_TOKEN: backends.redis.token,
    ADMIN_TOKEN: 'bench-admin-token-unused',
  };
  const setups: Record<string, { b: typeof floor; vars: Record<string, string>; ready: string }> = {
    floor: { b: floor, vars: { UPSTREAM_URL: backends.upstream }, ready: '/v1/models' },
    'gateway-noauth': {
      b: gateway,
      vars: { ...gatewayVars, GATEWAY_AUTH_ENABLED: 'false' },
      ready: '/health',
    },
    gateway: { b: gateway, vars: gatewayVars, ready: '/health' },
    // every request sampled; a short schedule so that exports happen inside the counted
    // window (under valgrind a few requests per export: more export work per request than
    // at production speed, where a batch fills with 512 spans first)
    'gateway-tracing': {
      b: gateway,
      vars: {
        ...gatewayVars,
        OTEL_EXPORTER_OTLP_ENDPOINT: otlp.url,
        OTEL_BSP_SCHEDULE_DELAY: '500',
      },
      ready: '/health',
    },
    'gateway-guardrails': {
      b: gateway,
      vars: { ...gatewayVars, GATEWAY_GUARDRAIL_POLICIES: 'default' },
      ready: '/health',
    },
  };
  for (const ref of refs) {
    const b = bundle('wrangler.toml', join(dir, `gateway@${ref}`), treeAt(ref));
    for (const name of ['gateway-noauth', 'gateway', 'gateway-tracing', 'gateway-guardrails']) {
      setups[`${name}@${ref}`] = { ...setups[name]!, b };
    }
  }
  for (const t of targets) if (!setups[t]) throw new Error(`unknown target ${t}`);
  const names = targets.flatMap((t) =>
    [...refs.map((r) => `${t}@${r}`), t].filter((n) => setups[n]),
  );
  for (const name of names) {
    const setup = setups[name];
    if (!setup) throw new Error(`unknown target ${name}`);
    const out = join(dir, `cg-${name}`);
    mkdirSync(out);
    const server = await startWorkerd({
      name,
      bundle: setup.b,
      vars: setup.vars,
      readyPath: setup.ready,
      wrapper: ['valgrind', '--tool=callgrind', `--callgrind-out-file=${join(out, 'cg.out')}`],
      readyTimeoutMs: 180_000,
    });
    const pid = String(server.pid);
    results[name] = {};
    for (const mode of modes) {
      const url = `${server.url}/v1/chat/completions`;
      await setUpstream(mode);
      await drive(url, Array(warmup).fill(bodyOf(mode)), connections);
      execFileSync('callgrind_control', ['-z', pid], { stdio: 'ignore' });
      await drive(url, Array(requests).fill(bodyOf(mode)), connections);
      await sleep(1_000); // settlements after the responses (write-behind, waitUntil)
      const before = new Set(readdirSync(out));
      execFileSync('callgrind_control', ['-d', pid], { stdio: 'ignore' });
      const dump = readdirSync(out).find((f) => !before.has(f));
      if (!dump) throw new Error(`${name}: callgrind wrote no dump`);
      const text = readFileSync(join(out, dump), 'utf8');
      if (values.keep) {
        mkdirSync(values.keep, { recursive: true });
        writeFileSync(join(values.keep, `${name}-${mode}.callgrind`), text);
      }
      const total = Number(/^(?:summary|totals):\s+(\d+)/m.exec(text)?.[1]);
      results[name][mode] = Math.round(total / requests);
      console.log(`${name} ${mode}: ${(total / requests / 1e6).toFixed(3)} M instructions/request`);
    }
    await server.stop();
  }
} finally {
  await stopAll();
  await otlp.close();
  await backends.stop();
  rmSync(dir, { recursive: true, force: true });
}

/**
 * The fake upstream's answer for `mode` (UPSTREAM_STEPS), with a pause between stream events.
 * Without one, how many events reach the Worker in one read depends on timing (the upstream
 * writes each event as soon as it can), and so does the count; with a pause longer than the
 * Worker takes per event under valgrind, each event is its own read, as when a model streams
 * tokens.
 */
function setUpstream(mode: Mode): Promise<void> {
  const streams = (JSON.parse(bodyOf(mode)) as { stream?: boolean }).stream === true;
  const gap = streams ? Number(values['chunk-gap-ms']) : 0;
  return setUpstreamStep(backends.upstream, {
    ...UPSTREAM_STEPS[mode],
    ...(gap > 0 ? { chunkDelayMs: gap } : {}),
  });
}

/** The repo's files at `rev`, in a temporary tree sharing this one's node_modules and console
 * build (wrangler.toml's [assets]). */
function treeAt(rev: string): string {
  const tree = join(dir, `tree@${rev}`);
  mkdirSync(join(tree, 'console'), { recursive: true });
  execFileSync(
    'sh',
    ['-c', `git archive ${JSON.stringify(rev)} | tar -x -C ${JSON.stringify(tree)}`],
    { cwd: ROOT },
  );
  symlinkSync(join(ROOT, 'node_modules'), join(tree, 'node_modules'));
  rmSync(join(tree, 'console', 'dist'), { recursive: true, force: true });
  symlinkSync(join(ROOT, 'console', 'dist'), join(tree, 'console', 'dist'));
  return tree;
}

const floorOf = results.floor;
const lines = [
  '',
  '| target | mode | M instructions / request | / floor |',
  '| --- | --- | ---: | ---: |',
];
for (const [name, byMode] of Object.entries(results)) {
  for (const [mode, ir] of Object.entries(byMode)) {
    const ratio = floorOf?.[mode] ? `${(ir / floorOf[mode]).toFixed(2)}×` : '';
    lines.push(`| ${name} | ${mode} | ${(ir / 1e6).toFixed(3)} | ${ratio} |`);
  }
}
console.log(lines.join('\n'));
const commit = execFileSync('git', ['describe', '--always', '--dirty'], { cwd: ROOT })
  .toString()
  .trim();
const file = join(
  ROOT,
  'bench',
  'results',
  `callgrind${values.label ? `-${values.label}` : ''}.json`,
);
writeFileSync(
  file,
  `${JSON.stringify({ at: new Date().toISOString(), commit, ref: values.ref, requests, warmup, connections, instructionsPerRequest: results }, null, 2)}\n`,
);
console.log(`written ${file}`);
