// Terraform: what can be checked without providers (terraform validate cannot run here).
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join, relative, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  AWS_REGION_NAME,
  blocks,
  cidrsubnet,
  containerEnv,
  find,
  type HclBody,
  listFiles,
  loadTfDir,
  locals,
  MODULE_OUTPUT_REF,
  parseHcl,
  REGION_KEYS,
  REGIONS,
  type RegionKey,
  readWranglerToml,
  references,
  rel,
  render,
  requireTool,
  S3_BUCKET_NAME,
  TF_ROOT,
  type TfDir,
  typedBlocks,
  VAR_REF,
  type WranglerEnv,
  workerSecretBindings,
} from './lib.ts';

const MODULES = ['edge', 'upstash', 'regional-origin', 'usage-events'];
const MODULE_DIRS = MODULES.map((m) => join(TF_ROOT, 'modules', m));
const ENV_DIRS = [join(TF_ROOT, 'envs', 'prod')];
const META_ARGS = new Set(['source', 'version', 'providers', 'depends_on', 'count', 'for_each']);

const dirs = new Map<string, TfDir>();
const tf = (dir: string): TfDir => {
  const loaded = dirs.get(dir);
  if (!loaded) throw new Error(`${rel(dir)} not loaded`);
  return loaded;
};

beforeAll(async () => {
  for (const dir of [...MODULE_DIRS, ...ENV_DIRS]) dirs.set(dir, await loadTfDir(dir));
});

/** The value an expression string stands for when it is exactly one reference: "${x}" → "x". */
const bare = (expr: unknown): string | undefined =>
  typeof expr === 'string' ? /^\$\{([^{}]+)\}$/.exec(expr)?.[1] : undefined;

describe('every .tf file', () => {
  const files = listFiles(TF_ROOT, '.tf');

  it('exists where expected (4 modules, 1 environment root)', () => {
    expect(files.length).toBeGreaterThanOrEqual(20);
  });

  it.each(files.map((f) => [rel(f), f]))('%s parses with @cdktf/hcl2json', async (_name, file) => {
    const parsed = await parseHcl(basename(file), readFileSync(file, 'utf8'));
    expect(Object.keys(parsed).length).toBeGreaterThan(0);
  });

  it('parse errors are detected (the parser is not lenient)', async () => {
    await expect(parseHcl('broken.tf', 'resource "a" "b" {\n  x = \n')).rejects.toThrow();
  });

  it('terraform fmt -check -recursive infra/terraform exits 0', () => {
    requireTool('terraform');
    const result = spawnSync('terraform', ['fmt', '-check', '-recursive', '-list=true', TF_ROOT], {
      encoding: 'utf8',
      env: { ...process.env, CHECKPOINT_DISABLE: '1' },
    });
    expect(result.stdout.trim(), `files terraform fmt would change:\n${result.stdout}`).toBe('');
    expect(result.status).toBe(0);
  });
});

describe('module structure', () => {
  it.each(MODULES)(
    'modules/%s has main.tf, variables.tf, outputs.tf, versions.tf and a README',
    (m) => {
      for (const f of ['main.tf', 'variables.tf', 'outputs.tf', 'versions.tf', 'README.md']) {
        expect(existsSync(join(TF_ROOT, 'modules', m, f)), `${m}/${f}`).toBe(true);
      }
    },
  );

  it('infra/terraform/README.md documents init, plan, apply, remote state and that validate cannot run here', () => {
    const readme = readFileSync(join(TF_ROOT, 'README.md'), 'utf8');
    for (const text of [
      'terraform init',
      'terraform plan',
      'terraform apply',
      'backend-config',
      'validate',
    ]) {
      expect(readme).toContain(text);
    }
  });
});

describe('required_version', () => {
  const minimum = (dir: string): [number, number] | undefined => {
    for (const file of Object.values(tf(dir).files)) {
      for (const t of (file.terraform ?? []) as HclBody[]) {
        const m = /^>=\s*(\d+)\.(\d+)/.exec(String(t.required_version ?? ''));
        if (m) return [Number(m[1]), Number(m[2])];
      }
    }
    return undefined;
  };

  it('envs/prod requires a Terraform with what its README uses (use_lockfile: S3 locking, 1.11), and the README says the same', () => {
    const readme = readFileSync(join(TF_ROOT, 'README.md'), 'utf8');
    const [major, minor] = minimum(ENV_DIRS[0] as string) ?? [0, 0];
    const atLeast = (a: number, b: number) => major > a || (major === a && minor >= b);
    if (readme.includes('use_lockfile')) expect(atLeast(1, 11), `>= ${major}.${minor}`).toBe(true);
    // The README's prerequisite is the same version as the constraint.
    expect(readme).toContain(`Terraform ≥ ${major}.${minor}`);
    expect(readme.match(/Terraform ≥ \d+\.\d+/g)).toEqual([`Terraform ≥ ${major}.${minor}`]);
  });
});

