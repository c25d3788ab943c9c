/**
 * Gateway API keys. Contract: keys are `sk-gw-…`, stored only as SHA-256 digests
 * (./keys.ts, ./store.ts); `apiKeyAuth()` puts the caller's KeyRecord on the context
 * (`c.get('apiKey')`) or answers 401; lookups are cached per isolate for `auth.keyCacheTtlMs`
 * (./lookup.ts).
 */

export * from './keys.ts';
export { KeyLookup } from './lookup.ts';
export { apiKeyAuth, presentedKey } from './middleware.ts';
export { type AuditEntry, KeyStore } from './store.ts';
