/**
 * A test OTLP/HTTP receiver (a collector's ingest side, nothing more): `POST /v1/traces` and
 * `POST /v1/metrics` with `content-type: application/json` (OTLP/JSON, decoded and kept,
 * flattened for assertions) or `application/x-protobuf` (counted, not decoded). TEST FIXTURE
 * for tests, `npm run dev` and benchmarks. `GET /received` answers everything kept, as JSON. `hang: true` accepts connections and never answers
 * (a collector that is down in the slow way).
 *
 * CLI: `node tools/otlp/receiver.ts --port 4318`.
 */
import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';

export type Value = string | number | boolean | Value[] | undefined;

export interface ReceivedSpan {
  service: string;
  traceId: string;
  spanId: string;
  parentSpanId: string;
  name: string;
  /** OTLP SpanKind: 1 internal, 2 server, 3 client. */
  kind: number;
  startMs: number;
  endMs: number;
  attributes: Record<string, Value>;
  events: { name: string; attributes: Record<string, Value> }[];
  /** OTLP status code: 0 unset, 1 ok, 2 error. */
  status: number;
  /** Which export request carried it (1, 2, ... in arrival order, all signals counted). */
  exportNo: number;
}

export interface ReceivedPoint {
  service: string;
  instance: string;
  metric: string;
  attributes: Record<string, Value>;
  /** Sum value (counters) or histogram sum. */
  value: number;
  /** Histogram count (1 per recording); undefined for sums. */
  count?: number;
  timeMs: number;
}

export interface OtlpReceiver {
  url: string;
  spans: ReceivedSpan[];
  /** Every metric point of every export, in arrival order (cumulative: take the latest). */
  points: ReceivedPoint[];
  /** Exports received by path and content type, e.g. `/v1/traces application/x-protobuf`. */
  exports: Map<string, number>;
  close(): Promise<void>;
}

/** The parts of OTLP/JSON read here (opentelemetry-proto's JSON mapping). */
interface AnyValue {
  stringValue?: string;
  boolValue?: boolean;
  intValue?: string | number;
  doubleValue?: number;
  arrayValue?: { values?: AnyValue[] };
}
type KeyValues = { key: string; value?: AnyValue }[];
interface OtlpSpan {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  kind: number;
  startTimeUnixNano?: string;
  endTimeUnixNano?: string;
  attributes?: KeyValues;
  events?: { name: string; attributes?: KeyValues }[];
  status?: { code?: number };
}
interface OtlpPoint {
  attributes?: KeyValues;
  asInt?: string | number;
  asDouble?: number;
  sum?: number;
  count?: string | number;
  timeUnixNano?: string;
}
interface Json {
  resourceSpans?: {
    resource?: { attributes?: KeyValues };
    scopeSpans?: { spans?: OtlpSpan[] }[];
  }[];
  resourceMetrics?: {
    resource?: { attributes?: KeyValues };
    scopeMetrics?: {
      metrics?: {
        name: string;
        sum?: { dataPoints?: OtlpPoint[] };
        histogram?: { dataPoints?: OtlpPoint[] };
      }[];
    }[];
  }[];
}

function anyValue(v: AnyValue | undefined): Value {
  if (!v) return undefined;
  if (v.stringValue !== undefined) return v.stringValue;
  if (v.boolValue !== undefined) return v.boolValue;
  if (v.intValue !== undefined) return Number(v.intValue);
  if (v.doubleValue !== undefined) return Number(v.doubleValue);
  if (v.arrayValue) return (v.arrayValue.values ?? []).map(anyValue);
  return undefined;
}

function attributes(list: KeyValues | undefined): Record<string, Value> {
  return Object.fromEntries((list ?? []).map((a) => [a.key, anyValue(a.value)]));
}

const nanosToMs = (n: string | number | undefined) => Number(BigInt(n ?? 0) / 1_000_000n);

