// CLI: node tools/gpu-sim/main.ts --kind vllm --port 8100 [--max-batch 8 ...]; --help lists all.
import { helpText, parseArgs } from './options.ts';
import { startGpuSim } from './server.ts';

const argv = process.argv.slice(2);
if (argv.includes('--help') || argv.includes('-h')) {
  console.log(helpText());
  process.exit(0);
}

try {
  const sim = await startGpuSim(parseArgs(argv));
  const { kind, model } = sim.state();
  console.log(`gpu-sim (${kind}, ${model}) listening on ${sim.url}`);
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => void sim.close().then(() => process.exit(0)));
  }
} catch (err) {
  console.error(`gpu-sim: ${err instanceof Error ? err.message : String(err)}`);
  console.error(helpText());
  process.exit(2);
}
