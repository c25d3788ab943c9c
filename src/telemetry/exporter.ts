import {
  JsonMetricsSerializer,
  JsonTraceSerializer,
  ProtobufMetricsSerializer,
} from '@opentelemetry/otlp-transformer';
import type { ResourceMetrics } from '@opentelemetry/sdk-metrics';
import type { ReadableSpan } from '@opentelemetry/sdk-trace';
import type { TelemetrySettings } from './settings.ts';
import { encodeSpans } from './span-encoder.ts';

/**
 * OTLP/HTTP export from a Worker. Written here rather than taken from
 * `@opentelemetry/exporter-trace-otlp-http`: its transports are Node's `http` module or the
 * browser's XHR / sendBeacon, none of which a Worker has, and its batching runs on timers,
 * which a Worker does not keep alive between requests. The OTel packages still do the real
 * work (spans from `@opentelemetry/sdk-trace`, the OTLP encodings from
 * `@opentelemetry/otlp-transformer`, but spans' protobuf from ./span-encoder.ts, which writes
 * the same bytes for less); this class only holds spans in a bounded queue and sends
 * them with `fetch`, inside the request's `waitUntil`.
 *
 * Batches across requests, as the specification's batch span processor does: a request's spans
 * wait in the queue until `OTEL_BSP_MAX_EXPORT_BATCH_SIZE` are there or `OTEL_BSP_SCHEDULE_DELAY`
 * has passed since the first of them was queued (a wait held by that request's `waitUntil`),
 * so a busy isolate sends one export per batch, not one per request (an export is a
 * subrequest: it costs about what the request's own upstream call does).
 *
 * Never throws and never waits on the request path: a full queue drops new spans, a collector
 * that is down, slow (past `timeoutMs`) or answers non-2xx loses that batch; both are counted
 * in `dropped`.
 */
export class OtlpSender {
  #pending: ReadableSpan[] = [];
  #inFlight = 0;
  /** The isolate's export waiting for the schedule delay, if one is. */
  #scheduled: Promise<void> | undefined;
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

  /** What a request that has just ended leaves to `waitUntil`: an export at once when a batch
   * is full (or the delay is 0), else the scheduled export, started by the first request that
   * finds spans queued and none scheduled; nothing when neither applies. */
  afterRequest(): Promise<void> | undefined {
    const { scheduleDelayMs, maxExportBatchSpans } = this.settings;
    if (this.#pending.length === 0) return undefined;
    if (scheduleDelayMs === 0 || this.#pending.length >= maxExportBatchSpans) {
      return this.flushSpans();
    }
    if (this.#scheduled) return undefined;
    this.#scheduled = new Promise<void>((resolve) => setTimeout(resolve, scheduleDelayMs)).then(
      () => {
        this.#scheduled = undefined;
        return this.flushSpans();
      },
    );
    return this.#scheduled;
  }

  /** Sends what is queued, in batches of `OTEL_BSP_MAX_EXPORT_BATCH_SIZE` (one request each,
   * while export slots are free); resolves when they are done or failed. */
  async flushSpans(): Promise<void> {
    const encode =
      this.settings.protocol === 'http/json' ? JsonTraceSerializer.serializeRequest : encodeSpans;
    const exports: Promise<void>[] = [];
    while (this.#pending.length > 0 && this.#inFlight < this.maxInFlight) {
      const batch = this.#pending.splice(0, this.settings.maxExportBatchSpans);
      const sent = this.#send(this.settings.tracesUrl, () => encode(batch));
      exports.push(
        sent.then((ok) => {
          if (!ok) this.dropped += batch.length;
        }),
      );
    }
    await Promise.all(exports);
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
