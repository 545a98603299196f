/**
 * Keyset pagination over records the contract returns only as whole lists (assets, filtered
 * leases): ordered by (createdAt, id), the cursor is the last item's key. Each page still reads
 * the whole list from the store; the contract change that removes this cost is in the issue 6
 * report (`getAssetsPage`, `getLeasesPage`).
 */
import { decodeCursor, encodeCursor, parseCursorInstant } from '../storage/cursor.js';
import type { Page } from '../storage/ledger-queries.js';
import { parseInstant } from '../storage/time.js';

interface Keyed {
  createdAt: Date;
  id: string;
}

function compare(aTime: number, aId: string, bTime: number, bId: string): number {
  return aTime !== bTime ? aTime - bTime : aId < bId ? -1 : aId > bId ? 1 : 0;
}

/** One page of `items` in (createdAt, id) order after the cursor `after`. */
export function pageByCreation<T extends Keyed>(items: readonly T[], limit: number, after: string | undefined): Page<T> {
  const sorted = [...items].sort((a, b) => compare(a.createdAt.getTime(), a.id, b.createdAt.getTime(), b.id));
  let start = 0;
  if (after !== undefined) {
    const [time = '', id = ''] = decodeCursor(after, 2);
    const t = parseCursorInstant(time);
    start = sorted.findIndex((item) => compare(item.createdAt.getTime(), item.id, t, id) > 0);
    if (start < 0) start = sorted.length;
  }
  const pageItems = sorted.slice(start, start + limit);
  const last = pageItems.at(-1);
  const more = start + limit < sorted.length;
  return { items: pageItems, nextCursor: more && last ? encodeCursor([last.createdAt.toISOString(), last.id]) : null };
}

/** Parses an optional ISO instant query value (VALIDATION on `field` when malformed). */
export function optionalInstant(value: string | undefined, field: string): Date | undefined {
  return value === undefined ? undefined : parseInstant(value, field);
}
