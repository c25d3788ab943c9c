// Helpers for the infra tests: Terraform files through @cdktf/hcl2json, Kubernetes manifests
// through `kubectl kustomize` (rendered, then turned into JSON by kubectl itself, offline).
import { execFileSync } from 'node:child_process';
import { accessSync, constants, readdirSync, readFileSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { delimiter, join, relative, resolve } from 'node:path';

export const ROOT = resolve(import.meta.dirname, '../..');
export const INFRA = join(ROOT, 'infra');
export const TF_ROOT = join(INFRA, 'terraform');
export const K8S_ROOT = join(INFRA, 'k8s');
export const MONITORING_ROOT = join(INFRA, 'monitoring');

/** Region key → what each overlay and Terraform root must agree on. */
export const REGIONS = {
  'us-east': { awsRegion: 'us-east-1', residencyZone: 'us' },
  'eu-west': { awsRegion: 'eu-west-1', residencyZone: 'eu' },
  'ap-south': { awsRegion: 'ap-south-1', residencyZone: 'apac' },
} as const;
export type RegionKey = keyof typeof REGIONS;
export const REGION_KEYS = Object.keys(REGIONS) as RegionKey[];

/** Whether an executable of that name is on PATH (without running it). */
export function onPath(command: string, path = process.env.PATH ?? ''): boolean {
  return path.split(delimiter).some((dir) => {
    try {
      accessSync(join(dir, command), constants.X_OK);
      return true;
    } catch {
      return false;
    }
  });
}

/** The command-line tools the infra tests run, and what for. */
export const INFRA_TOOLS = {
  kubectl: 'renders the kustomizations (kubectl kustomize) and turns YAML into JSON',
  terraform: 'checks formatting (terraform fmt -check)',
} as const;

/**
 * Throws, naming the tool, when it is not on PATH: the infra tests fail rather than skip, so a
 * machine without the tool cannot pass them silently (`.ci/run` checks for both first).
 */
export function requireTool(
  command: keyof typeof INFRA_TOOLS,
  path = process.env.PATH ?? '',
): void {
  if (onPath(command, path)) return;
  throw new Error(
    `${command} is not on PATH; the infra tests need it (it ${INFRA_TOOLS[command]}). ` +
      `Install ${command} (see .ci/run) and run the tests again.`,
  );
}

// ---------------------------------------------------------------------------------------------
// Terraform

// Loaded through require: the package's typings pull in lib.dom, which would change the types
// of the rest of the project.
type Hcl2Json = { parse(filename: string, contents: string): Promise<HclFile> };
const hcl2json = createRequire(import.meta.url)('@cdktf/hcl2json') as Hcl2Json;

// hcl2json's shape: blocks are arrays of bodies; expressions are strings like "${var.x}".
// biome-ignore lint/suspicious/noExplicitAny: parsed HCL is untyped JSON
export type HclBody = Record<string, any>;
export type HclFile = HclBody;

export function parseHcl(file: string, contents: string): Promise<HclFile> {
  return hcl2json.parse(file, contents);
}

export function listFiles(dir: string, suffix: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir)) {
    if (name === '.terraform' || name === 'node_modules') continue;
    const path = join(dir, name);
    if (statSync(path).isDirectory()) out.push(...listFiles(path, suffix));
    else if (name.endsWith(suffix)) out.push(path);
  }
  return out.sort();
}

export function rel(path: string): string {
  return relative(ROOT, path);
}

/** One Terraform directory (module or root): every .tf file in it, parsed. */
export interface TfDir {
  dir: string;
  files: Record<string, HclFile>;
}

export async function loadTfDir(dir: string): Promise<TfDir> {
  const files: Record<string, HclFile> = {};
  for (const name of readdirSync(dir).filter((n) => n.endsWith('.tf'))) {
    files[name] = await parseHcl(name, readFileSync(join(dir, name), 'utf8'));
  }
  return { dir, files };
}

/** All blocks of one type across a directory's files, e.g. blocks(d, 'variable'). */
export function blocks(tf: TfDir, type: string): Record<string, HclBody> {
  const out: Record<string, HclBody> = {};
  for (const file of Object.values(tf.files)) {
    for (const [name, bodies] of Object.entries(file[type] ?? {})) {
      out[name] = (bodies as HclBody[])[0] ?? {};
    }
  }
  return out;
}

/** resource/data blocks: type → name → body. */
export function typedBlocks(
  tf: TfDir,
  kind: 'resource' | 'data',
): Record<string, Record<string, HclBody>> {
  const out: Record<string, Record<string, HclBody>> = {};
  for (const file of Object.values(tf.files)) {
    for (const [type, byName] of Object.entries(file[kind] ?? {})) {
      out[type] ??= {};
      for (const [name, bodies] of Object.entries(byName as Record<string, HclBody[]>)) {
        out[type][name] = bodies[0] ?? {};
      }
    }
  }
  return out;
}

export function locals(tf: TfDir): HclBody {
  const out: HclBody = {};
  for (const file of Object.values(tf.files)) {
    for (const body of (file.locals ?? []) as HclBody[]) Object.assign(out, body);
  }
  return out;
}

