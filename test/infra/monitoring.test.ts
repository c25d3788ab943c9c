// Monitoring: the alert rules and the Grafana dashboard cover what the origin tier needs, and use
// only metric names that exist: the router's (origin/src/metrics.ts), vLLM's, TEI's, DCGM's.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  ALLOWED_FAMILIES,
  metricNamesIn,
  originMetricsFromSource,
  originSeries,
  thirdPartySeries,
} from './known-metrics.ts';
import {
  find,
  type K8sObject,
  MONITORING_ROOT,
  ROOT,
  render,
  requireTool,
  yamlToObjects,
} from './lib.ts';

const ORIGIN_METRICS_FILE = join(ROOT, 'origin', 'src', 'metrics.ts');

// biome-ignore lint/suspicious/noExplicitAny: dashboard JSON is walked generically
type Any = any;

interface Rule {
  alert: string;
  expr: string;
  for?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}

const dashboard = JSON.parse(
  readFileSync(join(MONITORING_ROOT, 'dashboards', 'llm-origin.json'), 'utf8'),
) as Any;

function panels(d: Any): Any[] {
  return (d.panels as Any[]).flatMap((p) => [p, ...(p.panels ?? [])]);
}

function dashboardExprs(d: Any): { where: string; expr: string }[] {
  const out: { where: string; expr: string }[] = [];
  for (const p of panels(d)) {
    for (const t of p.targets ?? [])
      out.push({ where: `panel "${p.title}" ${t.refId}`, expr: String(t.expr) });
  }
  for (const v of d.templating?.list ?? []) {
    if (v.type !== 'query') continue;
    out.push({
      where: `variable ${v.name}`,
      expr: String(v.definition ?? v.query?.query ?? v.query),
    });
  }
  return out;
}

// The rules file is YAML: kubectl turns it into JSON (there is no YAML parser among the
// dependencies), so the tests that read it need kubectl (and fail, saying so, without it).
let rules: Rule[] = [];
beforeAll(() => {
  requireTool('kubectl');
  const [rule] = yamlToObjects(
    readFileSync(join(MONITORING_ROOT, 'prometheus-rules.yaml'), 'utf8'),
  );
  if (rule?.kind !== 'PrometheusRule')
    throw new Error('prometheus-rules.yaml holds no PrometheusRule');
  rules = (rule.spec.groups as { rules: Rule[] }[]).flatMap((g) => g.rules);
});