describe('required_providers', () => {
  const versionsOf = (dir: string): Record<string, { source?: string; version?: string }> => {
    const out: Record<string, { source?: string; version?: string }> = {};
    for (const file of Object.values(tf(dir).files)) {
      for (const t of (file.terraform ?? []) as HclBody[]) {
        for (const rp of (t.required_providers ?? []) as HclBody[]) Object.assign(out, rp);
      }
    }
    return out;
  };

  it.each([...MODULE_DIRS, ...ENV_DIRS].map((d) => [rel(d), d]))(
    '%s pins a version for every provider',
    (_n, dir) => {
      const providers = versionsOf(dir);
      expect(Object.keys(providers).length).toBeGreaterThan(0);
      for (const [name, p] of Object.entries(providers)) {
        expect(p.source, `${name}.source`).toMatch(/^[\w-]+\/[\w-]+$/);
        // "~> X.Y", "= X.Y.Z" or "X.Y.Z": an upper bound, never a bare ">=".
        expect(p.version, `${name}.version`).toMatch(
          /^(~>\s*\d+\.\d+(\.\d+)?|=?\s*\d+\.\d+\.\d+)$/,
        );
      }
    },
  );

  it('the environment root declares every provider its modules need, with the same constraint', () => {
    const root = versionsOf(ENV_DIRS[0] as string);
    for (const dir of MODULE_DIRS) {
      for (const [name, p] of Object.entries(versionsOf(dir))) {
        expect(root[name], `${name} (needed by ${rel(dir)})`).toEqual(p);
      }
    }
  });

  it('the Cloudflare provider is v5 and Upstash is upstash/upstash', () => {
    const root = versionsOf(ENV_DIRS[0] as string);
    expect(root.cloudflare?.source).toBe('cloudflare/cloudflare');
    expect(root.cloudflare?.version).toMatch(/^~>\s*5\./);
    expect(root.upstash?.source).toBe('upstash/upstash');
  });

  it.each(MODULE_DIRS.map((d) => [rel(d), d]))(
    '%s pins every registry module to an exact version',
    (_n, dir) => {
      for (const [name, m] of Object.entries(blocks(tf(dir), 'module'))) {
        if (String(m.source).startsWith('.')) continue;
        expect(m.version, `module ${name}`).toMatch(/^\d+\.\d+\.\d+$/);
      }
    },
  );
});

describe('variables', () => {
  it.each([...MODULE_DIRS, ...ENV_DIRS].map((d) => [rel(d), d]))(
    '%s: every var.X used is declared and every declared variable is used',
    (_n, dir) => {
      const declared = Object.keys(blocks(tf(dir), 'variable'));
      const used = references(Object.values(tf(dir).files), VAR_REF);
      expect(used.length).toBeGreaterThan(0);
      expect(
        used.filter((v) => !declared.includes(v)),
        'used but not declared',
      ).toEqual([]);
      expect(
        declared.filter((v) => !used.includes(v)),
        'declared but never used',
      ).toEqual([]);
    },
  );

  it('secrets are sensitive variables', () => {
    const edge = blocks(tf(join(TF_ROOT, 'modules', 'edge')), 'variable');
    for (const name of [
      'openai_api_key',
      'azure_openai_api_key',
      'upstash_redis',
      'origin_signing_keys',
      'admin_token',
    ]) {
      expect(edge[name]?.sensitive, name).toBe(true);
    }
    const root = blocks(tf(ENV_DIRS[0] as string), 'variable');
    for (const name of [
      'upstash_api_key',
      'openai_api_key',
      'azure_openai_api_key',
      'origin_signing_keys',
      'admin_token',
    ]) {
      expect(root[name]?.sensitive, name).toBe(true);
    }
  });
});

