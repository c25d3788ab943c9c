/**
 * A CPU profile of the gateway under load on plain `workerd serve` (`node bench/profile.ts
 * [--mode json|stream|prompt2k|answer2k] [--auth] [--tracing] [--guardrails] [--seconds 5]
 * [--focus SUBSTRING]`;
 * `--tracing`: OpenTelemetry on, to a local OTLP receiver; `--guardrails`:
 * `GATEWAY_GUARDRAIL_POLICIES=default`): the bundle `wrangler deploy --dry-run` writes,
 * the bench's fake upstream and Upstash, autocannon at 32 connections, and V8's sampling
 * profiler over workerd's inspector protocol. Prints the functions with the most self time
 * and the share of time by source file (from the bundle's source map), and writes the
 * `.cpuprofile` (open it in Chrome DevTools) to bench/results/.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { buildConsole } from '../tools/dev/console.ts';
import { freePort } from '../tools/dev/ports.ts';
import { startOtlpReceiver } from '../tools/otlp/receiver.ts';
import { API_KEY, type Mode, runLoad, setUpstreamStep, UPSTREAM_STEPS } from './lib/load.ts';
import { ROOT, startBackends, stopAll } from './lib/processes.ts';
import { bundle, startWorkerd } from './lib/workerd.ts';

const { values } = parseArgs({
  options: {
    mode: { type: 'string', default: 'json' },
    auth: { type: 'boolean', default: false },
    tracing: { type: 'boolean', default: false },
    guardrails: { type: 'boolean', default: false },
    seconds: { type: 'string', default: '5' },
    /** Also list every function whose source file contains this (e.g. `telemetry`). */
    focus: { type: 'string' },
  },
});
const mode = values.mode as Mode;
const dir = mkdtempSync(join(tmpdir(), 'gw-profile-'));
const backends = await startBackends(API_KEY);
const otlp = values.tracing ? await startOtlpReceiver() : undefined;
try {
  await buildConsole(); // wrangler.toml's [assets] directory must exist to bundle
  const gateway = bundle('wrangler.toml', join(dir, 'gateway'));
  const inspectorPort = await freePort();
  const server = await startWorkerd({
    name: 'gateway',
    bundle: gateway,
    vars: {
      GATEWAY_FORCE_ZONE: 'none',
      OPENAI_BASE_URL: `${backends.upstream}/v1`,
      OPENAI_API_KEY: 'sk-bench-upstream',
      UPSTASH_REDIS_REST_URL: backends.redis.url,
      UPSTASH_REDIS_REST_TOKEN: backends.redis.token,
      ADMIN_TOKEN: 'bench-admin-token-unused',
      ...(values.auth ? {} : { GATEWAY_AUTH_ENABLED: 'false' }),
      ...(otlp ? { OTEL_EXPORTER_OTLP_ENDPOINT: otlp.url } : {}),
      ...(values.guardrails ? { GATEWAY_GUARDRAIL_POLICIES: 'default' } : {}),
    },
    readyPath: '/health',
    inspectorPort,
  });
  const url = `${server.url}/v1/chat/completions`;
  await setUpstreamStep(backends.upstream, UPSTREAM_STEPS[mode] ?? {});
  await runLoad(url, mode, { connections: 32, seconds: 2 }); // warm-up (JIT)
  const inspector = await connect(`ws://127.0.0.1:${inspectorPort}/main`);
  await inspector.send('Profiler.enable');
  await inspector.send('Profiler.setSamplingInterval', { interval: 250 });
  await inspector.send('Profiler.start');
  const load = await runLoad(url, mode, { connections: 32, seconds: Number(values.seconds) });
  const { profile } = (await inspector.send('Profiler.stop')) as { profile: CpuProfile };
  inspector.close();
  const out = join(ROOT, 'bench', 'results');
  mkdirSync(out, { recursive: true });
  const file = join(
    out,
    `profile-${mode}${values.auth ? '-auth' : ''}${otlp ? '-tracing' : ''}${values.guardrails ? '-guardrails' : ''}.cpuprofile`,
  );
  writeFileSync(file, JSON.stringify(profile));
  const map = JSON.parse(readFileSync(join(gateway.dir, `${gateway.main}.map`), 'utf8'));
  console.log(summarise(profile, load.ok, lineToSource(map)));
  console.log(`${load.ok} requests (${load.failed} failed); profile in ${file}`);
} finally {
  await stopAll();
  await otlp?.close();
  await backends.stop();
  rmSync(dir, { recursive: true, force: true });
}