/** OTLP/JSON ids are hex strings (the protobuf-JSON mapping of OTLP says so). */
function spansOf(body: Json): Omit<ReceivedSpan, 'exportNo'>[] {
  const out: Omit<ReceivedSpan, 'exportNo'>[] = [];
  for (const rs of body.resourceSpans ?? []) {
    const service = String(attributes(rs.resource?.attributes)['service.name'] ?? '');
    for (const ss of rs.scopeSpans ?? []) {
      for (const s of ss.spans ?? []) {
        out.push({
          service,
          traceId: s.traceId,
          spanId: s.spanId,
          parentSpanId: s.parentSpanId ?? '',
          name: s.name,
          kind: s.kind,
          startMs: nanosToMs(s.startTimeUnixNano),
          endMs: nanosToMs(s.endTimeUnixNano),
          attributes: attributes(s.attributes),
          events: (s.events ?? []).map((e) => ({
            name: e.name,
            attributes: attributes(e.attributes),
          })),
          status: s.status?.code ?? 0,
        });
      }
    }
  }
  return out;
}

function pointsOf(body: Json): ReceivedPoint[] {
  const out: ReceivedPoint[] = [];
  for (const rm of body.resourceMetrics ?? []) {
    const resource = attributes(rm.resource?.attributes);
    const service = String(resource['service.name'] ?? '');
    const instance = String(resource['service.instance.id'] ?? '');
    for (const sm of rm.scopeMetrics ?? []) {
      for (const m of sm.metrics ?? []) {
        const sum = m.sum?.dataPoints ?? [];
        const hist = m.histogram?.dataPoints ?? [];
        for (const p of sum) {
          out.push({
            service,
            instance,
            metric: m.name,
            attributes: attributes(p.attributes),
            value: Number(p.asInt ?? p.asDouble ?? 0),
            timeMs: nanosToMs(p.timeUnixNano),
          });
        }
        for (const p of hist) {
          out.push({
            service,
            instance,
            metric: m.name,
            attributes: attributes(p.attributes),
            value: Number(p.sum ?? 0),
            count: Number(p.count ?? 0),
            timeMs: nanosToMs(p.timeUnixNano),
          });
        }
      }
    }
  }
  return out;
}

async function readBody(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

export async function startOtlpReceiver(
  opts: { port?: number; host?: string; hang?: boolean } = {},
): Promise<OtlpReceiver> {
  const spans: ReceivedSpan[] = [];
  const points: ReceivedPoint[] = [];
  const exports = new Map<string, number>();
  let exportCount = 0;
  const server = createServer(async (req, res) => {
    if (opts.hang) return; // never answers; the client's own timeout ends it
    const body = await readBody(req);
    const path = new URL(req.url ?? '/', 'http://receiver').pathname;
    const type = String(req.headers['content-type'] ?? '').split(';')[0]!;
    if (req.method === 'GET' && path === '/received') {
      // What arrived so far, for tests that run where this process's memory is out of reach
      // (workerd).
      const received = { spans, points, exports: Object.fromEntries(exports) };
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(received));
      return;
    }
    if (req.method !== 'POST' || (path !== '/v1/traces' && path !== '/v1/metrics')) {
      res.writeHead(404).end();
      return;
    }
    const key = `${path} ${type}`;
    exports.set(key, (exports.get(key) ?? 0) + 1);
    const exportNo = ++exportCount;
    if (type === 'application/json') {
      try {
        const json = JSON.parse(body.toString('utf8')) as Json;
        if (path === '/v1/traces') spans.push(...spansOf(json).map((sp) => ({ ...sp, exportNo })));
        else points.push(...pointsOf(json));
      } catch {
        res.writeHead(400, { 'content-type': 'application/json' }).end('{}');
        return;
      }
    } else if (type !== 'application/x-protobuf') {
      res.writeHead(415).end();
      return;
    }
    res.writeHead(200, { 'content-type': type }).end(type === 'application/json' ? '{}' : '');
  });
  await new Promise<void>((resolve) =>
    server.listen(opts.port ?? 0, opts.host ?? '127.0.0.1', resolve),
  );
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://${opts.host ?? '127.0.0.1'}:${port}`,
    spans,
    points,
    exports,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const { values } = parseArgs({ options: { port: { type: 'string', default: '4318' } } });
  const receiver = await startOtlpReceiver({ port: Number(values.port) });
  console.log(`otlp receiver listening on ${receiver.url}`);
}
