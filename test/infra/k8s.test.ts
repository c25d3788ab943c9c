// Kubernetes: the kustomize base and every regional overlay render, every object validates
// against the Kubernetes OpenAPI schemas (kubernetes-models), and the security, probe, GPU and
// residency properties the origin tier relies on hold in what would be applied.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  AWS_REGION_NAME,
  containerEnv,
  egressAllowed,
  find,
  K8S_ROOT,
  type K8sObject,
  REGION_KEYS,
  REGIONS,
  type RegionKey,
  render,
  requireTool,
  S3_BUCKET_NAME,
  WORKLOAD_KINDS,
} from './lib.ts';

const TARGETS = ['base', ...REGION_KEYS.map((r) => `overlays/${r}`)];
const POOLS = { vllm: 'vllm-pool', trt: 'trt-pool', tei: 'tei-pool' } as const;

// Custom resources kubernetes-models has no schema for: checked by hand below.
const CUSTOM_KINDS = new Set(['elbv2.k8s.aws/v1beta1/TargetGroupBinding']);

type Validatable = { validate(): void };
type ModelClass = new (data: unknown) => Validatable;

/** kubernetes-models/<group>/<version>/<Kind>, e.g. apps/v1/Deployment or v1/Service. */
async function modelClass(apiVersion: string, kind: string): Promise<ModelClass> {
  const mod = await import(`kubernetes-models/${apiVersion}/${kind}`);
  const cls = mod[kind] as ModelClass | undefined;
  if (!cls) throw new Error(`kubernetes-models has no ${apiVersion} ${kind}`);
  return cls;
}

async function validate(obj: K8sObject): Promise<void> {
  const Model = await modelClass(obj.apiVersion, obj.kind);
  new Model(obj).validate();
}

// biome-ignore lint/suspicious/noExplicitAny: pod specs are walked generically
type Any = any;

function podSpec(obj: K8sObject): Any {
  return obj.spec.template.spec;
}

function allContainers(obj: K8sObject): Any[] {
  const spec = podSpec(obj);
  return [...(spec.initContainers ?? []), ...spec.containers];
}

/** The router's config file (/etc/origin/config.json) as rendered. */
function routerConfig(objects: K8sObject[]): Any {
  const pod = podSpec(find(objects, 'Deployment', 'origin-router'));
  const volume = pod.volumes.find((v: Any) => v.name === 'config');
  return JSON.parse(find(objects, 'ConfigMap', volume.configMap.name).data['config.json']);
}

const rendered = new Map<string, K8sObject[]>();
const objectsOf = (target: string): K8sObject[] => {
  const objects = rendered.get(target);
  if (!objects) throw new Error(`${target} not rendered`);
  return objects;
};