interface CpuProfile {
  nodes: {
    id: number;
    callFrame: { functionName: string; url: string; lineNumber: number; columnNumber: number };
  }[];
  samples: number[];
  timeDeltas: number[];
}

async function connect(url: string) {
  const ws = new WebSocket(url);
  await new Promise((resolve, reject) => {
    ws.addEventListener('open', resolve);
    ws.addEventListener('error', () => reject(new Error(`cannot reach the inspector at ${url}`)));
  });
  let nextId = 1;
  const waiting = new Map<number, (result: unknown) => void>();
  ws.addEventListener('message', (msg: MessageEvent) => {
    const data = JSON.parse(String(msg.data)) as { id?: number; result?: unknown };
    if (data.id !== undefined) waiting.get(data.id)?.(data.result);
  });
  return {
    send(method: string, params: object = {}): Promise<unknown> {
      const id = nextId++;
      ws.send(JSON.stringify({ id, method, params }));
      return new Promise((resolve) => waiting.set(id, resolve));
    },
    close: () => ws.close(),
  };
}

/** Bundle line (0-based) → the original source file, from the source map's mappings (every
 * segment's source index is a delta on the previous segment's, across lines). */
function lineToSource(map: { sources: string[]; mappings: string }): (line: number) => string {
  const B64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
  const sourceOfLine: number[] = [];
  let source = 0;
  for (const [i, line] of map.mappings.split(';').entries()) {
    let first: number | undefined;
    for (const segment of line.split(',')) {
      if (!segment) continue;
      const fields: number[] = [];
      let [value, shift] = [0, 0];
      for (const ch of segment) {
        const digit = B64.indexOf(ch);
        value += (digit & 31) << shift;
        if (digit & 32) shift += 5;
        else {
          fields.push(value & 1 ? -(value >> 1) : value >> 1);
          [value, shift] = [0, 0];
        }
      }
      if (fields.length > 1) source += fields[1]!;
      first ??= source;
    }
    sourceOfLine[i] = first ?? source;
  }
  return (line) => map.sources[sourceOfLine[line] ?? -1] ?? '?';
}

function summarise(profile: CpuProfile, requests: number, sourceOf: (line: number) => string) {
  const byNode = new Map(profile.nodes.map((n) => [n.id, n]));
  const self = new Map<string, number>();
  const files = new Map<string, number>();
  const areas = new Map<string, number>();
  let total = 0;
  for (const [i, id] of profile.samples.entries()) {
    const us = profile.timeDeltas[i] ?? 0;
    const f = byNode.get(id)!.callFrame;
    if (f.functionName === '(idle)') continue;
    total += us;
    const file = f.url
      ? sourceOf(f.lineNumber)
          .replace(/^.*node_modules\//, 'npm:')
          .replace(/^(\.\.\/)+work\/[^/]+\//, '')
      : f.functionName;
    const name = `${f.functionName || '(anonymous)'} ${file}:${f.lineNumber + 1}`;
    self.set(name, (self.get(name) ?? 0) + us);
    files.set(file, (files.get(file) ?? 0) + us);
    const area = areaOf(file);
    areas.set(area, (areas.get(area) ?? 0) + us);
  }
  const top = (m: Map<string, number>, n: number) =>
    [...m.entries()]
      .sort((a, b) => b[1] - a[1])
      .slice(0, n)
      .map(
        ([k, v]) =>
          `  ${((v / total) * 100).toFixed(1).padStart(5)}%  ${(v / 1000 / requests).toFixed(3)} ms/req  ${k}`,
      );
  const focus = values.focus;
  const focused = focus
    ? [
        `functions in files matching "${focus}":`,
        ...top(new Map([...self].filter(([k]) => k.includes(focus))), 60),
      ]
    : [];
  return [
    `JS thread busy ${(total / 1000 / requests).toFixed(3)} ms per request (sampled, excluding idle)`,
    'by area (self time: a src/ folder, an npm package, or a native function):',
    ...top(areas, 30),
    'by source file (self time):',
    ...top(files, 25),
    'by function (self time):',
    ...top(self, 40),
    ...focused,
  ].join('\n');
}

/** `src/<folder>`, `npm:<package>` (with its scope), or the file itself (native functions). */
function areaOf(file: string): string {
  const src = /^(src\/[^/]+)\//.exec(file);
  if (src) return src[1]!;
  const npm = /^npm:((?:@[^/]+\/)?[^/]+)/.exec(file);
  if (npm) return `npm:${npm[1]}`;
  return file || '(native, unnamed)';
}