describe('module calls and outputs', () => {
  const callsIn = (dir: string) =>
    Object.entries(blocks(tf(dir), 'module')).filter(([, m]) => String(m.source).startsWith('.'));

  it.each(ENV_DIRS.map((d) => [rel(d), d]))(
    '%s: every module call passes only declared inputs and all required ones',
    (_n, dir) => {
      const calls = callsIn(dir);
      expect(calls.length).toBe(7);
      for (const [name, call] of calls) {
        const target = resolve(dir, String(call.source));
        const variables = blocks(tf(target), 'variable');
        const passed = Object.keys(call).filter((k) => !META_ARGS.has(k));
        const required = Object.entries(variables)
          .filter(([, v]) => !('default' in v))
          .map(([k]) => k);
        expect(
          passed.filter((k) => !(k in variables)),
          `module.${name}: unknown inputs`,
        ).toEqual([]);
        expect(
          required.filter((k) => !passed.includes(k)),
          `module.${name}: missing required inputs`,
        ).toEqual([]);
      }
    },
  );

  it.each(ENV_DIRS.map((d) => [rel(d), d]))(
    '%s: every module.X.Y names a module of this root and an output of it',
    (_n, dir) => {
      const modules = Object.fromEntries(callsIn(dir));
      const refs = references(Object.values(tf(dir).files), MODULE_OUTPUT_REF);
      expect(refs.length).toBeGreaterThan(10);
      for (const ref of refs) {
        const [mod, output] = ref.split('.') as [string, string];
        const call = modules[mod];
        expect(call, `module.${mod} is not declared`).toBeDefined();
        const outputs = blocks(tf(resolve(dir, String(call?.source))), 'output');
        expect(Object.keys(outputs), `module.${mod}.${output}`).toContain(output);
      }
    },
  );

  it('the production root instantiates edge once, regional-origin three times, upstash for the global and the EU Worker, usage-events once', () => {
    const sources = callsIn(ENV_DIRS[0] as string).map(([, m]) => basename(String(m.source)));
    expect(sources.sort()).toEqual([
      'edge',
      'regional-origin',
      'regional-origin',
      'regional-origin',
      'upstash',
      'upstash',
      'usage-events',
    ]);
    // The EU database keeps its primary and replicas in the EU.
    const eu = blocks(tf(ENV_DIRS[0] as string), 'module').upstash_eu as HclBody;
    expect(eu.primary_region).toMatch(/^eu-/);
    expect((eu.read_regions as string[]).every((r) => r.startsWith('eu-'))).toBe(true);
  });

  it('each regional origin gets its own aliased AWS provider, in its own region, and its own overlay', () => {
    const root = tf(ENV_DIRS[0] as string);
    const awsAliases = new Map<string, string>();
    for (const file of Object.values(root.files)) {
      for (const p of (file.provider?.aws ?? []) as HclBody[])
        awsAliases.set(String(p.alias), String(p.region));
    }
    const seen = new Set<string>();
    for (const [name, call] of callsIn(root.dir).filter(([, m]) =>
      String(m.source).endsWith('regional-origin'),
    )) {
      const key = call.region_key as keyof typeof REGIONS;
      expect(REGION_KEYS, `module.${name}.region_key`).toContain(key);
      const region = REGIONS[key];
      expect(call.aws_region, `module.${name}.aws_region`).toBe(region.awsRegion);
      expect(call.residency_zone, `module.${name}.residency_zone`).toBe(region.residencyZone);
      const alias = bare(call.providers?.aws)?.replace(/^aws\./, '');
      expect(alias, `module.${name} providers.aws`).toBeDefined();
      expect(awsAliases.get(alias as string), `provider aws.${alias} region`).toBe(
        region.awsRegion,
      );
      for (const p of ['helm', 'kustomization']) {
        expect(bare(call.providers?.[p]), `module.${name} providers.${p}`).toBe(`${p}.${alias}`);
      }
      expect(String(call.kustomize_overlay_path)).toMatch(new RegExp(`/k8s/overlays/${key}$`));
      seen.add(alias as string);
    }
    expect(seen.size).toBe(3);
  });

  it('the router image is one setting: var.origin_image, passed to every region, named as origin-image.yml pushes it', () => {
    const root = tf(ENV_DIRS[0] as string);
    const calls = callsIn(root.dir).filter(([, m]) => String(m.source).endsWith('regional-origin'));
    expect(calls).toHaveLength(3);
    for (const [name, call] of calls) {
      expect(bare(call.origin_image), `module.${name}.origin_image`).toBe('var.origin_image');
      expect(bare(call.origin_image_pull_username)).toBe('var.origin_image_pull_username');
      expect(bare(call.origin_image_pull_token)).toBe('var.origin_image_pull_token');
    }
    const variables = blocks(root, 'variable');
    expect('default' in (variables.origin_image ?? {}), 'origin_image has no default').toBe(false);
    expect(variables.origin_image_pull_token?.sensitive).toBe(true);
    // The workflow pushes ghcr.io/<repository owner>/<name>; the example names the same image.
    const workflow = readFileSync(
      join(TF_ROOT, '..', '..', '.github', 'workflows', 'origin-image.yml'),
      'utf8',
    );
    const pushed = /IMAGE: ghcr\.io\/\$\{\{ github\.repository_owner \}\}\/([\w.-]+)/.exec(
      workflow,
    )?.[1];
    expect(pushed).toBe('llm-gateway-origin');
    const example = readFileSync(join(root.dir, 'terraform.tfvars.example'), 'utf8');
    expect(example).toMatch(
      new RegExp(`^origin_image\\s*=\\s*"ghcr\\.io/[a-z0-9-]+/${pushed}"$`, 'm'),
    );
    // The module wires it into the overlay's images, for the name the base Deployment uses.
    const ds = typedBlocks(tf(join(TF_ROOT, 'modules', 'regional-origin')), 'data')
      .kustomization_overlay?.origin as HclBody;
    expect(ds.images).toEqual([{ name: 'llm-gateway-origin', new_name: '${var.origin_image}' }]);
  });

  it('Upstash REST URL and token are sensitive outputs wired into the edge Worker secrets', () => {
    const outputs = blocks(tf(join(TF_ROOT, 'modules', 'upstash')), 'output');
    expect(outputs.rest_url?.sensitive).toBe(true);
    expect(outputs.rest_token?.sensitive).toBe(true);
    const edge = blocks(tf(ENV_DIRS[0] as string), 'module').edge as HclBody;
    expect(Object.keys(edge.upstash_redis).sort()).toEqual(Object.keys(edge.workers).sort());
    expect(bare(edge.upstash_redis.global.rest_url)).toBe('module.upstash.rest_url');
    expect(bare(edge.upstash_redis.global.rest_token)).toBe('module.upstash.rest_token');
    expect(bare(edge.upstash_redis.eu.rest_url)).toBe('module.upstash_eu.rest_url');
    expect(bare(edge.upstash_redis.eu.rest_token)).toBe('module.upstash_eu.rest_token');
  });
});