describe('Prometheus rules', () => {
  it('is a PrometheusRule whose alerts all have an expression, a severity and a summary', () => {
    expect(rules.length).toBeGreaterThanOrEqual(8);
    const names = new Set<string>();
    for (const r of rules) {
      expect(r.alert, JSON.stringify(r)).toMatch(/^[A-Z][A-Za-z0-9]+$/);
      expect(names.has(r.alert), `duplicate alert ${r.alert}`).toBe(false);
      names.add(r.alert);
      expect(r.expr.trim().length).toBeGreaterThan(0);
      expect(['critical', 'warning', 'info']).toContain(r.labels?.severity);
      expect(r.annotations?.summary, r.alert).toBeTruthy();
      if (r.for) expect(r.for).toMatch(/^\d+[smh]$/);
      // Parentheses and braces balance (a rough syntax check).
      for (const [open, close] of ['()', '{}', '[]']) {
        expect(r.expr.split(open as string).length, `${r.alert} ${open}${close}`).toBe(
          r.expr.split(close as string).length,
        );
      }
    }
  });

  it.each([
    ['error rate', /origin_requests_total\{status=~"5\.\."\}/],
    ['p99 latency', /histogram_quantile\(0\.99,[\s\S]*?origin_request_duration_seconds_bucket/],
    ['queue depth', /origin_queue_depth/],
    ['ejected endpoints', /origin_endpoint_healthy|origin_endpoint_ejections_total/],
    ['shed rate', /rate\(origin_shed_total/],
    ['GPU KV-cache saturation', /vllm:kv_cache_usage_perc/],
  ])('alerts on %s', (_what, pattern) => {
    expect(rules.some((r) => pattern.test(r.expr))).toBe(true);
  });

  it('GPU XID errors alert on a change of the gauge, not on its value', () => {
    // DCGM_FI_DEV_XID_ERRORS is a gauge holding the last XID a GPU reported (it never goes back
    // to 0): `> 0` would fire for ever after one error. A new error is a change of the value.
    const xid = rules.filter((r) => r.expr.includes('DCGM_FI_DEV_XID_ERRORS'));
    expect(xid).toHaveLength(1);
    const [rule] = xid as [Rule];
    expect(rule.expr).toMatch(/changes\(DCGM_FI_DEV_XID_ERRORS(\{[^}]*\})?\[\d+m\]\)/);
    expect(rule.expr).toMatch(/\)\s*>\s*0\s*$/);
    expect(rule.expr.replace(/changes\(DCGM_FI_DEV_XID_ERRORS[^)]*\)/g, '')).not.toContain(
      'DCGM_FI_DEV_XID_ERRORS',
    );
    expect(rule.for ?? '0m', 'fires at once: a change is gone after its window').toMatch(
      /^0[smh]$/,
    );
  });

  it('the queue-depth alert fires below the router queue size of every region', () => {
    const alert = rules.find((r) => r.alert === 'OriginQueueDepthHigh');
    const threshold = Number(/>\s*(\d+)\s*$/.exec(alert?.expr.trim() ?? '')?.[1]);
    expect(threshold).toBeGreaterThan(0);
    for (const dir of [
      'base/router',
      ...['us-east', 'eu-west', 'ap-south'].map((r) => `overlays/${r}`),
    ]) {
      const config = JSON.parse(
        readFileSync(join(ROOT, 'infra', 'k8s', dir, 'config.json'), 'utf8'),
      );
      expect(threshold, dir).toBeLessThan(config.limits.queueSize);
    }
  });

  it('the monitoring kustomization renders the rules, the PodMonitors and the dashboard ConfigMap', () => {
    const objects: K8sObject[] = render(MONITORING_ROOT);
    expect(find(objects, 'PrometheusRule', 'llm-origin').metadata.namespace).toBe('monitoring');
    const cm = find(objects, 'ConfigMap', 'grafana-dashboard-llm-origin');
    expect(cm.metadata.labels?.grafana_dashboard).toBe('1');
    expect(JSON.parse(cm.data['llm-origin.json']).uid).toBe(dashboard.uid);
    const monitored = objects
      .filter((o) => o.kind === 'PodMonitor')
      .map((o) => o.spec.selector.matchLabels['app.kubernetes.io/name']);
    expect(monitored.sort()).toEqual(['origin-router', 'tei', 'trt', 'vllm']);
  });
});

