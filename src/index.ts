/** The edge gateway, as a library: build an app from a config (see docs/architecture.md). */
export { type AppOptions, createApp } from './app.ts';
export { ConfigError, type GatewayConfig, loadConfig } from './config/index.ts';
export { GatewayError } from './errors.ts';
