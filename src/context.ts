import type { RequestIdVariables } from 'hono/request-id';
import type { GatewayConfig } from './config/index.ts';
import type { RequestLogger, RequestLogRecord } from './observability/index.ts';
import type { Provider } from './providers/index.ts';

/** What the app is built from; tests build apps with their own config and logger. */
export interface GatewayDeps {
  config: GatewayConfig;
  providers: Map<string, Provider>;
  log: RequestLogger;
  /** Drives load-balancing and backoff jitter; injectable for deterministic tests. */
  random: () => number;
}

export type AppEnv = {
  Variables: RequestIdVariables & {
    deps: GatewayDeps;
    startedAt: number;
    logRecord: RequestLogRecord;
    logDeferred: boolean;
  };
};