describe('edge module', () => {
  const edge = () => tf(join(TF_ROOT, 'modules', 'edge'));

  it('uses Cloudflare provider v5 resource types only', () => {
    // From cloudflare/terraform-provider-cloudflare docs/resources at v5.22.0 (commit a2efdc57).
    const v5 = new Set([
      'cloudflare_workers_script',
      'cloudflare_workers_route',
      'cloudflare_workers_custom_domain',
      'cloudflare_workers_kv_namespace',
      'cloudflare_dns_record',
      'cloudflare_load_balancer',
      'cloudflare_load_balancer_pool',
      'cloudflare_load_balancer_monitor',
      'cloudflare_authenticated_origin_pulls',
      'cloudflare_authenticated_origin_pulls_hostname_certificate',
      'cloudflare_authenticated_origin_pulls_settings',
      'cloudflare_authenticated_origin_pulls_certificate',
      'cloudflare_origin_ca_certificate',
      'cloudflare_zone_setting',
      'cloudflare_workers_cron_trigger',
      'cloudflare_regional_hostname',
    ]);
    const used = Object.keys(typedBlocks(edge(), 'resource')).filter((t) =>
      t.startsWith('cloudflare_'),
    );
    expect(used.length).toBeGreaterThanOrEqual(8);
    expect(used.filter((t) => !v5.has(t))).toEqual([]);
    for (const t of [
      'cloudflare_workers_script',
      'cloudflare_dns_record',
      'cloudflare_load_balancer',
      'cloudflare_load_balancer_pool',
      'cloudflare_load_balancer_monitor',
    ]) {
      expect(used).toContain(t);
    }
  });

  it('binds exactly the six Worker secrets, each as secret_text from a sensitive variable', () => {
    const secrets = workerSecretBindings(edge());
    expect(Object.keys(secrets).sort()).toEqual(
      [
        'ADMIN_TOKEN',
        'AZURE_OPENAI_API_KEY',
        'OPENAI_API_KEY',
        'ORIGIN_SIGNING_KEYS',
        'UPSTASH_REDIS_REST_TOKEN',
        'UPSTASH_REDIS_REST_URL',
      ].sort(),
    );
    const variables = blocks(edge(), 'variable');
    for (const [name, value] of Object.entries(secrets)) {
      const v = /^var\.(\w+)/.exec(value)?.[1] ?? '';
      expect(variables[v]?.sensitive, `${name} ← ${value}`).toBe(true);
    }
    const script = typedBlocks(edge(), 'resource').cloudflare_workers_script?.gateway as HclBody;
    expect(bare(script.bindings)).toBe('local.worker_bindings[each.key]');
    const bindings = String(locals(edge()).worker_bindings);
    expect(bindings).toMatch(
      /type\s*=\s*"secret_text",\s*text\s*=\s*local\.worker_secrets\[key\]\[name\]/,
    );
    expect(bindings).toMatch(/for name in sort\(keys\(local\.worker_secrets\[key\]\)\)/);
  });

  it("the production Workers are wrangler.toml's environments (name, vars, crons, compatibility)", () => {
    const wrangler = readWranglerToml(
      readFileSync(join(TF_ROOT, '..', '..', 'wrangler.toml'), 'utf8'),
    );
    const top = wrangler[''] as WranglerEnv;
    const edge = blocks(tf(ENV_DIRS[0] as string), 'module').edge as HclBody;
    expect(edge.compatibility_date).toBe(top.values.compatibility_date);
    expect(edge.compatibility_flags).toEqual(top.values.compatibility_flags);
    const workers = edge.workers as Record<string, HclBody>;
    const envNames = Object.keys(wrangler).filter((e) => e !== '');
    // One Worker for the top level ("global") and one per [env.*], under the same name.
    expect(Object.keys(workers).sort()).toEqual(['global', ...envNames].sort());
    for (const [key, worker] of Object.entries(workers)) {
      const env = wrangler[key === 'global' ? '' : key] as WranglerEnv;
      const name = env.values.name ?? `${top.values.name}-${key}`;
      expect(worker.script_name, key).toBe(name);
      // Environments do not inherit vars or triggers in wrangler.
      expect(worker.vars ?? {}, `${key} vars`).toEqual(env.vars);
      expect(worker.crons ?? [], `${key} crons`).toEqual(env.crons);
      expect(String(worker.bundle_path), key).toMatch(/\/gateway\.js$/);
    }
  });

  it("the EU Worker and the EU origin are pinned to Cloudflare's EU region", () => {
    const root = tf(ENV_DIRS[0] as string);
    const edgeCall = blocks(root, 'module').edge as HclBody;
    expect(edgeCall.workers.eu.regional_services).toBe('eu');
    expect(locals(root).origins['eu-west'].regional_services).toBe('eu');
    expect(typedBlocks(edge(), 'resource').cloudflare_regional_hostname).toBeDefined();
  });

  it('health monitors probe /health/ready and the load balancer steers by geography', () => {
    const resources = typedBlocks(edge(), 'resource');
    expect(resources.cloudflare_load_balancer_monitor?.origin?.path).toBe('/health/ready');
    const lb = resources.cloudflare_load_balancer?.origins as HclBody;
    expect(lb.steering_policy).toBe('geo');
    expect(lb.region_pools).toBeDefined();
    expect(lb.country_pools).toBeDefined();
  });

  it("health monitors accept the health listener's certificate (Cloudflare Origin CA, not publicly trusted)", () => {
    // The 8443 listener serves the certificate imported from the edge module's Origin CA cert,
    // which only Cloudflare's proxy trusts: a monitor that verifies it marks every pool down.
    const ro = tf(join(TF_ROOT, 'modules', 'regional-origin'));
    const listener = typedBlocks(ro, 'resource').aws_lb_listener?.health as HclBody;
    expect(listener.port).toBe(8443);
    const certRef = /^aws_acm_certificate\.(\w+)\.arn$/.exec(bare(listener.certificate_arn) ?? '');
    const cert = typedBlocks(ro, 'resource').aws_acm_certificate?.[certRef?.[1] ?? ''] as HclBody;
    const imported = bare(cert?.certificate_body) === 'var.origin_tls_certificate_pem';
    const monitor = typedBlocks(edge(), 'resource').cloudflare_load_balancer_monitor
      ?.origin as HclBody;
    expect(imported || !('certificate_body' in (cert ?? {})), 'health listener certificate').toBe(
      true,
    );
    if (imported) expect(monitor.allow_insecure, 'monitor.allow_insecure').toBe(true);
    // It is only the health path: the monitor probes /health/ready, which is all 8443 forwards.
    expect(monitor.path).toBe('/health/ready');
    expect(bare(monitor.port)).toBe('var.origin_health_port');
    const rule = typedBlocks(ro, 'resource').aws_lb_listener_rule?.health as HclBody;
    expect(rule.condition[0].path_pattern[0].values).toEqual(['/health/ready']);
    const readme = readFileSync(join(TF_ROOT, 'modules', 'edge', 'README.md'), 'utf8');
    expect(readme).toMatch(/allow_insecure/);
  });

  it('origins get per-hostname authenticated origin pulls (mTLS)', () => {
    const resources = typedBlocks(edge(), 'resource');
    const aop = resources.cloudflare_authenticated_origin_pulls?.origin as HclBody;
    expect(JSON.stringify(aop.config)).toContain('"enabled":true');
    expect(resources.cloudflare_authenticated_origin_pulls_hostname_certificate).toBeDefined();
  });

  it('the production steering covers every origin and fails over only to other origins', () => {
    const origins = locals(tf(ENV_DIRS[0] as string)).origins as Record<string, HclBody>;
    expect(Object.keys(origins).sort()).toEqual([...REGION_KEYS].sort());
    for (const [key, o] of Object.entries(origins)) {
      expect(o.steering_regions.length, key).toBeGreaterThan(0);
      expect(
        o.failover.every((f: string) => f !== key && f in origins),
        key,
      ).toBe(true);
    }
    // EU health checks run from Europe.
    expect(origins['eu-west']?.check_regions.every((r: string) => ['WEU', 'EEU'].includes(r))).toBe(
      true,
    );
  });
});

