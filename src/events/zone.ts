/**
 * Which queue a request's usage event goes to, and whether its captured payload may ride
 * along. Pure. A request held to a zone with a queue of its own (`events.zoneQueues`: e.g. a
 * queue created in the EU jurisdiction) uses that queue; every other request uses the
 * deployment's queue (USAGE_EVENTS). The payload never leaves its zone: it rides only in a
 * queue of its request's zone (the zone's own, or the deployment's when the deployment is
 * held to that zone, as the EU deployment is); else it is left out of the event.
 */
export interface EventPath {
  /** The zone whose queue takes the event; null: the deployment's queue. */
  queueZone: string | null;
  /** Whether the event may carry the request's captured payload. */
  payload: boolean;
}

export function eventPath(
  zone: string | null,
  zoneQueues: { has(zone: string): boolean },
  forceZone: string,
): EventPath {
  if (zone === null) return { queueZone: null, payload: true };
  if (zone !== 'conflict' && zoneQueues.has(zone)) return { queueZone: zone, payload: true };
  return { queueZone: null, payload: zone !== 'conflict' && zone === forceZone };
}
