/**
 * Keyset pages over the in-memory backend's (createdAt, id)-ordered lists, with the same cursor
 * format as the SQL backends.
 */
import { timeIdCursor, timeIdCursorKey, type ResolvedPage } from '../cursor.js';
import type { Page } from '../ledger-queries.js';
import { compareStrings, type SortedList } from './sorted-list.js';

/** The page after the cursor of `list`, keeping items that pass `keep`, copied by `copy`. */
export function pageByCreation<T extends { createdAt: Date; id: string }>(
  list: SortedList<T> | undefined,
  { limit, after }: ResolvedPage,
  keep: (item: T) => boolean,
  copy: (item: T) => T,
): Page<T> {
  if (!list) return { items: [], nextCursor: null };
  let start = 0;
  if (after) {
    const { ts, id } = timeIdCursorKey(after);
    start = list.firstAfter((item) => item.createdAt.getTime() - ts || compareStrings(item.id, id));
  }
  const values = list.values();
  const found: T[] = [];
  for (let i = start; i < values.length && found.length <= limit; i++) {
    const item = values[i] as T;
    if (keep(item)) found.push(item);
  }
  const items = found.slice(0, limit).map(copy);
  const last = items[items.length - 1];
  return { items, nextCursor: found.length > limit && last ? timeIdCursor(last.createdAt, last.id) : null };
}
