/**
 * Keyset pages over the in-memory backend's (createdAt, id)-ordered lists.
 */
import type { PageRequest, Slice, TimeIdKey } from '../../core/backend.js';
import { compareStrings, type SortedList } from './sorted-list.js';

/** The page after the cursor of `list`, keeping items that pass `keep`, copied by `copy`. */
export function pageByCreation<T extends { createdAt: Date; id: string }>(
  list: SortedList<T> | undefined,
  { limit, after }: PageRequest<TimeIdKey>,
  keep: (item: T) => boolean,
  copy: (item: T) => T,
): Slice<T> {
  if (!list) return { items: [], more: false };
  let start = 0;
  if (after) {
    const { ts, id } = after;
    start = list.firstAfter((item) => item.createdAt.getTime() - ts || compareStrings(item.id, id));
  }
  const values = list.values();
  const found: T[] = [];
  for (let i = start; i < values.length && found.length <= limit; i++) {
    const item = values[i] as T;
    if (keep(item)) found.push(item);
  }
  return { items: found.slice(0, limit).map(copy), more: found.length > limit };
}
