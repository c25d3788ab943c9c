// CI workflows cannot run here; these checks keep them consistent with the repository
// (text-level: there is no YAML parser among the dependencies).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  listFiles,
  loadTfDir,
  ROOT,
  readWranglerToml,
  rel,
  TF_ROOT,
  workerSecretBindings,
} from './lib.ts';

const WORKFLOWS = join(ROOT, '.github', 'workflows');
const read = (name: string) => readFileSync(join(WORKFLOWS, name), 'utf8');

describe('GitHub workflows', () => {
  const files = listFiles(WORKFLOWS, '.yml');

  it('ci, origin-image and deploy exist', () => {
    expect(files.map((f) => rel(f))).toEqual(
      expect.arrayContaining([
        '.github/workflows/ci.yml',
        '.github/workflows/deploy.yml',
        '.github/workflows/origin-image.yml',
      ]),
    );
  });

  it.each(files.map((f) => [rel(f), f]))(
    '%s pins every third-party action to a commit',
    (_n, file) => {
      const text = readFileSync(file, 'utf8');
      const uses = [...text.matchAll(/^\s*(?:-\s*)?uses:\s*(\S+)(.*)$/gm)].map(
        (m) => [m[1] ?? '', m[2] ?? ''] as const,
      );
      expect(uses.length).toBeGreaterThan(0);
      for (const [ref, comment] of uses) {
        if (ref.startsWith('./')) continue;
        expect(ref, ref).toMatch(/^[\w.-]+\/[\w./-]+@[0-9a-f]{40}$/);
        expect(comment, `${ref} names its version`).toMatch(/#\s*v\d+/);
      }
    },
  );

  it.each(files.map((f) => [rel(f), f]))(
    '%s uses no tabs and starts with a name and triggers',
    (_n, file) => {
      const text = readFileSync(file, 'utf8');
      expect(text).not.toMatch(/\t/);
      expect(text).toMatch(/^name: [\w-]+$/m);
      expect(text).toMatch(/^on:$/m);
      expect(text).toMatch(/^permissions:$/m);
    },
  );

  it('ci: Node from .nvmrc, redis-server installed, lint, typecheck and npm test', () => {
    const ci = read('ci.yml');
    expect(ci).toContain('node-version-file: .nvmrc');
    expect(ci).toMatch(/apt-get install[^\n]*redis-server/);
    for (const step of ['run: npm run lint', 'run: npm run typecheck', 'run: npm test'])
      expect(ci).toContain(step);
    expect(ci).toContain('workflow_call:');
  });

  it('origin-image builds origin/Dockerfile from the repository root with build-push-action', () => {
    const image = read('origin-image.yml');
    expect(image).toMatch(/uses: docker\/build-push-action@/);
    expect(image).toContain('file: origin/Dockerfile');
    expect(image).toMatch(/context: \.$/m);
    expect(image).toContain("push: ${{ github.event_name != 'pull_request' }}");
  });

  it('infra/README.md documents every GitHub environment, secret and variable the workflows use', () => {
    const readme = readFileSync(join(ROOT, 'infra', 'README.md'), 'utf8');
    const used = new Set<string>();
    for (const file of files) {
      const text = readFileSync(file, 'utf8');
      for (const m of text.matchAll(/\b(?:secrets|vars)\.([A-Z][A-Z0-9_]*)/g))
        used.add(m[1] as string);
      // Environments named in the callers (`environment: <name>`, not an expression).
      for (const m of text.matchAll(/^\s+environment: ([\w-]+)\s*$/gm)) used.add(m[1] as string);
    }
    used.delete('GITHUB_TOKEN'); // GitHub provides it
    expect([...used].sort()).toEqual(
      expect.arrayContaining(['CLOUDFLARE_API_TOKEN', 'WORKER_SECRETS_SOURCE', 'production']),
    );
    const missing = [...used].filter((name) => !readme.includes(`\`${name}\``));
    expect(missing, 'used by .github/workflows but not in infra/README.md').toEqual([]);
  });

  describe('deploy', () => {
    let secrets: string[] = [];
    beforeAll(async () => {
      secrets = Object.keys(
        workerSecretBindings(await loadTfDir(join(TF_ROOT, 'modules', 'edge'))),
      ).sort();
    });

    it('deploys every wrangler.toml environment with cloudflare/wrangler-action, each in its GitHub environment', () => {
      const worker = read('deploy-worker.yml');
      expect(worker).toMatch(/uses: cloudflare\/wrangler-action@/);
      expect(worker).toContain(
        "WRANGLER_COMMAND: ${{ inputs.wrangler_env == '' && 'deploy' || format('deploy --env {0}', inputs.wrangler_env) }}",
      );
      expect(worker).toContain('command: ${{ env.WRANGLER_COMMAND }}');
      expect(worker).toMatch(/environment:\n\s+name: \$\{\{ inputs\.environment \}\}/);
      expect(worker).toContain('apiToken: ${{ secrets.CLOUDFLARE_API_TOKEN }}');

      const deploy = read('deploy.yml');
      expect(deploy).toContain('uses: ./.github/workflows/ci.yml');
      const jobs = [
        ...deploy.matchAll(/environment: ([\w-]+)\n\s+wrangler_env: "?([\w-]*)"?/g),
      ].map((m) => ({
        github: m[1] as string,
        wrangler: m[2] as string,
      }));
      const wrangler = readWranglerToml(readFileSync(join(ROOT, 'wrangler.toml'), 'utf8'));
      // The top level ("") and every [env.*], each exactly once, in distinct GitHub environments.
      expect(jobs.map((j) => j.wrangler).sort()).toEqual(Object.keys(wrangler).sort());
      expect(new Set(jobs.map((j) => j.github)).size).toBe(jobs.length);
    });

    it('uploads, when GitHub owns them, exactly the Worker secrets Terraform binds', () => {
      const worker = read('deploy-worker.yml');
      const block = /secrets: \|\n((?:\s+[A-Z_]+\n)+)/.exec(worker)?.[1] ?? '';
      const listed = block
        .split('\n')
        .map((l) => l.trim())
        .filter(Boolean)
        .sort();
      expect(secrets.length).toBe(6);
      expect(listed).toEqual(secrets);
      for (const name of secrets) expect(worker).toContain(`${name}: \${{ secrets.${name} }}`);
    });
  });
});
