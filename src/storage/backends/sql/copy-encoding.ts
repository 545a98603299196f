/**
 * One chunk of a bulk load made ready to send: its rows as COPY text and the UTC days of its
 * payments (each day's partition must exist before its rows arrive). Records are encoded as they
 * are; record lines are first parsed and validated (recordsFromLines), except payment and event
 * lines in a store's plain form, which are checked and copied as bytes (payment-line-copy.ts,
 * event-line-copy.ts). The same function runs on the main thread and on the encoder threads
 * (copy-encoders.ts).
 */
import { isLinesChunk, type TableChunk, type TableLinesChunk, type TableName, type TableRecords } from '../../contract/transfer.js';
import { validationError } from '../../contract/errors.js';
import { lastLineError, recordOfLine, recordsFromLines } from '../../core/record-lines.js';
import { DAY_MS } from '../../core/time.js';
import { copyRows } from './copy-text.js';
import { eventLineCopy } from './event-line-copy.js';
import { paymentLineCopy } from './payment-line-copy.js';
import { lineFields, type LineFields } from './plain-line-scan.js';

/** A chunk as the load sends it. */
export interface EncodedChunk {
  table: TableName;
  /** The rows in COPY's text format. */
  rows: Uint8Array;
  /** How many rows `rows` holds. */
  count: number;
  /** The distinct UTC day numbers (days since 1970-01-01) of the chunk's payments; empty for other tables. */
  days: number[];
}

/** `chunk` encoded for COPY; a record line that is not a valid record throws (see recordsFromLines). */
export function encodeChunk(chunk: TableChunk | TableLinesChunk): EncodedChunk {
  if (isLinesChunk(chunk)) {
    if (chunk.table === 'x402_payments') return encodePlainLines(chunk, 'x402_payments', paymentLineCopy);
    if (chunk.table === 'events') return encodePlainLines(chunk, 'events', eventLineCopy);
  }
  const { table } = chunk;
  const records = isLinesChunk(chunk) ? recordsFromLines(table, chunk.lines, chunk.firstLine) : chunk.records;
  if (isLinesChunk(chunk) && records.length !== chunk.count) throw countError(chunk, records.length);
  const days = table === 'x402_payments' ? paymentDays(records as readonly TableRecords['x402_payments'][]) : [];
  return { table, rows: copyRows(table, records), count: records.length, days };
}

function paymentDays(payments: readonly TableRecords['x402_payments'][]): number[] {
  const days = new Set<number>();
  for (const p of payments) days.add(paymentDay(p));
  return [...days];
}

/** A payment's UTC day number: a number, not a formatted date, since this runs for every payment of a load. */
function paymentDay(payment: TableRecords['x402_payments']): number {
  return Math.floor(payment.paymentTimestamp.getTime() / DAY_MS);
}

function countError(chunk: TableLinesChunk, lines: number) {
  return validationError('count', `the ${chunk.table} chunk from line ${chunk.firstLine} says ${chunk.count} lines and holds ${lines}`);
}

/** Writes a plain line's COPY row (payment-line-copy.ts, event-line-copy.ts); -1 for another line. */
type LineCopy = (b: Uint8Array, from: number, to: number, out: Uint8Array, at: number, f: LineFields) => number;

/**
 * Record lines of `table` as COPY rows, line by line: a line in the plain form is copied as bytes,
 * any other goes through the record path (recordOfLine, then copyRows), which gives the same row
 * for a valid record and throws the same error for the first invalid line as recordsFromLines.
 */
function encodePlainLines(chunk: TableLinesChunk, table: 'x402_payments' | 'events', lineCopy: LineCopy): EncodedChunk {
  const b = Buffer.from(chunk.lines.buffer, chunk.lines.byteOffset, chunk.lines.byteLength);
  // A plain row is shorter than its line; a row from the record path may be longer, and then the
  // buffer grows.
  let out: Buffer = Buffer.allocUnsafe(b.byteLength + 16);
  let used = 0;
  const fields = lineFields();
  const days = new Set<number>();
  const payments = table === 'x402_payments';
  let line = chunk.firstLine;
  let start = 0;
  let count = 0;
  for (let end = b.indexOf(0x0a); end !== -1; end = b.indexOf(0x0a, start), line += 1) {
    if (out.length - used < end - start + 16) out = grown(out, used, end - start + 16);
    const next = lineCopy(b, start, end, out, used, fields);
    if (next !== -1) {
      used = next;
      if (payments) days.add(fields.day);
    } else {
      const record = recordOfLine(table, b.toString('utf8', start, end), line);
      const row = copyRows(table, [record] as TableRecords[typeof table][]);
      if (out.length - used < row.length) out = grown(out, used, row.length);
      used += row.copy(out, used);
      if (payments) days.add(paymentDay(record as TableRecords['x402_payments']));
    }
    count += 1;
    start = end + 1;
  }
  if (start !== b.byteLength) throw lastLineError(line, table);
  if (count !== chunk.count) throw countError(chunk, count);
  return { table, rows: out.subarray(0, used), count, days: [...days] };
}

/** `out` with its first `used` bytes in a buffer with room for `more` after them. */
function grown(out: Buffer, used: number, more: number): Buffer {
  const larger = Buffer.allocUnsafe(Math.max(out.length * 2, used + more));
  out.copy(larger, 0, 0, used);
  return larger;
}
