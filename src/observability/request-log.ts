import type { Usage } from '../usage/index.ts';

/**
 * One structured JSON line per request, written when the request is over (for a stream: when
 * the stream ends, is cut, or the client leaves). Never holds headers, bodies or keys.
 */
export interface RequestLogRecord {
  request_id: string;
  method: string;
  path: string;
  status: number;
  latency_ms: number;
  /** Time until the first response byte was ready for the client. */
  ttfb_ms?: number;
  model?: string;
  provider?: string;
  upstream_model?: string;
  attempts?: number;
  stream?: boolean;
  usage?: Usage;
  error_code?: string | null;
  /** Why a stream ended early: client_abort, upstream_error, idle_timeout... */
  stream_end?: string;
  failures?: string[];
}

export type RequestLogger = (record: RequestLogRecord) => void;

export const consoleRequestLogger: RequestLogger = (record) => {
  console.log(JSON.stringify({ level: 'info', msg: 'request', ...record }));
};
