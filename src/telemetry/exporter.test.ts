import { type ReadableSpan, TracerProvider } from '@opentelemetry/sdk-trace';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { OtlpSender } from './exporter.ts';
import { telemetrySettings } from './settings.ts';

/** A collector nobody listens on (port 1 refuses at once). */
const settings = (extra: Record<string, string> = {}) =>
  telemetrySettings({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:1', ...extra })!;
const real = new TracerProvider().getTracer('test').startSpan('chat m');
real.end();
/** A real SDK span (it serializes), so only the collector can make an export fail. */
const span = real as unknown as ReadableSpan;

describe('OtlpSender', () => {
  it('holds at most OTEL_BSP_MAX_QUEUE_SIZE spans and counts the rest as dropped', () => {
    const sender = new OtlpSender(settings({ OTEL_BSP_MAX_QUEUE_SIZE: '2' }));
    for (let i = 0; i < 5; i++) sender.enqueue(span);
    expect(sender.pending).toBe(2);
    expect(sender.dropped).toBe(3);
  });

  it('never throws when the collector is down: the batch is counted as dropped', async () => {
    const sender = new OtlpSender(settings({ OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json' }));
    sender.enqueue(span);
    sender.enqueue(span);
    await expect(sender.flushSpans()).resolves.toBeUndefined();
    expect(sender.pending).toBe(0);
    expect(sender.dropped).toBe(2);
  });

  it('sends nothing when nothing is queued', async () => {
    const sender = new OtlpSender(settings());
    await sender.flushSpans();
    expect(sender.dropped).toBe(0);
  });

  describe('batching across requests (OTEL_BSP_SCHEDULE_DELAY, OTEL_BSP_MAX_EXPORT_BATCH_SIZE)', () => {
    afterEach(() => {
      vi.useRealTimers();
    });
    const batching = (maxInFlight?: number) =>
      new OtlpSender(
        settings({
          OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
          OTEL_BSP_SCHEDULE_DELAY: '5000',
          OTEL_BSP_MAX_EXPORT_BATCH_SIZE: '4',
        }),
        maxInFlight,
      );

    it('holds spans until the delay has passed since the first request that queued them', async () => {
      vi.useFakeTimers();
      const sender = batching();
      sender.enqueue(span);
      const scheduled = sender.afterRequest();
      expect(scheduled).toBeInstanceOf(Promise);
      sender.enqueue(span);
      // a later request finds the export already scheduled: nothing of its own to wait for
      expect(sender.afterRequest()).toBeUndefined();
      expect(sender.pending).toBe(2);
      await vi.advanceTimersByTimeAsync(4_999);
      expect(sender.pending).toBe(2);
      await vi.advanceTimersByTimeAsync(1);
      vi.useRealTimers();
      expect(sender.pending).toBe(0);
      await scheduled;
      // both spans went in the one export (to a collector that is down: counted as dropped)
      expect(sender.dropped).toBe(2);
    });

    it('sends at once when a batch is full, in batches of the maximum size', async () => {
      vi.useFakeTimers();
      const sender = batching(1); // one export at a time: the rest stays queued
      for (let i = 0; i < 3; i++) sender.enqueue(span);
      expect(sender.afterRequest()).toBeInstanceOf(Promise); // the scheduled one
      for (let i = 0; i < 6; i++) sender.enqueue(span);
      vi.useRealTimers();
      const now = sender.afterRequest();
      expect(sender.pending).toBe(5); // 9 queued, one export of 4 on its way
      await now;
      expect(sender.dropped).toBe(4);
    });

    it('sends after every request when the delay is 0', async () => {
      const sender = new OtlpSender(
        settings({ OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json', OTEL_BSP_SCHEDULE_DELAY: '0' }),
      );
      expect(sender.afterRequest()).toBeUndefined(); // nothing queued
      sender.enqueue(span);
      await sender.afterRequest();
      expect(sender.pending).toBe(0);
      expect(sender.dropped).toBe(1);
    });
  });
});
