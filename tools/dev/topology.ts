/**
 * What the local run (`npm run dev`) brings up: three regions, each with its origin and GPU
 * pools, the cloud provider fakes and the example keys. Data only: ./stack.ts starts it, and
 * workers/gateway.dev.config.json (the edge's side) names the same regions, providers and
 * models. Keep the two in step (test/tools/dev-config.test.ts checks they agree).
 */
import { FAKE_BEDROCK_ACCESS_KEY_ID, FAKE_BEDROCK_SECRET } from '../fakes/bedrock.ts';

export const REGIONS = ['us-east', 'eu-west', 'ap-south'] as const;
export type RegionName = (typeof REGIONS)[number];

/** The served names of the self-hosted models, as vLLM / TensorRT-LLM / TEI report them. */
export const SELF_HOSTED = {
  llama: 'meta-llama/Llama-3.1-8B-Instruct',
  qwen: 'Qwen/Qwen2.5-7B-Instruct',
  bge: 'BAAI/bge-small-en-v1.5',
} as const;

export interface PoolSpec {
  pool: string;
  kind: 'vllm' | 'trt' | 'tei';
  endpoints: number;
  model: string;
}

/** Every region's origin fronts the same pools (one gpu-sim process per endpoint). */
export const POOLS: readonly PoolSpec[] = [
  { pool: 'vllm', kind: 'vllm', endpoints: 2, model: SELF_HOSTED.llama },
  { pool: 'trt', kind: 'trt', endpoints: 1, model: SELF_HOSTED.qwen },
  { pool: 'tei', kind: 'tei', endpoints: 1, model: SELF_HOSTED.bge },
];

/** The origins' env var in the dev config (`${ORIGIN_EU_WEST_URL}`). */
export const originVar = (region: RegionName) =>
  `ORIGIN_${region.toUpperCase().replace(/-/g, '_')}_URL`;

export type FakeKind = 'openai' | 'anthropic' | 'gemini' | 'bedrock';

export interface FakeSpec {
  /** The provider id in the dev config. */
  provider: string;
  kind: FakeKind;
  /** Where its data stays, as the dev config tags it. */
  where: string;
  /** When every one of these is set in the environment, the real service is used instead
   * (and these, plus `passthrough`, are handed to the Worker as they are). */
  real: readonly string[];
  passthrough?: readonly string[];
  /** The Worker vars that point the provider at the fake at `url`. */
  vars(url: string): Record<string, string>;
}

const bedrockVars = (prefix: string) => (url: string) => ({
  [`${prefix}_ENDPOINT`]: url,
  [`${prefix}_CONTROL_ENDPOINT`]: url,
  AWS_ACCESS_KEY_ID: FAKE_BEDROCK_ACCESS_KEY_ID,
  AWS_SECRET_ACCESS_KEY: FAKE_BEDROCK_SECRET,
});

export const FAKES: readonly FakeSpec[] = [
  {
    provider: 'openai',
    kind: 'openai',
    where: 'us-east (zone us)',
    real: ['OPENAI_API_KEY'],
    passthrough: ['OPENAI_BASE_URL'],
    vars: (url) => ({ OPENAI_BASE_URL: `${url}/v1`, OPENAI_API_KEY: 'sk-fake-local-openai' }),
  },
  {
    provider: 'azure-eu',
    kind: 'openai',
    where: 'eu-west (zone eu), Azure OpenAI West Europe',
    real: ['AZURE_OPENAI_EU_ENDPOINT', 'AZURE_OPENAI_EU_API_KEY'],
    vars: (url) => ({ AZURE_OPENAI_EU_ENDPOINT: url, AZURE_OPENAI_EU_API_KEY: 'fake-azure-key' }),
  },
  {
    provider: 'anthropic',
    kind: 'anthropic',
    where: 'us-east (zone us)',
    real: ['ANTHROPIC_API_KEY'],
    passthrough: ['ANTHROPIC_BASE_URL'],
    vars: (url) => ({ ANTHROPIC_BASE_URL: `${url}/v1`, ANTHROPIC_API_KEY: 'sk-ant-fake-local' }),
  },
  {
    provider: 'gemini',
    kind: 'gemini',
    where: 'global (unrestricted keys only)',
    real: ['GEMINI_API_KEY'],
    passthrough: ['GEMINI_BASE_URL'],
    vars: (url) => ({ GEMINI_BASE_URL: `${url}/v1beta`, GEMINI_API_KEY: 'fake-gemini-key' }),
  },
  {
    provider: 'bedrock-us',
    kind: 'bedrock',
    where: 'us-east (zone us), AWS us-east-1',
    real: ['AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY'],
    passthrough: ['AWS_SESSION_TOKEN'],
    vars: bedrockVars('BEDROCK_US'),
  },
  {
    provider: 'bedrock-eu',
    kind: 'bedrock',
    where: 'eu-west (zone eu), AWS eu-central-1',
    real: ['AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY'],
    passthrough: ['AWS_SESSION_TOKEN'],
    vars: bedrockVars('BEDROCK_EU'),
  },
];

export interface ExampleKey {
  label: string;
  key: string;
  policy: Record<string, unknown>;
}

/** Seeded into a local Redis at every start (fixed values, so the README's lines work). */
export function exampleKeys(devKey: string): ExampleKey[] {
  return [
    { label: 'development key', key: devKey, policy: { name: 'development key', tenant: 'dev' } },
    {
      label: 'unrestricted',
      key: 'sk-gw-example0unrestricted00000000000',
      policy: { name: 'example: unrestricted', tenant: 'acme', residency: 'none' },
    },
    {
      label: 'EU-resident',
      key: 'sk-gw-example0euresident0000000000000',
      policy: { name: 'example: EU-resident', tenant: 'acme-eu', residency: 'eu' },
    },
    {
      label: 'small limits (5 requests/min, 4 000 tokens/min, $0.01/month)',
      key: 'sk-gw-example0smalllimits000000000000',
      policy: {
        name: 'example: small limits',
        tenant: 'acme',
        residency: 'none',
        limits: { requestsPerMinute: 5, tokensPerMinute: 4_000 },
        budget: { monthlyUsd: 0.01 },
      },
    },
  ];
}
