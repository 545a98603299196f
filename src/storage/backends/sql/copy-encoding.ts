/**
 * One chunk of a bulk load made ready to send: its rows as COPY text and the UTC days of its
 * payments (each day's partition must exist before its rows arrive). Records are encoded as they
 * are; record lines are first parsed and validated (recordsFromLines). The same function runs on
 * the main thread and on the encoder threads (copy-encoders.ts).
 */
import { isLinesChunk, type TableChunk, type TableLinesChunk, type TableName, type TableRecords } from '../../contract/transfer.js';
import { validationError } from '../../contract/errors.js';
import { recordsFromLines } from '../../core/record-lines.js';
import { DAY_MS } from '../../core/time.js';
import { copyRows } from './copy-text.js';

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
  const { table } = chunk;
  const records = isLinesChunk(chunk) ? recordsFromLines(table, chunk.lines, chunk.firstLine) : chunk.records;
  if (isLinesChunk(chunk) && records.length !== chunk.count) {
    throw validationError('count', `the ${table} chunk from line ${chunk.firstLine} says ${chunk.count} lines and holds ${records.length}`);
  }
  const days = table === 'x402_payments' ? paymentDays(records as readonly TableRecords['x402_payments'][]) : [];
  return { table, rows: copyRows(table, records), count: records.length, days };
}

function paymentDays(payments: readonly TableRecords['x402_payments'][]): number[] {
  const days = new Set<number>();
  // A day number, not a formatted date: this runs for every payment of a load.
  for (const p of payments) days.add(Math.floor(p.paymentTimestamp.getTime() / DAY_MS));
  return [...days];
}
