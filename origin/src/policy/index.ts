/**
 * Endpoint picking policies. Contract: `pick` gets the endpoints admission control allows
 * (healthy, not ejected, not saturated, not already tried for this request) and returns one
 * of them; `commit` is told where the request actually went. Everything here is pure state.
 *
 * - `scheduler`: prefix affinity + queue depth + KV pressure under a load bound (./scheduler.ts)
 * - `round-robin`: the next endpoint in a fixed order
 * - `least-request`: the fewest requests outstanding from this router (ties: random)
 */
import type { PolicyName, SchedulerConfig } from '../config.ts';
import { type EndpointView, estimateLoad } from './load.ts';
import { PrefixIndex } from './prefix-index.ts';
import { choose } from './scheduler.ts';

export interface PickRequest {
  /** Chained block hashes of the prompt (./prefix-index.ts); empty when not used. */
  hashes: readonly number[];
}

export interface Policy {
  readonly name: PolicyName;
  /** Whether the policy reads prompt hashes (so the caller computes them). */
  readonly usesPrefix: boolean;
  pick(candidates: readonly EndpointView[], req: PickRequest, now: number): string | undefined;
  commit(endpoint: string, req: PickRequest): void;
  forget(endpoint: string): void;
}

export interface PolicyOptions {
  scheduler: SchedulerConfig;
  staleAfterMs: number;
  random?: () => number;
}

export function createPolicy(name: PolicyName, opts: PolicyOptions): Policy {
  const random = opts.random ?? Math.random;
  switch (name) {
    case 'round-robin': {
      let next = 0;
      return {
        name,
        usesPrefix: false,
        pick(candidates) {
          if (candidates.length === 0) return undefined;
          const sorted = [...candidates].sort((a, b) => (a.id < b.id ? -1 : 1));
          return sorted[next++ % sorted.length]!.id;
        },
        commit() {},
        forget() {},
      };
    }
    case 'least-request':
      return {
        name,
        usesPrefix: false,
        pick(candidates) {
          const min = Math.min(...candidates.map((c) => c.inflight));
          const best = candidates.filter((c) => c.inflight === min);
          return best[Math.floor(random() * best.length)]?.id;
        },
        commit() {},
        forget() {},
      };
    case 'scheduler': {
      const index = new PrefixIndex(opts.scheduler.prefix.lruBlocksPerEndpoint);
      return {
        name,
        usesPrefix: true,
        pick(candidates, req, now) {
          const matched = index.match(
            req.hashes,
            candidates.map((c) => c.id),
          );
          return choose(
            candidates.map((c) => ({
              id: c.id,
              estimate: estimateLoad(c, now, opts.staleAfterMs),
              prefixBlocks: matched.get(c.id) ?? 0,
            })),
            req.hashes.length,
            opts.scheduler,
            random,
          );
        },
        commit(endpoint, req) {
          if (req.hashes.length > 0) index.record(req.hashes, endpoint);
        },
        forget(endpoint) {
          index.remove(endpoint);
        },
      };
    }
  }
}
