/**
 * Stored records as JSON lines, the form snapshots hold them in and a bulk load can take them in
 * (RecordTransfer.loadEmpty's TableLinesChunk): `{"t":"<table>","r":<stored record>}`, one per
 * line, each followed by "\n". `bigint` amounts are decimal strings and dates ISO-8601 strings;
 * every other field of a stored record is plain JSON already.
 */
import { isAscii } from 'node:buffer';
import type { TableLinesChunk, TableName, TableRecords } from '../contract/transfer.js';
import { StorageError, isStorageError, validationError } from '../contract/errors.js';
import { fastPathAccepts } from './validate-payment-fast.js';
import { validateStoredRecord } from './validate-records.js';

// Only these fields are not plain JSON: everything else in a stored record already is.
const DATE_FIELDS: Readonly<Record<TableName, readonly string[]>> = {
  assets: ['createdAt', 'updatedAt'],
  leases: ['createdAt', 'updatedAt'],
  events: ['createdAt'],
  x402_payments: ['paymentTimestamp', 'createdAt'],
  x402_batches: ['startedAt', 'closedAt', 'createdAt'],
};

/** The `bigint` money field of each table that has one. */
export const AMOUNT_FIELD: Readonly<Partial<Record<TableName, string>>> = {
  x402_payments: 'amountMinorUnits',
  x402_batches: 'totalAmountMinorUnits',
};

/** The money amount a record contributes to its table's sum (0 for tables without one). */
export function amountOf(table: TableName, record: TableRecords[TableName]): bigint {
  const field = AMOUNT_FIELD[table];
  return field === undefined ? 0n : ((record as unknown as Record<string, bigint>)[field] ?? 0n);
}

/** One record line (without the newline). Dates become ISO strings through `Date.toJSON`. */
export function recordLine(table: TableName, record: TableRecords[TableName]): string {
  const field = AMOUNT_FIELD[table];
  // A copy with the amount as a string is much faster than a JSON.stringify replacer function.
  const r = field === undefined ? record : { ...record, [field]: amountOf(table, record).toString() };
  return `{"t":${JSON.stringify(table)},"r":${JSON.stringify(r)}}`;
}

/** A record line's amount text as a `bigint`, or undefined when it is not 1-20 decimal digits. */
export function amountFromJson(value: unknown): bigint | undefined {
  return typeof value === 'string' && /^[0-9]{1,20}$/.test(value) ? BigInt(value) : undefined;
}

/**
 * Turns a parsed record's dates and amount into stored-record types, in place. Returns what is
 * wrong ("<table>.<field> is not ...") and leaves the rest unchecked when a field does not convert;
 * the other fields are for the record validator.
 */
export function reviveFields(table: TableName, raw: Record<string, unknown>): string | undefined {
  for (const field of DATE_FIELDS[table]) {
    const value = raw[field];
    const date = typeof value === 'string' ? new Date(value) : undefined;
    if (date === undefined || Number.isNaN(date.getTime())) return `${table}.${field} is not an ISO date`;
    raw[field] = date;
  }
  const field = AMOUNT_FIELD[table];
  if (field === undefined) return undefined;
  const amount = amountFromJson(raw[field]);
  if (amount === undefined) return `${table}.${field} is not a decimal amount`;
  raw[field] = amount;
  return undefined;
}

/**
 * The records of `lines` (record lines of `table`, each followed by "\n"; the first is line
 * `firstLine` of wherever they came from), parsed, revived and validated with the rules of
 * importRecords. Throws a `VALIDATION` {@link StorageError} naming the line for the first line
 * that is not JSON, not a record of `table`, or not a valid record.
 */
export function recordsFromLines<T extends TableName>(table: T, lines: Uint8Array, firstLine: number): TableRecords[T][] {
  const bytes = Buffer.from(lines.buffer, lines.byteOffset, lines.byteLength);
  // Bytes below 0x80 read the same as Latin-1, which V8 copies into a string as they are.
  const text = isAscii(bytes) ? bytes.toString('latin1') : bytes.toString('utf8');
  const records: TableRecords[T][] = [];
  let start = 0;
  let line = firstLine;
  for (let end = text.indexOf('\n'); end !== -1; end = text.indexOf('\n', start), line += 1) {
    records.push(recordOfLine(table, text.slice(start, end), line));
    start = end + 1;
  }
  if (start !== text.length) throw lastLineError(line, table);
  return records;
}

/**
 * The record of one record line of `table` (`text`, without its newline; line `line` of its
 * source), parsed, revived and validated as {@link recordsFromLines} does, with the same errors.
 */
export function recordOfLine<T extends TableName>(table: T, text: string, line: number): TableRecords[T] {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw lineError(line, table, 'not valid JSON (damaged or truncated)');
  }
  const wrapper = value as { t?: unknown; r?: unknown } | null;
  if (wrapper === null || typeof wrapper !== 'object' || wrapper.t !== table) throw lineError(line, table, `not a ${table} record line`);
  const raw = wrapper.r as Record<string, unknown> | null;
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) throw lineError(line, table, 'the record is not an object');
  const problem = reviveFields(table, raw);
  if (problem !== undefined) throw lineError(line, table, problem);
  try {
    // The parsed object is this function's own: no copy of an accepted one (validateStoredRecordFast's).
    return fastPathAccepts(table, raw) ? (raw as unknown as TableRecords[T]) : validateStoredRecord(table, raw);
  } catch (error) {
    if (!isStorageError(error)) throw error;
    throw new StorageError(error.code, `line ${line}: invalid ${table} record: ${error.message}`, { ...(error.field === undefined ? {} : { field: error.field }), details: { ...error.details, line } });
  }
}

/** The error for record lines whose last line (line `line`) has no newline. */
export function lastLineError(line: number, table: TableName): StorageError {
  return lineError(line, table, 'the last line has no newline');
}

function lineError(line: number, table: TableName, reason: string): StorageError {
  return new StorageError('VALIDATION', `line ${line}: ${reason}`, { field: table, details: { line, reason } });
}

/** `chunk`'s shape checked (its lines are checked as they are parsed), with `table` validated. */
export function validateLinesChunk(table: TableName, chunk: TableLinesChunk): TableLinesChunk {
  if (!(chunk.lines instanceof Uint8Array)) throw validationError('lines', 'must be the bytes of record lines');
  if (!Number.isSafeInteger(chunk.count) || chunk.count < 0) throw validationError('count', 'must be a non-negative integer');
  if (!Number.isSafeInteger(chunk.firstLine) || chunk.firstLine < 1) throw validationError('firstLine', 'must be a positive integer');
  return { table, lines: chunk.lines, count: chunk.count, firstLine: chunk.firstLine };
}
