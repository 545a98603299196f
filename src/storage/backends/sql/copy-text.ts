/**
 * Records as COPY's text format, the bytes a bulk load sends: tab-separated, `\N` for NULL,
 * backslash escapes, one line per record.
 */
import type { TableName, TableRecords } from '../../contract/transfer.js';
import { isoString } from '../../core/iso-string.js';
import { COLUMNS, type Column } from './records.js';

/**
 * Records in COPY's text format, as the bytes sent: tab-separated, `\N` for NULL, backslash
 * escapes, one line per record.
 */
export function copyRows<T extends TableName>(table: T, records: readonly TableRecords[T][]): Buffer {
  return copyText(COLUMNS[table], records);
}

/** `records` as COPY text lines of `columns` (each value read from a record by its column's getter). */
export function copyText(columns: readonly Column[], records: readonly unknown[]): Buffer {
  const getters = columns.map(([, , get]) => get as (r: unknown) => unknown);
  const last = getters.length - 1;
  // Each line is built as a string and written into the buffer at once. One string of the whole
  // chunk (a rope of every cell) cost as much again to flatten and encode as to build: this runs
  // for every row of a load (docs/operations.md).
  let bytes = Buffer.allocUnsafe(records.length * 256);
  let used = 0;
  for (const record of records) {
    let line = '';
    for (let c = 0; c <= last; c++) {
      line += copyValue((getters[c] as (r: unknown) => unknown)(record));
      line += c === last ? '\n' : '\t';
    }
    // A UTF-16 unit takes at most 3 bytes in UTF-8.
    if (bytes.length - used < line.length * 3) {
      const larger = Buffer.allocUnsafe(Math.max(bytes.length * 2, used + line.length * 3));
      bytes.copy(larger, 0, 0, used);
      bytes = larger;
    }
    used += bytes.write(line, used);
  }
  return bytes.subarray(0, used);
}

const ESCAPES: Record<string, string> = { '\\': '\\\\', '\t': '\\t', '\n': '\\n', '\r': '\\r' };
const NEEDS_ESCAPE = /[\\\t\n\r]/;

function copyValue(value: unknown): string {
  if (value === null || value === undefined) return '\\N';
  if (typeof value === 'string') return NEEDS_ESCAPE.test(value) ? value.replace(/[\\\t\n\r]/g, (ch) => ESCAPES[ch] as string) : value;
  if (value instanceof Date) return isoString(value);
  if (typeof value === 'boolean') return value ? 't' : 'f';
  // Numbers and bigints print without any character COPY escapes; anything else is text.
  if (typeof value === 'number' || typeof value === 'bigint') return String(value);
  return copyValue(String(value));
}
