/**
 * Server-side keyset pagination of the request log, "older" and "newer". The API only goes
 * older (each page's `next_cursor`), so the way back is the stack of cursors that led to the
 * current page: newer pops one. Pure.
 */
export interface PageTrail {
  /** The cursor of each page from the newest to the current one; `[undefined]` = newest. */
  cursors: (string | undefined)[];
}

export const newest = (): PageTrail => ({ cursors: [undefined] });

export const currentCursor = (trail: PageTrail): string | undefined => trail.cursors.at(-1);

export const pageNumber = (trail: PageTrail): number => trail.cursors.length;

export function older(trail: PageTrail, nextCursor: string | null): PageTrail {
  if (!nextCursor) return trail;
  return { cursors: [...trail.cursors, nextCursor] };
}

export function newer(trail: PageTrail): PageTrail {
  if (trail.cursors.length <= 1) return trail;
  return { cursors: trail.cursors.slice(0, -1) };
}

export const hasNewer = (trail: PageTrail): boolean => trail.cursors.length > 1;
