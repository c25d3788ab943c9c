/** Observability: the per-request log line (middleware + stream hand-off) and secret redaction. */
export { clip, redact, redactSecrets, scrubUpstreamText } from './redact.ts';
export {
  annotateRequestLog,
  consoleRequestLogger,
  deferRequestLog,
  holdRequestLog,
  type LogGate,
  type RequestLogger,
  type RequestLogRecord,
  requestLog,
} from './request-log.ts';
