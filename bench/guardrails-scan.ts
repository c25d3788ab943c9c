/**
 * `node bench/guardrails-scan.ts`: a micro measurement of the guardrail scanner alone, in Node
 * (V8, as in workerd): the default policy of workers/gateway.config.json (PII masked, secrets
 * blocked) over bench's 2 KB prompt, as a whole text (a request, a JSON answer) and as a
 * stream in 20-character deltas. The figure the whole-gateway target compares with is
 * `npm run bench`'s `gateway-guardrails - gateway` (bench/README.md). `--count N`: N streams
 * after 300 warm-up ones, untimed (run under valgrind's callgrind with N and with 0: the
 * difference / N is the instructions per streamed answer).
 */
import { performance } from 'node:perf_hooks';
import { guardrailsSchema } from '../src/config/index.ts';
import { compiledPolicies } from '../src/guardrails/compile.ts';
import { type Stage, StreamScanner, scanText } from '../src/guardrails/scan.ts';
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
const stages: Stage[] = compiledPolicies(config)
  .get('default')!
  .flatMap((check) => {
    const tally = {
      policy: 'default',
      check: check.name,
      action: check.action,
      on: 'request' as const,
      matches: 0,
    };
    return check.detectors.map((detector) => ({ detector, action: check.action, tally }));
  });
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

const count = process.argv.indexOf('--count');
if (count > 0) {
  // for an instruction count: 300 warm-up streams, then N; untimed
  for (let i = 0; i < 300 + Number(process.argv[count + 1]); i++) streamed();
} else {
  time('whole text (request / JSON answer)', () => scanText(prompt, stages));
  time('stream, 20-character deltas', streamed);
}
