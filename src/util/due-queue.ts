/**
 * Things due at a time, taken out in time order: a binary min-heap on `at`. The settlement journal
 * uses it to find the entries whose time to be slimmed or forgotten has come without looking at
 * every entry it holds.
 */

interface Due<T> {
  at: number;
  value: T;
}

/** A queue of values, each due at a time (a number, e.g. ms since the epoch). */
export class DueQueue<T> {
  private readonly heap: Due<T>[] = [];

  /** How many values are queued. */
  get size(): number {
    return this.heap.length;
  }

  /** Queues `value` as due at `at` (a finite number). */
  push(at: number, value: T): void {
    if (!Number.isFinite(at)) throw new RangeError(`a due time must be a finite number, got ${at}`);
    const heap = this.heap;
    heap.push({ at, value });
    let i = heap.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if ((heap[parent] as Due<T>).at <= at) break;
      [heap[parent], heap[i]] = [heap[i] as Due<T>, heap[parent] as Due<T>];
      i = parent;
    }
  }

  /** Takes out, earliest first, every value due before `now` (strictly). */
  *takeDueBefore(now: number): Generator<T> {
    while (this.heap.length > 0 && (this.heap[0] as Due<T>).at < now) yield this.popMin();
  }

  private popMin(): T {
    const heap = this.heap;
    const top = heap[0] as Due<T>;
    const last = heap.pop() as Due<T>;
    if (heap.length > 0) {
      heap[0] = last;
      let i = 0;
      for (;;) {
        const left = 2 * i + 1;
        const right = left + 1;
        let least = i;
        if (left < heap.length && (heap[left] as Due<T>).at < (heap[least] as Due<T>).at) least = left;
        if (right < heap.length && (heap[right] as Due<T>).at < (heap[least] as Due<T>).at) least = right;
        if (least === i) break;
        [heap[least], heap[i]] = [heap[i] as Due<T>, heap[least] as Due<T>];
        i = least;
      }
    }
    return top.value;
  }
}
