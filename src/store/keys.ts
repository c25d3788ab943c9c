/**
 * Every Redis key name the gateway uses (`gw:*`), in one place, so no module rebuilds another's
 * keys by hand. What each holds is documented where it is written (the module named).
 */
export const redisKeys = {
  /** src/auth/store.ts: a key's record by the SHA-256 of the key; its digest by id; all ids;
   * the admin audit list. */
  keyRecord: (digest: string) => `gw:key:${digest}`,
  keyDigest: (id: string) => `gw:keyid:${id}`,
  keyIds: 'gw:keyids',
  audit: 'gw:audit',
  /** src/cors: origins any key names. */
  corsOrigins: 'gw:cors:origins',
  /** src/usage/counters.ts: usage hashes per model and day, key and month or day, tenant and day. */
  usage: {
    model: (model: string, day: string) => `gw:usage:model:${model}:${day}`,
    key: (keyId: string, period: string) => `gw:usage:key:${keyId}:${period}`,
    tenant: (tenant: string, day: string) => `gw:usage:tenant:${tenant}:${day}`,
  },
  /** src/limits/budget.ts: a key's month of spend, and its reservations' expiries. */
  budget: (keyId: string, month: string) => ({
    hash: `gw:budget:${keyId}:${month}`,
    zset: `gw:budget:res:${keyId}:${month}`,
  }),
  /** src/limits/ratelimit.ts: @upstash/ratelimit's prefixes (it appends the identifier). */
  rateLimitPrefix: {
    requests: 'gw:rl:rpm',
    tokens: 'gw:rl:tpm',
    adminFailures: 'gw:rl:admin-fail',
  },
  /** src/routing/health.ts: failures in the window, an open circuit (value: when it opened),
   * a failed probe, the probe's last verdicts (`<id>` a provider or `region:<name>`). */
  health: {
    failures: (provider: string) => `gw:fail:${provider}`,
    circuit: (provider: string) => `gw:circuit:${provider}`,
    probe: (provider: string) => `gw:probe:${provider}`,
    probeLog: (id: string) => `gw:probe:log:${id}`,
  },
  /** src/cache/store.ts: an entry, and the purge generations of a scope and of a model. */
  cache: {
    entry: (key: string) => `gw:cache:${key}`,
    scopeGeneration: (scope: string) => `gw:cache:gen:scope:${scope}`,
    modelGeneration: (model: string) => `gw:cache:gen:model:${model}`,
  },
  /** src/responses/store.ts: a stored Responses API response. */
  response: (id: string) => `gw:resp:${id}`,
  /** src/templates/store.ts: a prompt template's record, its immutable versions, all ids. */
  template: {
    record: (id: string) => `gw:tpl:${id}`,
    versions: (id: string) => `gw:tpl:${id}:versions`,
    ids: 'gw:tplids',
  },
} as const;