describe('usage-events module', () => {
  const usage = () => tf(join(TF_ROOT, 'modules', 'usage-events'));
  const root = () => tf(ENV_DIRS[0] as string);
  const REPO = join(TF_ROOT, '..', '..');
  const gatewayToml = () => readWranglerToml(readFileSync(join(REPO, 'wrangler.toml'), 'utf8'));
  const consumerToml = () =>
    readWranglerToml(readFileSync(join(REPO, 'workers', 'usage-consumer.wrangler.toml'), 'utf8'));
  const pipelines = () =>
    (blocks(root(), 'module').usage_events as HclBody).pipelines as Record<string, HclBody>;

  it('creates the queues, their consumers and the Hyperdrive configs with v5 resource types', () => {
    // From cloudflare/terraform-provider-cloudflare internal/services/{queue,queue_consumer,
    // hyperdrive_config}/schema.go (v5): queue_name + jurisdiction; queue_id, type,
    // script_name, dead_letter_queue, settings; name, origin, caching.
    const resources = typedBlocks(usage(), 'resource');
    expect(Object.keys(resources).sort()).toEqual([
      'cloudflare_hyperdrive_config',
      'cloudflare_queue',
      'cloudflare_queue_consumer',
    ]);
    const queue = resources.cloudflare_queue?.usage as HclBody;
    expect(Object.keys(queue).sort()).toEqual(
      ['account_id', 'for_each', 'jurisdiction', 'queue_name'].sort(),
    );
    const consumer = resources.cloudflare_queue_consumer?.usage as HclBody;
    expect(consumer.type).toBe('worker');
    expect(bare(consumer.for_each)).toBe('local.consumers');
    expect(String(consumer.dead_letter_queue)).toMatch(
      /cloudflare_queue\.usage\[each\.value\.dead_letter_queue\]\.queue_name/,
    );
    expect(Object.keys(consumer.settings).sort()).toEqual(
      ['batch_size', 'max_retries', 'max_wait_time_ms'].sort(),
    );
    // Every queue has its consumer: the events queue's dead-letters to its -dlq, the -dlq's nowhere.
    const consumers = String(locals(usage()).consumers);
    expect(consumers).toMatch(/\(key\)\s*=\s*\{[^}]*dead_letter_queue\s*=\s*"\$\{key\}-dlq"/);
    expect(consumers).toMatch(/"\$\{key\}-dlq"\s*=\s*\{[^}]*dead_letter_queue\s*=\s*null/);
    const hyperdrive = resources.cloudflare_hyperdrive_config?.usage as HclBody;
    expect(hyperdrive.origin.scheme).toBe('postgres');
    expect(bare(hyperdrive.origin.password)).toBe('var.database_passwords[each.key]');
    expect(blocks(usage(), 'variable').database_passwords?.sensitive).toBe(true);
    expect(blocks(root(), 'variable').usage_database_passwords?.sensitive).toBe(true);
  });

  it("the EU pipeline's queues are created in the EU jurisdiction, the global one's not", () => {
    const p = pipelines();
    expect(Object.keys(p).sort()).toEqual(['eu', 'global']);
    expect(p.eu?.jurisdiction).toBe('eu');
    expect(p.global?.jurisdiction).toBeUndefined();
    // The dead-letter queue inherits its pipeline's jurisdiction.
    const queues = String(locals(usage()).queues);
    expect(queues).toMatch(
      /"\$\{key\}-dlq"\s*=\s*\{\s*name\s*=\s*"\$\{p\.queue_name\}-dlq",\s*jurisdiction\s*=\s*p\.jurisdiction/,
    );
    const queue = typedBlocks(usage(), 'resource').cloudflare_queue?.usage as HclBody;
    expect(bare(queue.jurisdiction)).toBe('each.value.jurisdiction');
  });

  it("queues and consumers are the consumer wrangler.toml's, with its settings", () => {
    const consumer = consumerToml();
    const p = pipelines();
    const settings = blocks(usage(), 'variable').consumer_settings?.default as Record<
      'events' | 'dead_letters',
      Record<string, number>
    >;
    for (const [key, env] of [
      ['global', ''],
      ['eu', 'eu'],
    ] as const) {
      const toml = consumer[env] as WranglerEnv;
      const top = consumer[''] as WranglerEnv;
      expect(p[key]?.consumer_script, key).toBe(toml.values.name ?? top.values.name);
      const [events, deadLetters] = toml.arrays['queues.consumers'] ?? [];
      expect(events?.queue, key).toBe(p[key]?.queue_name);
      expect(events?.dead_letter_queue, key).toBe(`${p[key]?.queue_name}-dlq`);
      expect(deadLetters?.queue, key).toBe(`${p[key]?.queue_name}-dlq`);
      for (const [own, table] of [
        [settings.events, events],
        [settings.dead_letters, deadLetters],
      ] as const) {
        expect(own, key).toEqual({
          batch_size: Number(table?.max_batch_size),
          max_wait_time_ms: Number(table?.max_batch_timeout) * 1000,
          max_retries: Number(table?.max_retries),
        });
      }
    }
  });

  it("the gateway Workers bind wrangler.toml's queues and their own pipeline's Hyperdrive", () => {
    const workers = (blocks(root(), 'module').edge as HclBody).workers as Record<string, HclBody>;
    const wrangler = gatewayToml();
    const pipelineOf = { global: 'global', eu: 'eu' } as Record<string, string>;
    const queueNames = Object.fromEntries(
      Object.entries(pipelines()).map(([k, v]) => [k, v.queue_name]),
    );
    for (const [key, worker] of Object.entries(workers)) {
      const env = wrangler[key === 'global' ? '' : key] as WranglerEnv;
      const producers = Object.fromEntries(
        (env.arrays['queues.producers'] ?? []).map((q) => [q.binding, q.queue]),
      );
      const bound = Object.fromEntries(
        Object.entries(worker.queues as Record<string, string>).map(([binding, expr]) => [
          binding,
          queueNames[/module\.usage_events\.queue_names\.(\w+)/.exec(expr)?.[1] ?? ''],
        ]),
      );
      expect(bound, key).toEqual(producers);
      expect(Object.keys(producers), key).toEqual(
        expect.arrayContaining(['USAGE_EVENTS', 'USAGE_EVENTS_EU']),
      );
      expect(bare(worker.hyperdrive.USAGE_DB), key).toBe(
        `module.usage_events.hyperdrive_ids.${pipelineOf[key]}`,
      );
      expect(env.arrays.hyperdrive?.[0]?.binding, key).toBe('USAGE_DB');
    }
    // The EU Worker's every queue is the EU pipeline's.
    expect(
      Object.values(workers.eu?.queues as Record<string, string>).every((q) => q.endsWith('.eu}')),
    ).toBe(true);
    const bindings = String(locals(tf(join(TF_ROOT, 'modules', 'edge'))).worker_bindings);
    expect(bindings).toMatch(/type\s*=\s*"queue",\s*queue_name\s*=\s*worker\.queues\[name\]/);
    expect(bindings).toMatch(/type\s*=\s*"hyperdrive",\s*id\s*=\s*worker\.hyperdrive\[name\]/);
  });

  it('the README says how the Hyperdrive ids get into wrangler.toml', () => {
    const readme = readFileSync(join(TF_ROOT, 'README.md'), 'utf8');
    expect(readme).toContain('terraform output -json usage_hyperdrive_ids');
    expect(readme).toContain('workers/usage-consumer.wrangler.toml');
  });
});

describe('regional-origin module', () => {
  const ro = () => tf(join(TF_ROOT, 'modules', 'regional-origin'));

  it('uses the EKS module with a GPU node group (NVIDIA taint) and a CPU node group for the router', () => {
    const eks = blocks(ro(), 'module').eks as HclBody;
    expect(eks.source).toBe('terraform-aws-modules/eks/aws');
    const groups = eks.eks_managed_node_groups as Record<string, HclBody>;
    expect(groups.gpu?.ami_type).toMatch(/NVIDIA/);
    expect(JSON.stringify(groups.gpu?.taints)).toContain('"key":"nvidia.com/gpu"');
    expect(groups.gpu?.labels?.['nvidia.com/gpu.present']).toBe('true');
    expect(groups.router?.labels?.['llm-gateway/node-role']).toBe('router');
  });

  it('the ALB target group is the one the TargetGroupBinding names, checked on /health/ready', () => {
    const tg = typedBlocks(ro(), 'resource').aws_lb_target_group?.router as HclBody;
    const tgb = readFileSync(
      join(TF_ROOT, '..', 'k8s', 'base', 'router', 'targetgroupbinding.yaml'),
      'utf8',
    );
    expect(tgb).toContain(`targetGroupName: ${tg.name}`);
    expect(tg.target_type).toBe('ip');
    expect(tg.health_check?.[0]?.path).toBe('/health/ready');
  });

  it('the HTTPS listener verifies client certificates (mTLS) against the edge CA trust store', () => {
    const listener = typedBlocks(ro(), 'resource').aws_lb_listener?.https as HclBody;
    expect(listener.mutual_authentication?.[0]?.mode).toBe('verify');
    expect(listener.mutual_authentication?.[0]?.trust_store_arn).toContain('aws_lb_trust_store');
  });

  it('the overlays carry the load-balancer CIDR Terraform computes for each region', () => {
    const calls = Object.values(blocks(tf(ENV_DIRS[0] as string), 'module')).filter((m) =>
      String(m.source).endsWith('regional-origin'),
    );
    const local = locals(ro()).load_balancer_source_cidr;
    expect(local).toBe('${cidrsubnet(var.vpc_cidr, 6, 48)}');
    for (const call of calls) {
      const overlay = readFileSync(
        join(TF_ROOT, '..', 'k8s', 'overlays', String(call.region_key), 'kustomization.yaml'),
        'utf8',
      );
      expect(overlay, String(call.region_key)).toContain(
        `value: ${cidrsubnet(String(call.vpc_cidr), 6, 48)}`,
      );
    }
  });
});

// The kustomization_overlay data source of modules/regional-origin, replayed with kubectl: its
// HCL is turned into a kustomization.yaml (Terraform expressions replaced by sample values) over
// each overlay, so the generators, merge behaviour and patch it declares are proven to work.
describe('the Terraform kustomization_overlay, replayed with kubectl kustomize', () => {
  const ORIGIN_IMAGE = 'ghcr.io/acme/llm-gateway-origin';
  const DOCKER_CONFIG = '{"auths":{"ghcr.io":{"auth":"YWNtZTp0b2tlbg=="}}}';
  const samples = (key: RegionKey): Record<string, string> => ({
    'local.model_bucket_name': `test-models-${REGIONS[key].awsRegion}-123456789012`,
    'var.aws_region': REGIONS[key].awsRegion,
    'var.origin_signing_keys': 'k2026:c2VjcmV0',
    'var.origin_image': ORIGIN_IMAGE,
    'local.origin_image_pull_dockerconfigjson': DOCKER_CONFIG,
    'local.load_balancer_source_cidr': '10.99.192.0/22',
  });
  let work: string;
  beforeAll(() => {
    requireTool('kubectl');
    work = mkdtempSync(join(tmpdir(), 'tf-overlay-'));
  });
  afterAll(() => rmSync(work, { recursive: true, force: true }));

  const substitute = (value: string, key: RegionKey, overlayDir: string): string =>
    value.replace(/\$\{([^{}]+)\}/g, (_m, expr: string) => {
      if (expr === 'var.kustomize_overlay_path')
        return relative(dirname(join(work, 'x', 'kustomization.yaml')), overlayDir);
      const sample = samples(key)[expr];
      if (sample === undefined) throw new Error(`no sample value for \${${expr}}`);
      return sample;
    });

  /**
   * A block type's bodies: the static ones, then each `dynamic` one expanded over the sample
   * list its for_each names (`<type>.value` / `<type>.key` replaced by the element / index).
   */
  const bodies = (ds: HclBody, type: string, lists: Record<string, string[]>): HclBody[] => {
    const out = [...((ds[type] ?? []) as HclBody[])];
    for (const d of (ds.dynamic?.[type] ?? []) as HclBody[]) {
      const list = lists[bare(d.for_each) ?? ''];
      if (!list) throw new Error(`dynamic "${type}": no sample list for ${d.for_each}`);
      list.forEach((value, index) => {
        const text = JSON.stringify(d.content[0])
          .replaceAll(`\${${type}.value}`, value)
          .replaceAll(`\${${type}.key}`, String(index));
        out.push(JSON.parse(text) as HclBody);
      });
    }
    return out;
  };

  const replay = (key: RegionKey, pullSecret: boolean) => {
    const overlayDir = join(TF_ROOT, '..', 'k8s', 'overlays', key);
    const ds = typedBlocks(tf(join(TF_ROOT, 'modules', 'regional-origin')), 'data')
      .kustomization_overlay?.origin as HclBody;
    const lists = {
      'local.origin_image_pull_secret_names': pullSecret ? ['origin-image-pull'] : [],
    };
    const sub = (v: string) => substitute(v, key, overlayDir);
    const generator = (g: HclBody) => ({
      name: g.name,
      namespace: g.namespace,
      ...(g.behavior ? { behavior: g.behavior } : {}),
      ...(g.type ? { type: g.type } : {}),
      literals: (g.literals as string[]).map(sub),
    });
    const kustomization = {
      apiVersion: 'kustomize.config.k8s.io/v1beta1',
      kind: 'Kustomization',
      resources: (ds.resources as string[]).map(sub),
      images: bodies(ds, 'images', lists).map((i) => ({
        name: i.name,
        ...(i.new_name ? { newName: sub(i.new_name) } : {}),
        ...(i.new_tag ? { newTag: sub(i.new_tag) } : {}),
      })),
      configMapGenerator: bodies(ds, 'config_map_generator', lists).map(generator),
      secretGenerator: bodies(ds, 'secret_generator', lists).map(generator),
      patches: bodies(ds, 'patches', lists).map((p) => ({
        target: p.target[0],
        patch: sub(p.patch),
      })),
    };
    const dir = join(work, `${key}-${pullSecret}`);
    rmSync(dir, { recursive: true, force: true });
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'kustomization.yaml'), JSON.stringify(kustomization, null, 2));
    return render(dir, true);
  };

  it.each(REGION_KEYS)('%s', (key) => {
    const objects = replay(key, true);
    const deployment = find(objects, 'Deployment', 'origin-router');
    const pod = deployment.spec.template.spec;
    const secretRef = pod.containers[0].env.find((e: HclBody) => e.name === 'ORIGIN_SIGNING_KEYS')
      ?.valueFrom.secretKeyRef;
    const secret = objects.find((o) => o.kind === 'Secret' && o.metadata.name === secretRef?.name);
    expect(secret, 'the router references the generated Secret').toBeDefined();
    expect(secret?.metadata.namespace).toBe('llm-origin');
    expect(Buffer.from(secret?.data.ORIGIN_SIGNING_KEYS, 'base64').toString()).toBe(
      samples(key)['var.origin_signing_keys'],
    );

    // The router image: Terraform's repository (one setting), the overlay's tag, and the pull
    // secret it generates when the package is private.
    const overlayImage = render(join(TF_ROOT, '..', 'k8s', 'overlays', key)).find(
      (o) => o.kind === 'Deployment' && o.metadata.name === 'origin-router',
    )?.spec.template.spec.containers[0].image as string;
    const tag = overlayImage.split(':')[1];
    expect(tag).toMatch(/^\d+\.\d+\.\d+$/);
    expect(pod.containers[0].image).toBe(`${ORIGIN_IMAGE}:${tag}`);
    const pull = objects.find(
      (o) => o.kind === 'Secret' && o.metadata.name === pod.imagePullSecrets?.[0]?.name,
    );
    expect(pull?.type, 'imagePullSecrets names the generated pull secret').toBe(
      'kubernetes.io/dockerconfigjson',
    );
    expect(Buffer.from(pull?.data['.dockerconfigjson'], 'base64').toString()).toBe(DOCKER_CONFIG);

    // The model-sync init containers: the bucket Terraform names and the region's AWS region.
    for (const pool of ['vllm', 'trt', 'tei']) {
      const d = find(objects, 'Deployment', pool);
      const env = containerEnv(objects, d.spec.template.spec.initContainers[0]);
      expect(env.MODEL_BUCKET, pool).toBe(samples(key)['local.model_bucket_name']);
      expect(env.MODEL_BUCKET).toMatch(S3_BUCKET_NAME);
      expect(env.AWS_REGION, pool).toBe(REGIONS[key].awsRegion);
      expect(env.AWS_REGION).toMatch(AWS_REGION_NAME);
      expect(env.MODEL_NAME, `${pool}: merge keeps the overlay's model`).toBeTruthy();
    }

    const policy = find(objects, 'NetworkPolicy', 'origin-router');
    expect(policy.spec.ingress[0].from[0].ipBlock.cidr).toBe(
      samples(key)['local.load_balancer_source_cidr'],
    );
  });

  it('without pull credentials, no pull secret and no imagePullSecrets', () => {
    const objects = replay('eu-west', false);
    const pod = find(objects, 'Deployment', 'origin-router').spec.template.spec;
    expect(pod.imagePullSecrets).toBeUndefined();
    expect(objects.filter((o) => o.type === 'kubernetes.io/dockerconfigjson')).toEqual([]);
    expect(pod.containers[0].image).toMatch(new RegExp(`^${ORIGIN_IMAGE}:`));
  });
});
