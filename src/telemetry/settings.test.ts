import { describe, expect, it } from 'vitest';
import { samplerFor } from './sampler.ts';
import { TelemetryConfigError, telemetrySettings, telemetryVars } from './settings.ts';

describe('telemetrySettings (OTEL_* variables)', () => {
  it('is off without an endpoint, also when the variable is empty', () => {
    expect(telemetrySettings({})).toBeUndefined();
    expect(telemetrySettings({ OTEL_EXPORTER_OTLP_ENDPOINT: '' })).toBeUndefined();
  });

  it('appends the signal paths to the endpoint and takes the defaults', () => {
    const s = telemetrySettings({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318/' })!;
    expect(s).toMatchObject({
      tracesUrl: 'http://collector:4318/v1/traces',
      metricsUrl: 'http://collector:4318/v1/metrics',
      protocol: 'http/protobuf',
      sampler: 'parentbased_always_on',
      samplerRatio: 1,
      headers: {},
    });
  });

  it('reads headers, protocol, per-signal endpoints and the sampler', () => {
    const s = telemetrySettings({
      OTEL_EXPORTER_OTLP_ENDPOINT: 'https://otel.example',
      OTEL_EXPORTER_OTLP_METRICS_ENDPOINT: 'https://metrics.example/ingest',
      OTEL_EXPORTER_OTLP_HEADERS: 'authorization=Bearer%20abc,x-tenant=t1',
      OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
      OTEL_SERVICE_NAME: 'edge-eu',
      OTEL_TRACES_SAMPLER: 'parentbased_traceidratio',
      OTEL_TRACES_SAMPLER_ARG: '0.25',
    })!;
    expect(s.tracesUrl).toBe('https://otel.example/v1/traces');
    expect(s.metricsUrl).toBe('https://metrics.example/ingest');
    expect(s.headers).toEqual({ authorization: 'Bearer abc', 'x-tenant': 't1' });
    expect(s.protocol).toBe('http/json');
    expect(s.serviceName).toBe('edge-eu');
    expect(samplerFor(s).toString()).toContain('TraceIdRatioBased{0.25}');
  });

  it('names the bad variable (gRPC cannot be spoken from a Worker)', () => {
    expect(() =>
      telemetrySettings({
        OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4317',
        OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc',
      }),
    ).toThrow(TelemetryConfigError);
    expect(() =>
      telemetrySettings({
        OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4318',
        OTEL_TRACES_SAMPLER_ARG: '2',
      }),
    ).toThrow(/OTEL_TRACES_SAMPLER_ARG/);
  });
});

describe('OTEL_SEMCONV_STABILITY_OPT_IN', () => {
  const endpoint = { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4318' };
  it('selects the GenAI development names only when gen_ai_latest_experimental is listed', () => {
    expect(telemetrySettings(endpoint)!.genAi).toBe('stable');
    expect(
      telemetrySettings({ ...endpoint, OTEL_SEMCONV_STABILITY_OPT_IN: 'http/dup' })!.genAi,
    ).toBe('stable');
    expect(
      telemetrySettings({
        ...endpoint,
        OTEL_SEMCONV_STABILITY_OPT_IN: 'http/dup, gen_ai_latest_experimental',
      })!.genAi,
    ).toBe('latest_experimental');
  });
});

describe('telemetryVars (what npm run dev hands to wrangler dev)', () => {
  it('keeps the OTEL_* variables this module reads, set and not empty', () => {
    expect(
      telemetryVars({
        OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:4318',
        OTEL_SERVICE_NAME: '',
        OTEL_UNKNOWN_THING: 'x',
        PATH: '/usr/bin',
      }),
    ).toEqual({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:4318' });
  });
});