describe('kustomize', () => {
  beforeAll(() => {
    requireTool('kubectl');
    for (const target of TARGETS) rendered.set(target, render(join(K8S_ROOT, target)));
  });

  describe.each(TARGETS)('%s', (target) => {
    it('renders the router, the three pools and their supporting objects', () => {
      const kinds = objectsOf(target).map((o) => `${o.kind}/${o.metadata.name}`);
      for (const expected of [
        'Namespace/llm-origin',
        'Deployment/origin-router',
        'Service/origin-router',
        'HorizontalPodAutoscaler/origin-router',
        'PodDisruptionBudget/origin-router',
        'NetworkPolicy/origin-router',
        'NetworkPolicy/default-deny-all',
        'ServiceAccount/origin-router',
        'TargetGroupBinding/origin-router',
        'Deployment/vllm',
        'Deployment/trt',
        'Deployment/tei',
        'Service/vllm-pool',
        'Service/trt-pool',
        'Service/tei-pool',
        'PodDisruptionBudget/vllm',
        'PodDisruptionBudget/trt',
        'PodDisruptionBudget/tei',
        'NetworkPolicy/gpu-pools',
      ]) {
        expect(kinds).toContain(expected);
      }
    });

    it('every object validates against the Kubernetes schemas (kubernetes-models)', async () => {
      const objects = objectsOf(target);
      let validated = 0;
      for (const obj of objects) {
        const id = `${obj.apiVersion}/${obj.kind}`;
        if (CUSTOM_KINDS.has(id)) continue;
        await expect(validate(obj), `${id} ${obj.metadata.name}`).resolves.toBeUndefined();
        validated++;
      }
      expect(validated).toBe(objects.length - 1);
    });

    it('the TargetGroupBinding binds the router Service by target group name', () => {
      const tgb = find(objectsOf(target), 'TargetGroupBinding', 'origin-router');
      expect(tgb.apiVersion).toBe('elbv2.k8s.aws/v1beta1');
      expect(tgb.spec.serviceRef).toEqual({ name: 'origin-router', port: 8080 });
      expect(tgb.spec.targetGroupName).toMatch(/^[\w-]{1,32}$/);
      expect(tgb.spec.targetType).toBe('ip');
    });

    it('namespaced objects live in llm-origin, which enforces Pod Security "restricted"', () => {
      const objects = objectsOf(target);
      const ns = find(objects, 'Namespace', 'llm-origin');
      expect(ns.metadata.labels?.['pod-security.kubernetes.io/enforce']).toBe('restricted');
      // The load balancer controller adds its readiness gate to the router's pods only in
      // namespaces labelled so: without it a rollout can leave the target group without a
      // single healthy target (pods are Ready before the ALB has registered them).
      expect(ns.metadata.labels?.['elbv2.k8s.aws/pod-readiness-gate-inject']).toBe('enabled');
      for (const o of objects.filter((o) => !['Namespace', 'StorageClass'].includes(o.kind))) {
        expect(o.metadata.namespace, `${o.kind}/${o.metadata.name}`).toBe('llm-origin');
      }
    });

    it('every container is restricted: non-root, read-only root, no escalation, drops ALL, RuntimeDefault seccomp', () => {
      const workloads = objectsOf(target).filter((o) => WORKLOAD_KINDS.has(o.kind));
      expect(workloads.length).toBe(4);
      for (const w of workloads) {
        const pod = podSpec(w);
        for (const c of allContainers(w)) {
          const sc = c.securityContext ?? {};
          const where = `${w.metadata.name}/${c.name}`;
          expect(
            sc.runAsNonRoot ?? pod.securityContext?.runAsNonRoot,
            `${where} runAsNonRoot`,
          ).toBe(true);
          expect(sc.readOnlyRootFilesystem, `${where} readOnlyRootFilesystem`).toBe(true);
          expect(sc.allowPrivilegeEscalation, `${where} allowPrivilegeEscalation`).toBe(false);
          expect(sc.privileged ?? false, `${where} privileged`).toBe(false);
          expect(sc.capabilities?.drop, `${where} capabilities.drop`).toContain('ALL');
          expect(sc.capabilities?.add ?? [], `${where} capabilities.add`).toEqual([]);
          expect(
            (sc.seccompProfile ?? pod.securityContext?.seccompProfile)?.type,
            `${where} seccomp`,
          ).toBe('RuntimeDefault');
          expect(c.image, `${where} image`).toMatch(/^[\w./-]+:[\w.-]+$/);
        }
        // No Kubernetes API token in any pod (the router finds pools through DNS).
        expect(
          pod.automountServiceAccountToken,
          `${w.metadata.name} automountServiceAccountToken`,
        ).toBe(false);
        expect(pod.hostNetwork ?? false).toBe(false);
        expect((pod.volumes ?? []).some((v: Any) => v.hostPath)).toBe(false);
      }
    });

    it('the router: no service-account token, probes on /health/live and /health/ready, port 8080', () => {
      const objects = objectsOf(target);
      const sa = find(objects, 'ServiceAccount', 'origin-router');
      expect(sa.automountServiceAccountToken).toBe(false);
      const d = find(objects, 'Deployment', 'origin-router');
      const pod = podSpec(d);
      expect(pod.serviceAccountName).toBe('origin-router');
      expect(pod.automountServiceAccountToken).toBe(false);
      const [c] = pod.containers;
      expect(c.ports).toContainEqual({ name: 'http', containerPort: 8080, protocol: 'TCP' });
      expect(c.livenessProbe.httpGet).toEqual({ path: '/health/live', port: 'http' });
      expect(c.readinessProbe.httpGet).toEqual({ path: '/health/ready', port: 'http' });
    });

    it('the router outlives its drain: terminationGracePeriodSeconds > DRAIN_DEADLINE_MS (+ preStop)', () => {
      const objects = objectsOf(target);
      const d = find(objects, 'Deployment', 'origin-router');
      const pod = podSpec(d);
      const [c] = pod.containers;
      const env = find(
        objects,
        'ConfigMap',
        c.envFrom.find((e: Any) => e.configMapRef)?.configMapRef.name,
      );
      const drainMs = Number(env.data.DRAIN_DEADLINE_MS);
      expect(routerConfig(objects).drainDeadlineMs).toBe(drainMs);
      expect(drainMs).toBeGreaterThan(0);
      const preStopMs = (c.lifecycle?.preStop?.sleep?.seconds ?? 0) * 1000;
      expect(pod.terminationGracePeriodSeconds * 1000).toBeGreaterThan(drainMs + preStopMs);
    });

    it('the router gets ORIGIN_SIGNING_KEYS from a Secret, its environment and config file from ConfigMaps', () => {
      const objects = objectsOf(target);
      const pod = podSpec(find(objects, 'Deployment', 'origin-router'));
      const [c] = pod.containers;
      const keys = c.env.find((e: Any) => e.name === 'ORIGIN_SIGNING_KEYS');
      expect(keys.valueFrom.secretKeyRef).toEqual({
        name: 'origin-secrets',
        key: 'ORIGIN_SIGNING_KEYS',
      });
      const env = find(objects, 'ConfigMap', c.envFrom[0].configMapRef.name);
      expect(env.data.PORT).toBe('8080');
      const mount = c.volumeMounts.find(
        (m: Any) => env.data.ORIGIN_CONFIG_FILE === `${m.mountPath}/config.json`,
      );
      expect(mount, 'ORIGIN_CONFIG_FILE is in a mounted volume').toBeDefined();
      const volume = pod.volumes.find((v: Any) => v.name === mount.name);
      expect(find(objects, 'ConfigMap', volume.configMap.name).data['config.json']).toBeDefined();
      // Pools are found through the headless Services, on the port the engines listen on.
      const config = routerConfig(objects);
      for (const [pool, service] of Object.entries(POOLS)) {
        expect(config.pools[pool].kind).toBe(pool);
        expect(config.pools[pool].dns).toMatchObject({
          name: `${service}.llm-origin.svc.cluster.local`,
          port: 8000,
        });
      }
      // No secret material in the ConfigMaps.
      for (const cm of objects.filter((o) => o.kind === 'ConfigMap')) {
        expect(
          Object.keys(cm.data).filter((k) => /(?:^|_)(?:KEYS?|TOKEN|SECRET|PASSWORD)$/.test(k)),
          cm.metadata.name,
        ).toEqual([]);
        expect(JSON.stringify(cm.data), cm.metadata.name).not.toMatch(/signingKeys/);
      }
    });

    it('the router config is valid for the origin itself (origin/src/config.ts resolveConfig)', async () => {
      const { resolveConfig } = await import('../../origin/src/config.ts');
      const resolved = resolveConfig(routerConfig(objectsOf(target)), {
        ORIGIN_SIGNING_KEYS: 'k1:c2VjcmV0',
        PORT: '8080',
      });
      expect(Object.keys(resolved.config.pools).sort()).toEqual(['tei', 'trt', 'vllm']);
      expect(() =>
        resolveConfig(
          { ...routerConfig(objectsOf(target)), models: { x: 'nope' } },
          { ORIGIN_SIGNING_KEYS: 'k1:s' },
        ),
      ).toThrow(/unknown pool/);
    });

    it('the HPA scales the router on CPU and on the pods metric origin_queue_depth', () => {
      const hpa = find(objectsOf(target), 'HorizontalPodAutoscaler', 'origin-router');
      expect(hpa.apiVersion).toBe('autoscaling/v2');
      expect(hpa.spec.scaleTargetRef).toEqual({
        apiVersion: 'apps/v1',
        kind: 'Deployment',
        name: 'origin-router',
      });
      const metrics = hpa.spec.metrics as Any[];
      expect(metrics.some((m) => m.type === 'Resource' && m.resource.name === 'cpu')).toBe(true);
      expect(
        metrics.some((m) => m.type === 'Pods' && m.pods.metric.name === 'origin_queue_depth'),
      ).toBe(true);
      expect(hpa.spec.minReplicas).toBeGreaterThanOrEqual(2);
    });

    it('every Deployment has a PodDisruptionBudget selecting its pods', () => {
      const objects = objectsOf(target);
      for (const d of objects.filter((o) => o.kind === 'Deployment')) {
        const labels = d.spec.template.metadata.labels;
        const pdbs = objects.filter(
          (o) =>
            o.kind === 'PodDisruptionBudget' &&
            Object.entries(o.spec.selector.matchLabels).every(([k, v]) => labels[k] === v),
        );
        expect(pdbs.length, d.metadata.name).toBe(1);
      }
    });

    it('the router NetworkPolicy: ingress only from the load balancer CIDR and Prometheus, egress only to the pools and DNS', () => {
      const objects = objectsOf(target);
      const deny = find(objects, 'NetworkPolicy', 'default-deny-all');
      expect(deny.spec.podSelector).toEqual({});
      expect(deny.spec.policyTypes).toEqual(['Ingress', 'Egress']);

      const np = find(objects, 'NetworkPolicy', 'origin-router');
      expect(np.spec.podSelector.matchLabels).toEqual({
        'app.kubernetes.io/name': 'origin-router',
      });
      expect(np.spec.policyTypes).toEqual(['Ingress', 'Egress']);
      const peers = (rules: Any[]) => rules.flatMap((r) => r.to ?? r.from);
      const ingress = peers(np.spec.ingress);
      expect(ingress).toHaveLength(2);
      expect(ingress[0].ipBlock.cidr).toMatch(/^10\.\d+\.192\.0\/22$/);
      expect(ingress[1].namespaceSelector.matchLabels['kubernetes.io/metadata.name']).toBe(
        'monitoring',
      );
      for (const rule of np.spec.ingress)
        expect(rule.ports).toEqual([{ protocol: 'TCP', port: 8080 }]);

      const egress = peers(np.spec.egress);
      expect(egress).toHaveLength(2);
      expect(egress[0].podSelector.matchLabels).toEqual({
        'app.kubernetes.io/component': 'gpu-pool',
      });
      expect(egress[1].podSelector.matchLabels).toEqual({ 'k8s-app': 'kube-dns' });
      expect(egress.some((p: Any) => p.ipBlock)).toBe(false);
    });

    it('the GPU pools may reach the EKS Pod Identity agent (169.254.170.23:80), S3 (443) and DNS; the router none of them', () => {
      const objects = objectsOf(target);
      const labelsOf = (name: string) =>
        find(objects, 'Deployment', name).spec.template.metadata.labels;
      for (const pool of Object.keys(POOLS)) {
        const labels = labelsOf(pool);
        // The model-sync init container's credentials (Pod Identity) come from the node's agent.
        expect(
          egressAllowed(objects, labels, '169.254.170.23', 80),
          `${pool} → Pod Identity agent`,
        ).toBe(true);
        expect(egressAllowed(objects, labels, '52.216.8.1', 443), `${pool} → S3`).toBe(true);
        // Nothing else: not IMDS, not other ports there, not private addresses.
        expect(egressAllowed(objects, labels, '169.254.169.254', 80), `${pool} → IMDS`).toBe(false);
        expect(
          egressAllowed(objects, labels, '169.254.170.23', 2703),
          `${pool} → agent probe port`,
        ).toBe(false);
        expect(egressAllowed(objects, labels, '10.10.0.5', 443), `${pool} → VPC`).toBe(false);
      }
      const router = labelsOf('origin-router');
      expect(egressAllowed(objects, router, '169.254.170.23', 80)).toBe(false);
      expect(egressAllowed(objects, router, '52.216.8.1', 443)).toBe(false);
    });

    describe.each(Object.entries(POOLS))('pool %s', (pool, service) => {
      it('requests and limits one GPU, on the tainted GPU node group', () => {
        const d = find(objectsOf(target), 'Deployment', pool);
        const pod = podSpec(d);
        const [engine] = pod.containers;
        expect(engine.resources.requests['nvidia.com/gpu']).toBe('1');
        expect(engine.resources.limits['nvidia.com/gpu']).toBe('1');
        expect(pod.nodeSelector).toEqual({ 'nvidia.com/gpu.present': 'true' });
        expect(pod.tolerations).toContainEqual({
          key: 'nvidia.com/gpu',
          operator: 'Exists',
          effect: 'NoSchedule',
        });
      });

      it('gets its model from object storage into a PVC-backed volume through an init container', () => {
        const pod = podSpec(find(objectsOf(target), 'Deployment', pool));
        const models = pod.volumes.find((v: Any) => v.name === 'models');
        const claim = models.persistentVolumeClaim ?? models.ephemeral?.volumeClaimTemplate;
        expect(claim, 'models volume is a PVC').toBeDefined();
        const [init] = pod.initContainers;
        expect(init.command.slice(0, 3)).toEqual(['aws', 's3', 'sync']);
        expect(init.args[0]).toMatch(/^s3:\/\//);
        expect(init.volumeMounts).toContainEqual({ name: 'models', mountPath: '/models' });
        expect(pod.containers[0].volumeMounts).toContainEqual({
          name: 'models',
          mountPath: '/models',
          readOnly: true,
        });
        expect(pod.serviceAccountName).toBe('model-loader');
        // Its bucket and AWS region (IMDS is out of reach at hop limit 1, so the CLI must be told).
        const env = containerEnv(objectsOf(target), init);
        for (const name of ['MODEL_NAME', 'MODEL_BUCKET', 'AWS_REGION'])
          expect(env[name], `${init.name} ${name}`).toBeTruthy();
      });

      it(`is reachable through the headless Service ${service}`, () => {
        const objects = objectsOf(target);
        const d = find(objects, 'Deployment', pool);
        const svc = find(objects, 'Service', service);
        expect(svc.spec.clusterIP).toBe('None');
        const podLabels = d.spec.template.metadata.labels;
        expect(Object.entries(svc.spec.selector).every(([k, v]) => podLabels[k] === v)).toBe(true);
        expect(podLabels['app.kubernetes.io/component']).toBe('gpu-pool');
        const ports = d.spec.template.spec.containers[0].ports.map((p: Any) => p.name);
        for (const p of svc.spec.ports) expect(ports).toContain(p.targetPort);
      });

      it('has health probes and a /metrics port annotated for Prometheus', () => {
        const d = find(objectsOf(target), 'Deployment', pool);
        const [engine] = podSpec(d).containers;
        for (const probe of ['startupProbe', 'livenessProbe', 'readinessProbe']) {
          expect(engine[probe]?.httpGet?.path, probe).toBe('/health');
        }
        const a = d.spec.template.metadata.annotations;
        expect(a['prometheus.io/scrape']).toBe('true');
        expect(a['prometheus.io/path']).toMatch(/metrics$/);
        const ports = engine.ports.map((p: Any) => String(p.containerPort));
        expect(ports).toContain(a['prometheus.io/port']);
      });
    });
  });

  it('validation is effective: a wrong field type is rejected', async () => {
    const d = structuredClone(find(objectsOf('base'), 'Deployment', 'origin-router'));
    d.spec.template.spec.containers[0].ports[0].containerPort = '8080';
    await expect(validate(d)).rejects.toThrow(/containerPort/);
  });

  it('overlays label every object, and every pod, with their own residency zone', () => {
    const zones = new Set<string>();
    for (const region of REGION_KEYS) {
      const objects = objectsOf(`overlays/${region}`);
      const zone = REGIONS[region].residencyZone;
      for (const o of objects) {
        expect(
          o.metadata.labels?.['residency-zone'],
          `${region} ${o.kind}/${o.metadata.name}`,
        ).toBe(zone);
        if (WORKLOAD_KINDS.has(o.kind))
          expect(o.spec.template.metadata.labels['residency-zone']).toBe(zone);
      }
      zones.add(zone);
    }
    expect(zones.size).toBe(REGION_KEYS.length);
    expect(objectsOf('base').some((o) => o.metadata.labels?.['residency-zone'])).toBe(false);
  });

  it.each(REGION_KEYS)(
    'overlay %s sets its region label, models and router image tag, and leaves to Terraform what only it knows',
    (region: RegionKey) => {
      const objects = objectsOf(`overlays/${region}`);
      const pod = podSpec(find(objects, 'Deployment', 'origin-router'));
      // The tag is the overlay's; the registry and owner are one Terraform setting (origin_image).
      expect(pod.containers[0].image).toMatch(/^llm-gateway-origin:\d+\.\d+\.\d+$/);
      expect(pod.imagePullSecrets).toBeUndefined();
      expect(find(objects, 'Namespace', 'llm-origin').metadata.labels?.['llm-gateway/region']).toBe(
        region,
      );
      // Only Terraform applies an overlay: the Secret, the model bucket (named with the account
      // id) and the region come from it. Rendered alone, an overlay carries no Secret, and
      // placeholders that are no bucket or region, so a stray `kubectl apply -k` fails at once
      // instead of syncing weights from a bucket someone else may own.
      expect(objects.filter((o) => o.kind === 'Secret')).toEqual([]);
      const config = routerConfig(objects);
      for (const pool of Object.keys(POOLS)) {
        const d = find(objects, 'Deployment', pool);
        const env = containerEnv(objects, podSpec(d).initContainers[0]);
        expect(env.MODEL_BUCKET, `${pool} MODEL_BUCKET`).not.toMatch(S3_BUCKET_NAME);
        expect(env.AWS_REGION, `${pool} AWS_REGION`).not.toMatch(AWS_REGION_NAME);
        const poolConfig = find(
          objects,
          'ConfigMap',
          d.spec.template.spec.containers[0].envFrom[0].configMapRef.name,
        );
        // The router sends the model the pool serves to that pool.
        expect(
          config.models[poolConfig.data.MODEL_NAME],
          `${pool} serves ${poolConfig.data.MODEL_NAME}`,
        ).toBe(pool);
      }
      // And every model the router knows is served by its pool in this region.
      const served = Object.keys(POOLS).map(
        (p) =>
          find(
            objects,
            'ConfigMap',
            find(objects, 'Deployment', p).spec.template.spec.containers[0].envFrom[0].configMapRef
              .name,
          ).data.MODEL_NAME,
      );
      expect(Object.keys(config.models).sort()).toEqual([...served].sort());
    },
  );

  it('no manifest names a registry owner of its own for the router image (ghcr.io/example)', () => {
    for (const target of TARGETS) {
      expect(JSON.stringify(objectsOf(target)), target).not.toContain('ghcr.io/example');
    }
  });

  it('overlays differ where regions differ (replicas, router image tags or models)', () => {
    const fingerprint = (region: RegionKey) => {
      const objects = objectsOf(`overlays/${region}`);
      const deployments = objects.filter((o) => o.kind === 'Deployment');
      return (
        JSON.stringify(
          deployments.map((d) => [
            d.metadata.name,
            d.spec.replicas,
            d.spec.template.spec.containers[0].image,
          ]),
        ) + JSON.stringify(objects.filter((o) => o.kind === 'ConfigMap').map((o) => o.data))
      );
    };
    const prints = new Set(REGION_KEYS.map(fingerprint));
    expect(prints.size).toBe(REGION_KEYS.length);
  });

  it('GPU engines are pinned to released image tags', () => {
    const base = objectsOf('base');
    const images = ['vllm', 'trt', 'tei'].map(
      (p) => podSpec(find(base, 'Deployment', p)).containers[0].image as string,
    );
    expect(images[0]).toMatch(/^vllm\/vllm-openai:v\d+\.\d+\.\d+$/);
    expect(images[1]).toMatch(/^nvcr\.io\/nvidia\/(tensorrt-llm\/release|tritonserver):[\w.-]+$/);
    expect(images[2]).toMatch(
      /^ghcr\.io\/huggingface\/text-embeddings-inference:[\w-]*\d+\.\d+\.\d+$/,
    );
    for (const image of images) expect(image).not.toMatch(/:latest$/);
  });
});

describe('kustomize sources', () => {
  it('say one thing about how overlays are applied: by Terraform only', () => {
    const readme = readFileSync(join(K8S_ROOT, '..', 'README.md'), 'utf8');
    const row = readme.split('\n').find((l) => l.startsWith('| `k8s/base`'));
    expect(row, 'the k8s row of the table in infra/README.md').toBeDefined();
    const appliedBy = (row as string).split('|').at(-2)?.trim() ?? '';
    expect(appliedBy).toMatch(/Terraform/);
    expect(appliedBy).not.toMatch(/kubectl apply/);
    // Wherever the docs or the overlays name `kubectl apply -k`, it is to say it does not deploy.
    const texts = [
      ['infra/README.md', readme],
      ...REGION_KEYS.map((r) => [
        `overlays/${r}`,
        readFileSync(join(K8S_ROOT, 'overlays', r, 'kustomization.yaml'), 'utf8'),
      ]),
      ['base', readFileSync(join(K8S_ROOT, 'base', 'kustomization.yaml'), 'utf8')],
    ] as const;
    for (const [where, text] of texts) {
      for (const line of text.split('\n').filter((l) => l.includes('kubectl apply'))) {
        expect(line, where).toMatch(/\bnot\b/);
      }
    }
  });

  it('the origin router env file declares the drain deadline the grace period is sized for', () => {
    const env = readFileSync(join(K8S_ROOT, 'base', 'router', 'origin.env'), 'utf8');
    expect(env).toMatch(/^DRAIN_DEADLINE_MS=30000$/m);
  });
});

describe('a missing tool', () => {
  it('fails the infra tests, naming the tool, instead of skipping them', () => {
    expect(() => requireTool('kubectl', '/nonexistent')).toThrow(/^kubectl is not on PATH/);
    expect(() => requireTool('terraform', '')).toThrow(/^terraform is not on PATH/);
    expect(() => requireTool('kubectl')).not.toThrow();
  });
});
