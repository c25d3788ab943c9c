/**
 * Child process of the origin benchmark: starts `--count` gpu-sim servers with the options in
 * `--options` (JSON), prints `{"urls":[...]}` on one line, and closes them on SIGTERM (printing
 * their final state). The simulators get a process of their own so their timers are not
 * delayed by the load generator.
 *
 * `--null`: instead, servers that answer at once (a fixed one-token chat completion, /health,
 * a minimal vLLM /metrics), to time the router's hop without the simulator's timer jitter.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { parseArgs } from 'node:util';
import { type SimOptions, startGpuSim } from '../../tools/gpu-sim/server.ts';

const { values } = parseArgs({
  options: {
    count: { type: 'string', default: '4' },
    options: { type: 'string', default: '{}' },
    null: { type: 'boolean', default: false },
  },
});
const options = JSON.parse(values.options) as SimOptions;
const count = Number(values.count);

interface Server {
  url: string;
  state(): unknown;
  close(): Promise<void>;
}

const COMPLETION = JSON.stringify({
  id: 'chatcmpl-null',
  object: 'chat.completion',
  created: 0,
  model: 'meta-llama/Llama-3.1-8B-Instruct',
  choices: [{ index: 0, message: { role: 'assistant', content: 'ok' }, finish_reason: 'length' }],
  usage: { prompt_tokens: 1, completion_tokens: 1, total_tokens: 2 },
});
const METRICS =
  'vllm:num_requests_running 0\nvllm:num_requests_waiting 0\nvllm:kv_cache_usage_perc 0\n';

async function startNull(): Promise<Server> {
  const server = http.createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      if (req.url === '/metrics') return void res.end(METRICS);
      if (req.method === 'GET') return void res.end();
      res.writeHead(200, { 'content-type': 'application/json' }).end(COMPLETION);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    state: () => ({}),
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

const servers: Server[] = await Promise.all(
  Array.from({ length: count }, (_, i) =>
    values.null ? startNull() : startGpuSim({ ...options, seed: i + 1 }),
  ),
);
console.log(JSON.stringify({ urls: servers.map((s) => s.url) }));

let stopping = false;
const stop = async () => {
  if (stopping) return;
  stopping = true;
  const states = servers.map((s) => s.state());
  await Promise.all(servers.map((s) => s.close()));
  console.log(JSON.stringify({ states }));
  process.exit(0);
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