describe('Grafana dashboard', () => {
  const exprs = dashboardExprs(dashboard);

  it('is a dashboard with unique panel ids and a Prometheus datasource variable', () => {
    const ids = panels(dashboard).map((p) => p.id);
    expect(new Set(ids).size).toBe(ids.length);
    expect(dashboard.uid).toBeTruthy();
    expect(
      dashboard.templating.list.some(
        (v: Any) => v.type === 'datasource' && v.query === 'prometheus',
      ),
    ).toBe(true);
    for (const p of panels(dashboard).filter((p) => p.type !== 'row')) {
      expect(p.datasource?.uid, p.title).toBe('${datasource}');
      expect(p.targets.length, p.title).toBeGreaterThan(0);
    }
  });

  it.each([
    ['latency p50', /histogram_quantile\(0\.50?,[\s\S]*?origin_request_duration_seconds_bucket/],
    ['latency p95', /histogram_quantile\(0\.95,[\s\S]*?origin_request_duration_seconds_bucket/],
    ['latency p99', /histogram_quantile\(0\.99,[\s\S]*?origin_request_duration_seconds_bucket/],
    ['error rate', /origin_requests_total\{[^}]*status=~"5\.\."/],
    ['requests/s', /rate\(origin_requests_total\{[^}]*\}\[\$__rate_interval\]\)/],
    ['tokens/s', /rate\(origin_generated_tokens_total/],
    ['queue depth', /origin_queue_depth/],
    ['TTFT', /origin_ttft_seconds_bucket/],
    ['GPU utilisation (DCGM)', /DCGM_FI_DEV_GPU_UTIL/],
  ])('shows %s', (_what, pattern) => {
    expect(exprs.some((e) => pattern.test(e.expr))).toBe(true);
  });
});

describe('metric names', () => {
  it('the rough PromQL parser finds metric names and nothing else', () => {
    expect(
      metricNamesIn(
        'histogram_quantile(0.99, sum by (le, pool) (rate(origin_x_bucket{status=~"5..", a="b c"}[5m]))) > 0.5 and on (pod) max by (pod) (vllm:y) > 1e-3 offset 5m',
      ),
    ).toEqual(['origin_x_bucket', 'vllm:y']);
    expect(metricNamesIn('label_values(origin_requests_total, pool)')).toEqual([
      'origin_requests_total',
    ]);
    expect(
      metricNamesIn('sum(rate(te_request_count[$__rate_interval])) / DCGM_FI_DEV_GPU_UTIL'),
    ).toEqual(['DCGM_FI_DEV_GPU_UTIL', 'te_request_count']);
  });

  it('origin_* metrics are recognised from prom-client source text, with types', () => {
    const metrics = originMetricsFromSource(`
      export const a = new client.Histogram({ name: 'origin_a_seconds', help: 'x', labelNames: ['pool'] });
      export const b = new Counter({
        name: "origin_b_total",
        help: 'y',
      });
      const c = gauge({ name: 'origin_c' });
    `);
    expect([...metrics]).toEqual([
      ['origin_a_seconds', 'histogram'],
      ['origin_b_total', 'counter'],
      ['origin_c', 'unknown'],
    ]);
    const series = originSeries(metrics);
    expect(series.has('origin_a_seconds_bucket')).toBe(true);
    expect(series.has('origin_b_total_bucket')).toBe(false);
  });

  const used = (): { where: string; name: string }[] => {
    const exprs = [
      ...rules.map((r) => ({ where: `alert ${r.alert}`, expr: r.expr })),
      ...dashboardExprs(dashboard),
    ];
    return exprs.flatMap(({ where, expr }) => metricNamesIn(expr).map((name) => ({ where, name })));
  };

  it('rules and dashboard only use origin_*, vllm:*, te_* and DCGM_FI_* metrics', () => {
    const names = used();
    expect(names.length).toBeGreaterThan(30);
    const foreign = names.filter(({ name }) => !ALLOWED_FAMILIES.some((re) => re.test(name)));
    expect(foreign).toEqual([]);
  });

  it('every vllm:*, te_* and DCGM_FI_* name exists in that exporter (see known-metrics.ts)', () => {
    const known = thirdPartySeries();
    const unknown = used().filter(({ name }) => !name.startsWith('origin_') && !known.has(name));
    expect(unknown).toEqual([]);
  });

  // Reads the origin service's metric definitions. Fails until origin/src/metrics.ts exists.
  it('every origin_* name is exported by origin/src/metrics.ts', () => {
    expect(
      existsSync(ORIGIN_METRICS_FILE),
      "origin/src/metrics.ts (the origin router's prom-client metrics) is missing",
    ).toBe(true);
    const metrics = originMetricsFromSource(readFileSync(ORIGIN_METRICS_FILE, 'utf8'));
    expect(
      metrics.size,
      "no `name: 'origin_...'` literal found in origin/src/metrics.ts",
    ).toBeGreaterThan(0);
    const series = originSeries(metrics);
    const unknown = used().filter(({ name }) => name.startsWith('origin_') && !series.has(name));
    expect(unknown, `exported: ${[...metrics.keys()].join(', ')}`).toEqual([]);
  });
});
