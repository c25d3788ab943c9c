import { type Redis, redisKeys, scriptFor } from '../store/index.ts';

/**
 * Monthly spend budgets, exact under concurrency. Before the upstream call a request
 * reserves its worst-case cost; it is admitted only while `spent + reserved < budget`, so
 * concurrent requests cannot all slip through on a stale total: at most the last admitted
 * request can cross the budget, by at most its own cost. At the end the reservation is
 * replaced by the real cost. Reservations that are never settled (an isolate died) expire.
 *
 *   gw:budget:<keyId>:<YYYY-MM>      hash: spent, reserved (nano-USD), r:<id> amounts
 *   gw:budget:res:<keyId>:<YYYY-MM>  zset: <id> scored by expiry (ms); x:<id> tombstones
 *
 * Invariant: `reserved` is the sum of the `r:<id>` fields and every `r:<id>` has its expiry
 * in the zset. Reservation ids are made by the gateway (`newReservationId`), never taken
 * from the client; a reserve for an id that already holds a reservation or was already
 * settled takes nothing. A release that finds no reservation but may race a reserve still in
 * flight (the reserve timed out on our side) leaves a tombstone `x:<id>`, so that reserve,
 * if it runs later, takes nothing; tombstones expire with the reservation TTL.
 *
 * Written as Lua (no library does budgets) and run with EVALSHA (`scriptFor`).
 */

const RESERVE = `
local hash, zset = KEYS[1], KEYS[2]
local budget, amount, id = tonumber(ARGV[1]), tonumber(ARGV[2]), ARGV[3]
local now, ttl = tonumber(ARGV[4]), tonumber(ARGV[5])
for _, old in ipairs(redis.call('ZRANGEBYSCORE', zset, '-inf', now)) do
  local held = redis.call('HGET', hash, 'r:' .. old)
  if held then
    redis.call('HINCRBY', hash, 'reserved', 0 - tonumber(held))
    redis.call('HDEL', hash, 'r:' .. old)
  end
end
redis.call('ZREMRANGEBYSCORE', zset, '-inf', now)
local spent = tonumber(redis.call('HGET', hash, 'spent') or '0')
local reserved = tonumber(redis.call('HGET', hash, 'reserved') or '0')
if redis.call('HEXISTS', hash, 'r:' .. id) == 1 or redis.call('ZSCORE', zset, 'x:' .. id) then
  return {0, spent, reserved}
end
if budget >= 0 and spent + reserved >= budget then
  return {0, spent, reserved}
end
redis.call('HINCRBY', hash, 'reserved', amount)
redis.call('HSET', hash, 'r:' .. id, amount)
redis.call('ZADD', zset, now + ttl, id)
redis.call('PEXPIRE', hash, 3456000000)
redis.call('PEXPIRE', zset, 3456000000)
return {1, spent, reserved + amount}
`;

const SETTLE = `
local hash, zset = KEYS[1], KEYS[2]
local id, cost, uncertain = ARGV[1], tonumber(ARGV[2]), ARGV[3]
local now, ttl = tonumber(ARGV[4]), tonumber(ARGV[5])
local held = redis.call('HGET', hash, 'r:' .. id)
if held then
  redis.call('HINCRBY', hash, 'reserved', 0 - tonumber(held))
  redis.call('HDEL', hash, 'r:' .. id)
  redis.call('ZREM', zset, id)
elseif uncertain == '1' then
  redis.call('ZADD', zset, now + ttl, 'x:' .. id)
  redis.call('PEXPIRE', zset, 3456000000)
end
local spent = redis.call('HINCRBY', hash, 'spent', cost)
redis.call('PEXPIRE', hash, 3456000000)
return spent
`;

/** How long an unsettled reservation holds budget. Default 15 minutes (longer than any
 * stream the gateway allows to idle). */
export const RESERVATION_TTL_MS = 15 * 60_000;

export interface BudgetKeys {
  hash: string;
  zset: string;
}

export function budgetKeys(keyId: string, month: string): BudgetKeys {
  return redisKeys.budget(keyId, month);
}

/** A reservation id of the gateway's own (the client's x-request-id is for correlation only). */
export function newReservationId(): string {
  return crypto.randomUUID();
}

/** What Redis's integer commands (HINCRBY, the rate limiters' rates) accept from a double:
 * a whole number, and no larger than what a double holds exactly. */
export function redisInteger(n: number): number {
  if (!Number.isFinite(n)) return n > 0 ? Number.MAX_SAFE_INTEGER : 0;
  return Math.min(Number.MAX_SAFE_INTEGER, Math.max(-Number.MAX_SAFE_INTEGER, Math.round(n)));
}

export interface Reservation {
  admitted: boolean;
  spentNanos: number;
  reservedNanos: number;
}

/** `budgetNanos < 0` means no budget: the request is admitted and only tracked. */
export async function reserveBudget(
  redis: Redis,
  keys: BudgetKeys,
  budgetNanos: number,
  amountNanos: number,
  reservationId: string,
  now: number = Date.now(),
): Promise<Reservation> {
  const script = scriptFor<[number, number, number]>(redis, RESERVE);
  const [admitted, spent, reserved] = await script.exec(
    [keys.hash, keys.zset],
    [
      String(redisInteger(budgetNanos)),
      String(redisInteger(amountNanos)),
      reservationId,
      String(now),
      String(RESERVATION_TTL_MS),
    ],
  );
  return { admitted: admitted === 1, spentNanos: spent, reservedNanos: reserved };
}

/**
 * Replaces the reservation (if any) by the real cost; returns the month's spend.
 * `uncertain`: the reserve's answer never came (timeout), so it may still run after this:
 * a tombstone makes it take nothing.
 */
export async function settleBudget(
  redis: Redis,
  keys: BudgetKeys,
  reservationId: string,
  costNanos: number,
  uncertain = false,
  now: number = Date.now(),
): Promise<number> {
  const script = scriptFor<number>(redis, SETTLE);
  return script.exec(
    [keys.hash, keys.zset],
    [
      reservationId,
      String(redisInteger(Math.max(0, costNanos))),
      uncertain ? '1' : '0',
      String(now),
      String(RESERVATION_TTL_MS),
    ],
  );
}

export async function readSpend(redis: Redis, keys: BudgetKeys) {
  const fields = await redis.hmget<Record<string, number | null>>(keys.hash, 'spent', 'reserved');
  return { spentNanos: Number(fields?.spent ?? 0), reservedNanos: Number(fields?.reserved ?? 0) };
}
