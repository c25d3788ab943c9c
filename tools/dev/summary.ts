/** The local run's start-up summary: what runs where, the keys, and what to try first. */
import type { StackInfo } from './stack.ts';
import type { ExampleKey } from './topology.ts';

export function summaryLines(opts: {
  edgeUrl: string;
  info: StackInfo;
  keys: ExampleKey[] | null;
  adminToken: string;
  stateFile: string;
}): string[] {
  const { edgeUrl, info, keys, adminToken } = opts;
  const eu = keys?.find((k) => k.policy.residency === 'eu')?.key ?? '<an EU-resident key>';
  const dev = keys?.[0]?.key ?? '<your key>';
  const chat = (key: string, body: string, extra = '') =>
    `curl ${extra}${edgeUrl}/v1/chat/completions -H 'authorization: Bearer ${key}' -H 'content-type: application/json' -d '${body}'`;
  const hello = (model: string, stream = false) =>
    JSON.stringify({
      model,
      ...(stream ? { stream: true } : {}),
      messages: [{ role: 'user', content: 'Hello' }],
    });
  return [
    '',
    '━━ edge LLM gateway: local run ━━',
    `edge         ${edgeUrl}   (wrangler dev, workers/gateway.dev.config.json)`,
    `console      ${edgeUrl}/console/   (sign in with the admin token below)`,
    `redis        ${info.upstash.url}   (${info.upstash.backend})`,
    `postgres     ${info.usageDb.url.replace(/\/\/[^@]*@/, '//')}   (${info.usageDb.backend}: request log and usage, /admin/requests)`,
    ...info.origins.map((o) => {
      const sims = info.sims.filter((s) => s.region === o.region);
      return `${o.name.padEnd(16)} ${o.url}   pools: ${sims.map((s) => `${s.name} ${s.url.replace('http://127.0.0.1', '')}`).join(', ')}`;
    }),
    ...info.fakes.map(
      (f) =>
        `${f.provider.padEnd(16)} ${f.url ? `${f.url} (fake)` : 'the real service'}   ${f.where}`,
    ),
    '',
    ...(keys
      ? ['keys:', ...keys.map((k) => `  ${k.key}   ${k.label}`)]
      : ['keys: none seeded (a real Upstash was given: create them with POST /admin/keys)']),
    `admin token   ${adminToken}`,
    '',
    'try:',
    `  ${chat(dev, hello('llama-3.1-8b-instruct'), '-i ')}`,
    `  ${chat(dev, hello('claude-sonnet-4-6', true), '-N ')}`,
    `  ${chat(eu, hello('gpt-4o-mini'), '-i -H "cf-ipcountry: DE" ')}`,
    '',
    'type "status", "stop NAME", "start NAME" (e.g. stop origin-eu-west) or "help"; Ctrl-C stops everything.',
    `what runs where, as JSON: ${opts.stateFile}`,
    '',
  ];
}
