import { type ReadableSpan, TracerProvider } from '@opentelemetry/sdk-trace';
import { describe, expect, it } from 'vitest';
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
});
