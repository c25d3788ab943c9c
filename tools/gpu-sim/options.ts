// Simulator options: one zod schema, documented with defaults; `--help` is generated from it.
import { z } from 'zod';

const rate = (what: string) => z.number().min(0).max(1).default(0).describe(what);
const positive = (def: number, what: string) => z.number().positive().default(def).describe(what);
const count = (def: number, what: string) => z.number().int().min(1).default(def).describe(what);

export const simOptionsSchema = z
  .object({
    kind: z
      .enum(['vllm', 'trt', 'tei'])
      .default('vllm')
      .describe('server to imitate: vllm, trt (trtllm-serve) or tei (text-embeddings-inference)'),
    host: z.string().default('127.0.0.1').describe('address to listen on'),
    port: z.number().int().min(0).max(65535).default(0).describe('port (0: any free port)'),
    model: z
      .string()
      .optional()
      .describe(
        'served model name (default: meta-llama/Llama-3.1-8B-Instruct, tei: BAAI/bge-small-en-v1.5)',
      ),
    maxBatch: count(8, 'most requests in the running batch; the rest wait FIFO'),
    kvBlocks: count(2048, 'KV cache capacity in blocks'),
    blockSize: count(16, 'tokens per KV cache block'),
    prefixCaching: z
      .boolean()
      .optional()
      .describe('reuse cached prompt blocks (default: on, off for tei)'),
    prefillMsPerToken: positive(0.05, 'prefill cost per uncached prompt token (ms)'),
    prefillBatchSlowdown: z
      .number()
      .min(0)
      .default(0.05)
      .describe('prefill cost grows by this fraction per other running request'),
    decodeMsPerToken: positive(8, 'inter-token latency of a lone request (ms)'),
    decodeBatchSlowdown: z
      .number()
      .min(0)
      .default(0.15)
      .describe('inter-token latency grows by this fraction per other running request'),
    maxOutputTokens: count(2048, 'upper bound on max_tokens'),
    defaultTokensMin: count(16, 'output length without max_tokens: lower bound'),
    defaultTokensMax: count(64, 'output length without max_tokens: upper bound'),
    embeddingDim: count(384, 'embedding vector size (tei)'),
    errorRate: rate('share of requests answered 500'),
    hangRate: rate('share of requests never answered (until the client leaves)'),
    resetRate: rate('share of requests whose connection is reset mid-response'),
    resetAfterTokens: count(2, 'tokens sent before a reset'),
    slowStartMs: z
      .number()
      .min(0)
      .default(0)
      .describe('for this long after start, /health and requests answer 503'),
    seed: z.number().int().default(1).describe('seed of output lengths and injected faults'),
  })
  .strict();

/** Options as callers pass them: every field optional. */
export type SimOptions = z.input<typeof simOptionsSchema>;
export type ResolvedOptions = z.output<typeof simOptionsSchema> & {
  model: string;
  prefixCaching: boolean;
};

export function resolveOptions(input: SimOptions = {}): ResolvedOptions {
  const parsed = simOptionsSchema.safeParse(input);
  if (!parsed.success) throw new Error(`invalid options\n${z.prettifyError(parsed.error)}`);
  const o = parsed.data;
  if (o.defaultTokensMin > o.defaultTokensMax) {
    throw new Error('defaultTokensMin must not exceed defaultTokensMax');
  }
  return {
    ...o,
    model:
      o.model ?? (o.kind === 'tei' ? 'BAAI/bge-small-en-v1.5' : 'meta-llama/Llama-3.1-8B-Instruct'),
    prefixCaching: o.prefixCaching ?? o.kind !== 'tei',
  };
}

const kebab = (s: string) => s.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
const camel = (s: string) => s.replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());

/** Parses `--max-batch 8` / `--max-batch=8` style arguments into SimOptions. */
export function parseArgs(argv: readonly string[]): SimOptions {
  const out: Record<string, unknown> = {};
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (!arg.startsWith('--')) throw new Error(`unexpected argument: ${arg}`);
    let [key, value] = arg.slice(2).split(/=(.*)/s) as [string, string | undefined];
    value ??= argv[++i];
    if (value === undefined) throw new Error(`missing value for --${key}`);
    out[camel(key)] =
      value === 'true' || value === 'false'
        ? value === 'true'
        : /^-?\d+(\.\d+)?$/.test(value)
          ? Number(value)
          : value;
  }
  return out as SimOptions;
}

export function helpText(): string {
  const schema = z.toJSONSchema(simOptionsSchema, { io: 'input' }) as {
    properties: Record<string, { description?: string; default?: unknown }>;
  };
  const lines = Object.entries(schema.properties).map(([k, p]) => {
    const def = p.default === undefined ? '' : ` (default ${JSON.stringify(p.default)})`;
    return `  --${kebab(k).padEnd(24)} ${p.description ?? ''}${def}`;
  });
  return ['Usage: node tools/gpu-sim/main.ts [options]', '', ...lines].join('\n');
}
