/**
 * Opaque keyset cursors: the sort key of the last item of a page, base64url-encoded JSON, so
 * callers cannot depend on its shape and a tampered one is refused as `VALIDATION`.
 */
import { validationError } from './errors.js';
import type { PageOptions } from './ledger-queries.js';
import { parseInstant } from './time.js';
import { validateLimit } from './validate.js';

/** Encodes a sort key (strings only). */
export function encodeCursor(key: readonly string[]): string {
  return Buffer.from(JSON.stringify(key), 'utf8').toString('base64url');
}

/** Decodes a cursor made by {@link encodeCursor} with `parts` strings, or throws `VALIDATION`. */
export function decodeCursor(cursor: unknown, parts: number, field = 'after'): string[] {
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

/** Validated page options: the limit and the decoded cursor key, if any. */
export interface ResolvedPage {
  limit: number;
  after: string[] | null;
}

/** Validates page options for a cursor of `parts` strings. */
export function resolvePage(options: PageOptions | undefined, parts: number): ResolvedPage {
  if (options !== undefined && (typeof options !== 'object' || options === null)) {
    throw validationError('page', 'must be an object');
  }
  const limit = options?.limit === undefined ? DEFAULT_PAGE_SIZE : validateLimit(options.limit, 'limit', MAX_PAGE_SIZE);
  const after = options?.after === undefined ? null : decodeCursor(options.after, parts);
  return { limit, after };
}

/** Reads an instant stored in a cursor; a tampered one is a `VALIDATION` error on `after`. */
export function parseCursorInstant(value: string): number {
  return parseInstant(value, 'after').getTime();
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** The (instant, id) key of a cursor over (paymentTimestamp, id) or (createdAt, id), checked. */
export function timeIdCursorKey(after: readonly string[]): { ts: number; id: string } {
  const [ts = '', id = ''] = after;
  if (!UUID.test(id)) throw validationError('after', 'is not a cursor returned by a previous page');
  return { ts: parseCursorInstant(ts), id };
}

/** The day (`YYYY-MM-DD`) of a daily-revenue cursor, checked. */
export function dayCursorKey(after: readonly string[]): string {
  const [day = ''] = after;
  if (!/^\d{4}-\d{2}-\d{2}$/.test(day)) throw validationError('after', 'is not a cursor returned by a previous page');
  parseCursorInstant(`${day}T00:00:00Z`);
  return day;
}

/** The cursor of a record ordered by (instant, id). */
export function timeIdCursor(at: Date, id: string): string {
  return encodeCursor([at.toISOString(), id]);
}
