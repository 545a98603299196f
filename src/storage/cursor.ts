/**
 * Opaque keyset cursors: the sort key of the last item of a page, base64url-encoded JSON, so
 * callers cannot depend on its shape and a tampered one is refused as `VALIDATION`.
 */
import { validationError } from './errors.js';

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
