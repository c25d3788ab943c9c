/**
 * The component tests import the gateway's own pure modules (errors, filters, key schemas) to
 * answer with its real wire shapes. Their imports reach two Workers-only names; the console's
 * DOM typings cannot load @cloudflare/workers-types beside them, so these two are declared here
 * (type checking only, nothing runs from this file).
 */
interface MessageSendRequest<Body = unknown> {
  body: Body;
  contentType?: string;
  delaySeconds?: number;
}
interface CacheStorage {
  readonly default: Cache;
}
