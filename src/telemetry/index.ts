/**
 * OpenTelemetry at the edge. Contract: with `OTEL_EXPORTER_OTLP_ENDPOINT` set
 * (`telemetrySettings`), `createGateway` builds one `Telemetry` per isolate; the `tracing()`
 * middleware starts a request's `RequestTrace` (SERVER span continuing the client's
 * `traceparent`), the proxy opens an `AttemptSpan` (CLIENT, GenAI attributes) per upstream
 * attempt and sends its `traceparent` upstream, and the request log's ending ends the trace and
 * flushes spans (and metrics when due) in `waitUntil`. Off: nothing is built, every hook is
 * one undefined check. Names: ./semconv.ts (shared with origin/).
 */
export { type AnswerFacts, answerFacts } from './attributes.ts';
export { contentKeeper, tracesContent } from './content.ts';
export { endRequestTrace, requestTrace, tracing } from './middleware.ts';
export { type AttemptSpan, RequestTrace } from './request.ts';
export { TelemetryConfigError, type TelemetrySettings, telemetrySettings } from './settings.ts';
export { Telemetry } from './telemetry.ts';
