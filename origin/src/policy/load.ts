/**
 * How loaded an endpoint is right now, from two sources: the last scrape of its /metrics
 * (which sees every router's traffic, but is up to one scrape interval old) and this router's
 * own in-flight count (exact for this router, current). Pure.
 */

export interface Scraped {
  /** When the scrape answered (ms, any monotonic clock). */
  at: number;
  /** This router's in-flight count at that moment. */
  inflightAtScrape: number;
  /** Undefined when the server does not export it (TEI). */
  running: number | undefined;
  waiting: number;
  kvUsage: number | undefined;
}

export interface EndpointView {
  id: string;
  /** Requests this router has outstanding at the endpoint. */
  inflight: number;
  scraped?: Scraped | undefined;
}

export interface LoadEstimate {
  /** Requests at the endpoint (running + waiting), best guess. */
  load: number;
  /** Requests waiting for a batch slot, conservative (arrivals since the scrape count). */
  waiting: number;
  kvUsage: number | undefined;
  /** Whether the scrape was recent enough to use. */
  fresh: boolean;
}

/**
 * The scrape plus what this router changed since: requests it sent since the scrape are added,
 * requests it saw finish are taken off. Never below this router's own in-flight count. A stale
 * or missing scrape leaves only the in-flight count.
 */
export function estimateLoad(e: EndpointView, now: number, staleAfterMs: number): LoadEstimate {
  const s = e.scraped;
  if (!s || now - s.at > staleAfterMs) {
    return { load: e.inflight, waiting: 0, kvUsage: undefined, fresh: false };
  }
  const delta = e.inflight - s.inflightAtScrape;
  const running = s.running ?? Math.max(0, s.inflightAtScrape - s.waiting);
  return {
    load: Math.max(e.inflight, running + s.waiting + delta),
    waiting: Math.max(0, s.waiting + Math.max(0, delta)),
    kvUsage: s.kvUsage,
    fresh: true,
  };
}
