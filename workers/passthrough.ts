/**
 * The benchmark floor (see bench/README.md): a bare pass-through Worker on the same runtime as
 * the gateway. It forwards method, headers and body to `UPSTREAM_URL` + path + query and returns
 * the upstream Response as is (streams untouched). Not part of the gateway; only
 * bench/wrangler.passthrough.toml runs it. With `LOG_LINE` set (the bench's `floor-log`) it
 * also writes one ~1 KB JSON line per request with console.log, as the gateway does: what that
 * one line costs under `wrangler dev`, apart from everything else the gateway does.
 */
interface Env {
  UPSTREAM_URL: string;
  LOG_LINE?: string;
}

export default {
  fetch(request, env) {
    const { pathname, search } = new URL(request.url);
    const started = Date.now();
    const response = fetch(new Request(`${env.UPSTREAM_URL}${pathname}${search}`, request));
    if (!env.LOG_LINE) return response;
    return response.then((res) => {
      console.log(JSON.stringify(logLine(request.method, pathname, res.status, started)));
      return res;
    });
  },
} satisfies ExportedHandler<Env>;

/** The shape and size of a gateway request line (see src/observability/request-log.ts). */
function logLine(method: string, path: string, status: number, started: number) {
  return {
    level: 'info',
    msg: 'request',
    request_id: crypto.randomUUID(),
    method,
    path,
    status,
    latency_ms: Date.now() - started,
    model: 'gpt-4o-mini',
    stream: false,
    route: {
      zone: 'none',
      home: 'us-east',
      home_reason: 'default_region',
      regions: ['us-east', 'us-west', 'eu-west', 'eu-central', 'ap-southeast'],
      dropped_by_residency: [],
      demoted_by_health: [],
    },
    cache: 'BYPASS',
    provider: 'openai',
    region: 'global',
    upstream_model: 'gpt-4o-mini',
    attempts: 1,
    usage: { prompt_tokens: 9, completion_tokens: 12, total_tokens: 21, source: 'upstream' },
    cost_usd: 0.0000087,
    ttfb_ms: Date.now() - started,
    key_id: 'key_0123456789abcdef',
    tenant: 'default',
    note: 'floor-log: a stand-in line of the size of the gateway one'.padEnd(300, '.'),
  };
}
