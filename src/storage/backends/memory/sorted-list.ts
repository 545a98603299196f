/**
 * A list kept sorted by a comparator, for the in-memory backend's ordered indexes. Records mostly
 * arrive in order (timestamps grow), so inserts are usually appends; out-of-order ones use a
 * binary search and a splice.
 */
export class SortedList<T> {
  private readonly items: T[] = [];

  constructor(private readonly compare: (a: T, b: T) => number) {}

  /** Number of items. */
  get size(): number {
    return this.items.length;
  }

  /** Inserts `item` after any equal items. */
  insert(item: T): void {
    const last = this.items[this.items.length - 1];
    if (last === undefined || this.compare(last, item) <= 0) {
      this.items.push(item);
      return;
    }
    this.items.splice(this.upperBound(item), 0, item);
  }

  /** Removes `item` (by identity); returns whether it was there. */
  remove(item: T): boolean {
    for (let i = this.lowerBound(item); i < this.items.length; i++) {
      const candidate = this.items[i] as T;
      if (candidate === item) {
        this.items.splice(i, 1);
        return true;
      }
      if (this.compare(candidate, item) !== 0) break;
    }
    return false;
  }

  /** Drops every item. */
  clear(): void {
    this.items.length = 0;
  }

  /** The items in order (a read-only view; do not mutate). */
  values(): readonly T[] {
    return this.items;
  }

  /** Index of the first item that sorts after `probe` by `compareToProbe` (item vs probe). */
  firstAfter(compareToProbe: (item: T) => number): number {
    let lo = 0;
    let hi = this.items.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (compareToProbe(this.items[mid] as T) <= 0) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  private lowerBound(item: T): number {
    let lo = 0;
    let hi = this.items.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.compare(this.items[mid] as T, item) < 0) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  private upperBound(item: T): number {
    return this.firstAfter((candidate) => this.compare(candidate, item));
  }
}

/** Orders by (createdAt, id), the order of assets and leases. */
export function byCreatedThenId(a: { createdAt: Date; id: string }, b: { createdAt: Date; id: string }): number {
  return a.createdAt.getTime() - b.createdAt.getTime() || compareStrings(a.id, b.id);
}

/** Byte-wise string order, matching PostgreSQL's ordering of UUIDs and ASCII keys. */
export function compareStrings(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** A map from key to sorted list, creating lists on demand. */
export class SortedIndex<K, T> {
  private readonly lists = new Map<K, SortedList<T>>();

  constructor(private readonly compare: (a: T, b: T) => number) {}

  /** Adds `item` under `key`. */
  add(key: K, item: T): void {
    let list = this.lists.get(key);
    if (!list) {
      list = new SortedList(this.compare);
      this.lists.set(key, list);
    }
    list.insert(item);
  }

  /** Removes `item` from under `key`. */
  delete(key: K, item: T): void {
    const list = this.lists.get(key);
    if (!list) return;
    list.remove(item);
    if (list.size === 0) this.lists.delete(key);
  }

  /** The items under `key`, in order. */
  get(key: K): readonly T[] {
    return this.lists.get(key)?.values() ?? [];
  }

  /** The list under `key`, if any. */
  list(key: K): SortedList<T> | undefined {
    return this.lists.get(key);
  }

  /** Drops everything. */
  clear(): void {
    this.lists.clear();
  }
}
