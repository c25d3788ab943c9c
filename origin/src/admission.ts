/**
 * The bounded wait queue of a pool: requests that found every endpoint saturated wait here,
 * highest priority first and first-come first-served within a priority. Pure data structure;
 * the pool owns the timers. Priority comes from the edge (`x-gateway-priority`).
 */

export const PRIORITIES = ['high', 'normal', 'low'] as const;
export type Priority = (typeof PRIORITIES)[number];

export function parsePriority(value: string | null | undefined): Priority {
  return value === 'high' || value === 'low' ? value : 'normal';
}

export class WaitQueue<T> {
  private readonly lanes: Record<Priority, T[]> = { high: [], normal: [], low: [] };
  readonly maxSize: number;

  constructor(maxSize: number) {
    this.maxSize = maxSize;
  }

  get size(): number {
    return this.lanes.high.length + this.lanes.normal.length + this.lanes.low.length;
  }

  /** False when the queue is full (the caller sheds). */
  push(item: T, priority: Priority): boolean {
    if (this.size >= this.maxSize) return false;
    this.lanes[priority].push(item);
    return true;
  }

  peek(): T | undefined {
    for (const p of PRIORITIES) if (this.lanes[p].length > 0) return this.lanes[p][0];
    return undefined;
  }

  shift(): T | undefined {
    for (const p of PRIORITIES) if (this.lanes[p].length > 0) return this.lanes[p].shift();
    return undefined;
  }

  remove(item: T): boolean {
    for (const p of PRIORITIES) {
      const i = this.lanes[p].indexOf(item);
      if (i >= 0) {
        this.lanes[p].splice(i, 1);
        return true;
      }
    }
    return false;
  }

  drain(): T[] {
    const all = PRIORITIES.flatMap((p) => this.lanes[p].splice(0));
    return all;
  }
}
