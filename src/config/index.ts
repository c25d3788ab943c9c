/**
 * Gateway config: the zod schema (./schema.ts) and its loader (./load.ts).
 * Contract: `loadConfig(raw, vars)` returns a fully-defaulted GatewayConfig or throws a
 * ConfigError naming each invalid field and the reason.
 */
export { ConfigError, formatPath, loadConfig } from './load.ts';
export * from './schema.ts';
