/**
 * Opaque keyset cursors: the sort key of the last item of a page, base64url-encoded JSON, so
 * callers cannot depend on its shape and a tampered one is refused as `VALIDATION`.
 */
import { validationError } from '../contract/errors.js';
import type { Page, PageOptions } from '../contract/ledger-queries.js';
import type { PageRequest, Slice, TimeIdKey } from './backend.js';
import { hourBucketOf, parseInstant } from './time.js';
import { validateLimit } from './validate.js';

/** Encodes a sort key (strings only). */
function encodeCursor(key: readonly string[]): string {
  return Buffer.from(JSON.stringify(key), 'utf8').toString('base64url');
}

/** Decodes a cursor made by {@link encodeCursor} with `parts` strings, or throws `VALIDATION`. */
function decodeCursor(cursor: unknown, parts: number, field = 'after'): string[] {
  if (typeof cursor !== 'string' || cursor.length === 0 || cursor.length > 1024) {
    throw validationError(field, 'is not a cursor returned by a previous page');
  }
  let key: unknown;
  try {
    key = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    throw validationError(field, 'is not a cursor returned by a previous page');
  }
  if (!Array.isArray(key) || key.length !== parts || !key.every((k) => typeof k === 'string')) {
    throw validationError(field, 'is not a cursor returned by a previous page');
  }
  return key as string[];
}

/** Default and largest page sizes of keyset-paginated reads. */
export const DEFAULT_PAGE_SIZE = 100;
export const MAX_PAGE_SIZE = 1000;

/** Validates page options and decodes the cursor of `parts` strings. */
function resolvePage(options: PageOptions | undefined, parts: number): { limit: number; after: string[] | null } {
  if (options !== undefined && (typeof options !== 'object' || options === null)) {
    throw validationError('page', 'must be an object');
  }
  const limit = options?.limit === undefined ? DEFAULT_PAGE_SIZE : validateLimit(options.limit, 'limit', MAX_PAGE_SIZE);
  const after = options?.after === undefined ? null : decodeCursor(options.after, parts);
  return { limit, after };
}

function parseCursorInstant(value: string): number {
  return parseInstant(value, 'after').getTime();
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** A page over a list ordered by (instant, id): assets and leases by creation, payments by time. */
export function timeIdPage(options: PageOptions | undefined): PageRequest<TimeIdKey> {
  const { limit, after } = resolvePage(options, 2);
  if (!after) return { limit, after: null };
  const [ts = '', id = ''] = after;
  if (!UUID.test(id)) throw validationError('after', 'is not a cursor returned by a previous page');
  return { limit, after: { ts: parseCursorInstant(ts), id } };
}

/** A page of daily revenue; the key is the last day (`YYYY-MM-DD`) returned. */
export function dayPage(options: PageOptions | undefined): PageRequest<string> {
  const { limit, after } = resolvePage(options, 1);
  if (!after) return { limit, after: null };
  const [day = ''] = after;
  if (!/^\d{4}-\d{2}-\d{2}$/.test(day)) throw validationError('after', 'is not a cursor returned by a previous page');
  parseCursorInstant(`${day}T00:00:00Z`);
  return { limit, after: day };
}

/** A page of batches; the key is the last hour bucket returned, in canonical form. */
export function bucketPage(options: PageOptions | undefined): PageRequest<string> {
  const { limit, after } = resolvePage(options, 1);
  return { limit, after: after ? hourBucketOf(new Date(parseCursorInstant(after[0] as string))) : null };
}

/** Turns a backend's slice into a page whose cursor is the sort key of its last item. */
export function toPage<T>({ items, more }: Slice<T>, keyOf: (last: T) => readonly string[]): Page<T> {
  const last = items[items.length - 1];
  return { items, nextCursor: more && last !== undefined ? encodeCursor(keyOf(last)) : null };
}
