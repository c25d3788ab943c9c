/**
 * `node bench/guardrails-scan.ts`: a micro measurement of the guardrail scanner alone, in Node
 * (V8, as in workerd): the default policy of workers/gateway.config.json (PII masked, secrets
 * blocked) over bench's 2 KB prompt, as a whole text (a request, a JSON answer) and as a
 * stream in 20-character deltas. The figure the whole-gateway target compares with is
 * `npm run bench`'s `gateway-guardrails - gateway` (bench/README.md). `--count N`: N streams
 * after 300 warm-up ones, untimed (run under valgrind's callgrind with N and with 0: the
 * difference / N is the instructions per streamed answer). `--stage`: the streams go through
 * the relay's guard stage instead (`guardStage`: OpenAI chunks parsed, rewritten, spliced), as
 * the gateway runs it per event.
 */
import { performance } from 'node:perf_hooks';
import { guardrailsSchema } from '../src/config/index.ts';
import { compiledPolicies, stagesOf } from '../src/guardrails/compile.ts';
import { StreamScanner, scanText } from '../src/guardrails/scan.ts';
import { guardStage } from '../src/guardrails/stream.ts';
import { openAIErrorEvent } from '../src/proxy/stream-relay.ts';
import { bodyOf } from './lib/load.ts';

const config = guardrailsSchema.parse({
  policies: {
    default: {
      checks: [
        { type: 'pii', action: 'mask' },
        { type: 'secrets', action: 'block' },
      ],
    },
  },
});
const stages = stagesOf(compiledPolicies(config).get('default')!, 'request');
const prompt = (JSON.parse(bodyOf('prompt2k')) as { messages: { content: string }[] }).messages[0]!
  .content;

function time(name: string, run: () => unknown, n = 2_000): void {
  for (let i = 0; i < 200; i++) run(); // warm-up: compiled and optimised
  const start = performance.now();
  for (let i = 0; i < n; i++) run();
  const us = ((performance.now() - start) / n) * 1000;
  console.log(`${name.padEnd(40)} ${us.toFixed(1)} µs per ${prompt.length}-character text`);
}

const streamed = () => {
  const scanner = new StreamScanner(stages);
  let out = '';
  for (let i = 0; i < prompt.length; i += 20) out += scanner.push(prompt.slice(i, i + 20));
  return out + scanner.flush();
};

/** The deltas as an OpenAI upstream's chunk data, then its finish chunk and [DONE]. */
const chunks = [
  ...Array.from({ length: Math.ceil(prompt.length / 20) }, (_, i) =>
    prompt.slice(i * 20, i * 20 + 20),
  ),
  '',
].map((content, i, all) =>
  JSON.stringify({
    id: 'chatcmpl-bench',
    object: 'chat.completion.chunk',
    created: 1,
    model: 'm',
    choices: [
      { index: 0, delta: { content }, finish_reason: i === all.length - 1 ? 'stop' : null },
    ],
  }),
);
chunks.push('[DONE]');

const staged = () => {
  const stage = guardStage({
    format: 'openai',
    stages,
    errorEvent: openAIErrorEvent,
    blockedError: () => ({
      message: 'blocked',
      type: 'invalid_request_error',
      param: null,
      code: null,
    }),
    onEnd: () => undefined,
  });
  let n = 0;
  for (const data of chunks) n += stage.event(data, undefined)?.length ?? 0;
  stage.end();
  stage.closed();
  return n;
};

const count = process.argv.indexOf('--count');
const run = process.argv.includes('--stage') ? staged : streamed;
if (count > 0) {
  // for an instruction count: 300 warm-up streams, then N; untimed
  for (let i = 0; i < 300 + Number(process.argv[count + 1]); i++) run();
} else {
  time('whole text (request / JSON answer)', () => scanText(prompt, stages));
  time('stream, 20-character deltas', streamed);
  time('stream as OpenAI chunks (guardStage)', staged);
}