/** Every string inside a parsed value (expressions included), depth first. */
export function strings(value: unknown): string[] {
  if (typeof value === 'string') return [value];
  if (Array.isArray(value)) return value.flatMap(strings);
  if (value && typeof value === 'object') {
    return Object.entries(value).flatMap(([k, v]) => [
      ...(k.includes('${') ? [k] : []),
      ...strings(v),
    ]);
  }
  return [];
}

/** Names matched by `pattern` (group 1, or groups 1+2 joined by '.') inside expressions only. */
export function references(value: unknown, pattern: RegExp): string[] {
  const found = new Set<string>();
  for (const s of strings(value)) {
    if (!s.includes('${')) continue;
    for (const m of s.matchAll(pattern)) found.add(m.slice(1).filter(Boolean).join('.'));
  }
  return [...found].sort();
}

export const VAR_REF = /(?<![\w.])var\.([A-Za-z_][\w-]*)/g;
export const MODULE_OUTPUT_REF = /(?<![\w.])module\.([A-Za-z_][\w-]*)\.([A-Za-z_][\w-]*)/g;

/** Terraform's cidrsubnet for IPv4. */
export function cidrsubnet(prefix: string, newbits: number, netnum: number): string {
  const [ip, len] = prefix.split('/') as [string, string];
  const base = ip.split('.').reduce((acc, o) => acc * 256 + Number(o), 0);
  const newLen = Number(len) + newbits;
  const addr = base + netnum * 2 ** (32 - newLen);
  const octets = [24, 16, 8, 0].map((shift) => Math.floor(addr / 2 ** shift) % 256);
  return `${octets.join('.')}/${newLen}`;
}

// ---------------------------------------------------------------------------------------------
// Kubernetes

export interface K8sObject {
  apiVersion: string;
  kind: string;
  metadata: {
    name: string;
    namespace?: string;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
  };
  // biome-ignore lint/suspicious/noExplicitAny: manifests are checked field by field in the tests
  [field: string]: any;
}

/** YAML (one or many documents) → objects, converted by kubectl offline (no YAML parser here). */
export function yamlToObjects(yaml: string): K8sObject[] {
  const out = execFileSync(
    'kubectl',
    ['patch', '--local', '-f', '-', '--type', 'merge', '-p', '{}', '-o', 'jsonpath={@}{"\\n"}'],
    { input: yaml, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 },
  );
  return out
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => JSON.parse(line) as K8sObject);
}

