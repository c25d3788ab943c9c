/** Observability: the per-request log line and secret redaction. */
export { redact } from './redact.ts';
export {
  consoleRequestLogger,
  type RequestLogger,
  type RequestLogRecord,
} from './request-log.ts';
