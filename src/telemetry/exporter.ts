import {
  JsonMetricsSerializer,
  JsonTraceSerializer,
  ProtobufMetricsSerializer,
  ProtobufTraceSerializer,
} from '@opentelemetry/otlp-transformer';
import type { ResourceMetrics } from '@opentelemetry/sdk-metrics';
import type { ReadableSpan } from '@opentelemetry/sdk-trace';
import type { TelemetrySettings } from './settings.ts';

/**
 * OTLP/HTTP export from a Worker. Written here rather than taken from
 * `@opentelemetry/exporter-trace-otlp-http`: its transports are Node's `http` module or the
 * browser's XHR / sendBeacon, none of which a Worker has, and its batching runs on timers,
 * which a Worker does not keep alive between requests. The OTel packages still do the real
 * work (spans from `@opentelemetry/sdk-trace`, the OTLP encodings from
 * `@opentelemetry/otlp-transformer`); this class only holds spans in a bounded queue and sends
 * them with `fetch`, inside the request's `waitUntil`.
 *
 * Never throws and never waits on the request path: a full queue drops new spans, a collector
 * that is down, slow (past `timeoutMs`) or answers non-2xx loses that batch; both are counted
 * in `dropped`.
 */
export class OtlpSender {
  #pending: ReadableSpan[] = [];
  #inFlight = 0;
  /** Spans and metric exports lost since the isolate started. */
  dropped = 0;

  private readonly settings: TelemetrySettings;
  /** Concurrent exports at most; past that spans wait in the queue for the next flush. */
  private readonly maxInFlight: number;

  constructor(settings: TelemetrySettings, maxInFlight = 4) {
    this.settings = settings;
    this.maxInFlight = maxInFlight;
  }

  enqueue(span: ReadableSpan): void {
    if (this.#pending.length >= this.settings.maxQueueSpans) this.dropped++;
    else this.#pending.push(span);
  }

  get pending(): number {
    return this.#pending.length;
  }

  /** Sends what is queued (one request); resolves when it is done or failed. */
  async flushSpans(): Promise<void> {
    if (this.#pending.length === 0 || this.#inFlight >= this.maxInFlight) return;
    const batch = this.#pending;
    this.#pending = [];
    const serializer =
      this.settings.protocol === 'http/json' ? JsonTraceSerializer : ProtobufTraceSerializer;
    const ok = await this.#send(this.settings.tracesUrl, () => serializer.serializeRequest(batch));
    if (!ok) this.dropped += batch.length;
  }

  async sendMetrics(metrics: ResourceMetrics): Promise<boolean> {
    if (this.#inFlight >= this.maxInFlight) return false;
    const serializer =
      this.settings.protocol === 'http/json' ? JsonMetricsSerializer : ProtobufMetricsSerializer;
    return this.#send(this.settings.metricsUrl, () => serializer.serializeRequest(metrics));
  }

  async #send(url: string, serialize: () => Uint8Array | undefined): Promise<boolean> {
    this.#inFlight++;
    try {
      const body = serialize();
      if (!body) return false;
      const response = await fetch(url, {
        method: 'POST',
        headers: {
          ...this.settings.headers,
          'content-type':
            this.settings.protocol === 'http/json' ? 'application/json' : 'application/x-protobuf',
        },
        // The serializers' Uint8Array is typed over ArrayBufferLike, which DOM's BodyInit
        // (the console's typecheck of this module) does not take; it is a plain ArrayBuffer.
        body: body as Uint8Array<ArrayBuffer>,
        signal: AbortSignal.timeout(this.settings.timeoutMs),
      });
      await response.body?.cancel();
      return response.ok;
    } catch {
      return false;
    } finally {
      this.#inFlight--;
    }
  }
}