export function kustomize(dir: string, loadRestrictorNone = false): string {
  const args = ['kustomize', dir];
  if (loadRestrictorNone) args.push('--load-restrictor', 'LoadRestrictionsNone');
  return execFileSync('kubectl', args, { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
}

export function render(dir: string, loadRestrictorNone = false): K8sObject[] {
  return yamlToObjects(kustomize(dir, loadRestrictorNone));
}

export function find(objects: K8sObject[], kind: string, name: string): K8sObject {
  const found = objects.find((o) => o.kind === kind && o.metadata.name === name);
  if (!found) throw new Error(`no ${kind} ${name} among ${objects.length} objects`);
  return found;
}

/** Generated ConfigMaps/Secrets carry a hash suffix: find by the name before it. */
export function findGenerated(objects: K8sObject[], kind: string, name: string): K8sObject {
  const found = objects.find(
    (o) => o.kind === kind && new RegExp(`^${name}-[a-z0-9]{10}$`).test(o.metadata.name),
  );
  if (!found) throw new Error(`no generated ${kind} ${name}-<hash>`);
  return found;
}

/** The Worker secret bindings the edge module declares (its `worker_secrets` local): name → expression. */
export function workerSecretBindings(edge: TfDir): Record<string, string> {
  const expr = String(locals(edge).worker_secrets ?? '');
  return Object.fromEntries(
    [...expr.matchAll(/^\s*([A-Z][A-Z0-9_]*)\s*=\s*(\S+)\s*$/gm)].map((m) => [m[1], m[2]]),
  );
}

/**
 * A small reader for wrangler.toml: the top level and each [env.<name>] with their string values,
 * string arrays and [vars] / [triggers] tables. Enough for name, vars, crons, compatibility.
 */
export interface WranglerEnv {
  values: Record<string, string | string[]>;
  vars: Record<string, string>;
  crons: string[];
  /** [[array.of.tables]] by name (e.g. `queues.consumers`, `hyperdrive`), each entry's values. */
  arrays: Record<string, Record<string, string | string[]>[]>;
}

export function readWranglerToml(text: string): Record<string, WranglerEnv> {
  const envs: Record<string, WranglerEnv> = {};
  const env = (name: string) => {
    envs[name] ??= { values: {}, vars: {}, crons: [], arrays: {} };
    return envs[name];
  };
  let current = env('');
  let table = '';
  let entry: Record<string, string | string[]> | undefined;
  for (const raw of text.split('\n')) {
    const line = raw.replace(/\s+#.*$/, '').trim();
    if (line === '' || line.startsWith('#')) continue;
    // [table] and [[array.of.tables]] (queue producers, hyperdrive bindings): their keys are
    // not vars.
    const header = /^\[\[?([\w.-]+)\]\]?$/.exec(line);
    if (header) {
      const parts = (header[1] as string).split('.');
      if (parts[0] === 'env' && parts[1]) {
        current = env(parts[1]);
        table = parts.slice(2).join('.');
      } else {
        current = env('');
        table = parts.join('.');
      }
      entry = undefined;
      if (line.startsWith('[[')) {
        entry = {};
        const entries = current.arrays[table] ?? [];
        entries.push(entry);
        current.arrays[table] = entries;
      }
      continue;
    }
    const kv = /^([\w-]+)\s*=\s*(.+)$/.exec(line);
    if (!kv) continue;
    const [, key, rawValue] = kv as unknown as [string, string, string];
    const value: string | string[] = rawValue.startsWith('[')
      ? [...rawValue.matchAll(/"([^"]*)"/g)].map((m) => m[1] as string)
      : rawValue.replace(/^"(.*)"$/, '$1');
    if (entry) entry[key] = value;
    else if (table === 'vars' && typeof value === 'string') current.vars[key] = value;
    else if (table === 'triggers' && key === 'crons' && Array.isArray(value)) current.crons = value;
    else if (table === '') current.values[key] = value;
  }
  return envs;
}

export const WORKLOAD_KINDS = new Set(['Deployment', 'StatefulSet', 'DaemonSet', 'Job']);

// ---------------------------------------------------------------------------------------------
// What a pod may reach, and what its containers see

function ipv4(ip: string): number {
  return ip.split('.').reduce((acc, o) => acc * 256 + Number(o), 0);
}

/** Whether an IPv4 address lies in a CIDR block. */
export function inCidr(ip: string, cidr: string): boolean {
  const [base, len] = cidr.split('/') as [string, string];
  if (base.includes(':') || ip.includes(':')) return false;
  const size = 2 ** (32 - Number(len));
  return Math.floor(ipv4(ip) / size) === Math.floor(ipv4(base) / size);
}

function selects(
  selector: { matchLabels?: Record<string, string> } | undefined,
  labels: Record<string, string>,
): boolean {
  return Object.entries(selector?.matchLabels ?? {}).every(([k, v]) => labels[k] === v);
}

/**
 * Whether the NetworkPolicies among `objects` let a pod with these labels open a connection to
 * an address outside the cluster (ipBlock peers only: pod and namespace peers never match it).
 * Pods no Egress policy selects may go anywhere; otherwise some rule of a selecting policy must
 * allow the address and the port. matchExpressions and named ports are not modelled.
 */
export function egressAllowed(
  objects: K8sObject[],
  podLabels: Record<string, string>,
  ip: string,
  port: number,
  protocol = 'TCP',
): boolean {
  const policies = objects.filter(
    (o) =>
      o.kind === 'NetworkPolicy' &&
      (o.spec.policyTypes ?? ['Ingress']).includes('Egress') &&
      selects(o.spec.podSelector, podLabels),
  );
  if (policies.length === 0) return true;
  type Peer = { ipBlock?: { cidr: string; except?: string[] } };
  type Port = { protocol?: string; port?: number | string; endPort?: number };
  return policies.some((p) =>
    ((p.spec.egress ?? []) as { to?: Peer[]; ports?: Port[] }[]).some((rule) => {
      const portOk =
        !rule.ports?.length ||
        rule.ports.some(
          (r) =>
            (r.protocol ?? 'TCP') === protocol &&
            (r.port === undefined ||
              (typeof r.port === 'number' && port >= r.port && port <= (r.endPort ?? r.port))),
        );
      const peerOk =
        !rule.to?.length ||
        rule.to.some(
          (peer) =>
            peer.ipBlock !== undefined &&
            inCidr(ip, peer.ipBlock.cidr) &&
            !(peer.ipBlock.except ?? []).some((c) => inCidr(ip, c)),
        );
      return portOk && peerOk;
    }),
  );
}

/**
 * The environment a container gets from its `env` values and `envFrom` ConfigMaps, as rendered
 * (later entries win, `env` over `envFrom`, as in Kubernetes). Secret and field references are
 * left out.
 */
export function containerEnv(
  objects: K8sObject[],
  container: {
    env?: { name: string; value?: string }[];
    envFrom?: { configMapRef?: { name: string } }[];
  },
): Record<string, string> {
  const out: Record<string, string> = {};
  for (const from of container.envFrom ?? []) {
    if (!from.configMapRef) continue;
    Object.assign(out, find(objects, 'ConfigMap', from.configMapRef.name).data);
  }
  for (const e of container.env ?? []) if (e.value !== undefined) out[e.name] = e.value;
  return out;
}

/** S3's rules for a bucket name (general purpose buckets). */
export const S3_BUCKET_NAME = /^(?!xn--|sthree-)(?!.*\.\.)[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;
/** An AWS region name, e.g. eu-west-1. */
export const AWS_REGION_NAME = /^[a-z]{2}(-gov)?-[a-z]+-\d$/;
