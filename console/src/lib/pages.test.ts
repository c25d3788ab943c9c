import { describe, expect, it } from 'vitest';
import { currentCursor, hasNewer, newer, newest, older, pageNumber } from './pages.ts';

describe('page trail', () => {
  it('goes older by the page cursor and back newer by the same steps', () => {
    let t = newest();
    expect(currentCursor(t)).toBeUndefined();
    expect(hasNewer(t)).toBe(false);
    t = older(t, 'c1');
    t = older(t, 'c2');
    expect([currentCursor(t), pageNumber(t), hasNewer(t)]).toEqual(['c2', 3, true]);
    t = newer(t);
    expect(currentCursor(t)).toBe('c1');
    t = newer(newer(t));
    expect([currentCursor(t), pageNumber(t)]).toEqual([undefined, 1]);
  });

  it('stays on the last page when there is no older one', () => {
    const t = older(newest(), 'c1');
    expect(older(t, null)).toBe(t);
  });
});
