/**
 * The snapshot file format (version 1), JSON Lines so both sides can stream it:
 *
 *   {"format":"asset-leasing-snapshot","version":1,"createdAt":"...","source":"memory"}
 *   {"t":"assets","r":{...stored record...}}          one line per record, TABLES order, ids ascending
 *   ...
 *   {"trailer":true,"records":N,"sha256":"...","tables":{"assets":{"count":1,"amountSum":"0","idsSha256":"..."},...}}
 *
 * The record lines are storage/core/record-lines.ts's: `bigint` amounts are decimal strings and
 * dates ISO-8601 strings. `sha256` covers every record line byte for byte (each followed by "\n"),
 * so damage anywhere is detected; the per-table counts, sums and id hashes let a reader check a
 * file without trusting it, and let migration verify a target against the file. The checksum detects damage, not forgery: whoever can edit
 * the file can recompute the trailer.
 */
import { TABLES, type TableName, type TableRecords } from '../storage/contract/transfer.js';
import { validateStoredRecord } from '../storage/core/validate-records.js';
import { AMOUNT_FIELD, amountFromJson, reviveFields } from '../storage/core/record-lines.js';

/** The `format` value of a snapshot header. */
export const SNAPSHOT_FORMAT = 'asset-leasing-snapshot';
/** The version this code writes and the only one it reads. */
export const SNAPSHOT_VERSION = 1;

/** First line of a snapshot. */
export interface SnapshotHeader {
  format: typeof SNAPSHOT_FORMAT;
  version: number;
  /** When the export started, ISO-8601. */
  createdAt: string;
  /** Backend kind the records came from ("memory", "postgres", "pglite", "synthetic"). */
  source: string;
}

/** What the trailer records about one table. */
export interface TableDigestJson {
  count: number;
  /** Sum of payment amounts / batch totals as decimal digits; "0" for the other tables. */
  amountSum: string;
  /** sha256 (hex) over the table's ids in file order, each followed by "\n". */
  idsSha256: string;
}

/** Last line of a snapshot. */
export interface SnapshotTrailer {
  trailer: true;
  /** Number of record lines. */
  records: number;
  /** sha256 (hex) over the record lines, each followed by "\n". */
  sha256: string;
  tables: Record<TableName, TableDigestJson>;
}

/** A snapshot is unusable (damaged, truncated, edited or of another format). Nothing was written. */
export class SnapshotError extends Error {
  override readonly name = 'SnapshotError';
  constructor(
    message: string,
    /** 1-based line of the file where the problem was found, when there is one. */
    readonly line?: number,
  ) {
    super(line === undefined ? message : `line ${line}: ${message}`);
  }
}

/** The header line of a new snapshot. */
export function headerLine(source: string, createdAt = new Date()): string {
  const header: SnapshotHeader = { format: SNAPSHOT_FORMAT, version: SNAPSHOT_VERSION, createdAt: createdAt.toISOString(), source };
  return JSON.stringify(header);
}

/** Checks and returns the header of a snapshot. */
export function parseHeader(line: string | undefined): SnapshotHeader {
  if (line === undefined) throw new SnapshotError('the file is empty');
  const header = parseJson(line, 1) as Partial<SnapshotHeader> | null;
  if (header === null || typeof header !== 'object' || header.format !== SNAPSHOT_FORMAT) {
    throw new SnapshotError(`not a ${SNAPSHOT_FORMAT} file`, 1);
  }
  if (header.version !== SNAPSHOT_VERSION) {
    throw new SnapshotError(`snapshot version ${String(header.version)} is not supported (this program reads ${SNAPSHOT_VERSION})`, 1);
  }
  return header as SnapshotHeader;
}

/** A parsed record object, before {@link reviveRecord}. */
export type RawRecord = Record<string, unknown> & { id: string };

/** A parsed line after the header: a record line or the trailer. */
export type BodyLine = { kind: 'record'; table: TableName; raw: RawRecord } | { kind: 'trailer'; trailer: SnapshotTrailer };

/** Parses a line after the header, checking its shape (not yet the record's fields beyond its id). */
export function parseBodyLine(line: string, lineNo: number): BodyLine {
  const value = parseJson(line, lineNo) as Record<string, unknown> | null;
  if (value === null || typeof value !== 'object' || Array.isArray(value)) throw new SnapshotError('expected a JSON object', lineNo);
  if (value['trailer'] === true) return { kind: 'trailer', trailer: checkTrailer(value, lineNo) };
  const table = value['t'];
  if (typeof table !== 'string' || !(TABLES as readonly string[]).includes(table)) {
    throw new SnapshotError(`unknown table ${JSON.stringify(table)}`, lineNo);
  }
  const raw = value['r'] as RawRecord | null;
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) throw new SnapshotError('record is not an object', lineNo);
  if (typeof raw.id !== 'string') throw new SnapshotError(`${table}.id is not a string`, lineNo);
  return { kind: 'record', table: table as TableName, raw };
}

/** The amount of a parsed record (0 for tables without one), checked to be decimal digits. */
export function rawAmount(table: TableName, raw: RawRecord, lineNo: number): bigint {
  const field = AMOUNT_FIELD[table];
  if (field === undefined) return 0n;
  const amount = amountFromJson(raw[field]);
  if (amount === undefined) throw new SnapshotError(`${table}.${field} is not a decimal amount`, lineNo);
  return amount;
}

/**
 * Turns a parsed record into stored-record types (Date, bigint) in place, without validating the
 * other fields: importRecords validates every record it is given.
 */
export function reviveRecord<T extends TableName>(table: T, raw: RawRecord, lineNo: number): TableRecords[T] {
  const problem = reviveFields(table, raw);
  if (problem !== undefined) throw new SnapshotError(problem, lineNo);
  return raw as unknown as TableRecords[T];
}

/** Validates a revived record with the same rules importRecords applies. */
export function checkRecord<T extends TableName>(table: T, record: TableRecords[T], lineNo: number): TableRecords[T] {
  try {
    return validateStoredRecord(table, record);
  } catch (error) {
    throw new SnapshotError(`invalid ${table} record: ${error instanceof Error ? error.message : String(error)}`, lineNo);
  }
}

function parseJson(line: string, lineNo: number): unknown {
  try {
    return JSON.parse(line);
  } catch {
    throw new SnapshotError('not valid JSON (damaged or truncated)', lineNo);
  }
}

const HEX64 = /^[0-9a-f]{64}$/;

function checkTrailer(value: Record<string, unknown>, lineNo: number): SnapshotTrailer {
  const bad = (what: string) => new SnapshotError(`malformed trailer: ${what}`, lineNo);
  if (!Number.isSafeInteger(value['records'])) throw bad('records');
  if (typeof value['sha256'] !== 'string' || !HEX64.test(value['sha256'])) throw bad('sha256');
  const tables = value['tables'] as Record<string, Partial<TableDigestJson>> | null;
  if (tables === null || typeof tables !== 'object') throw bad('tables');
  for (const table of TABLES) {
    const t = tables[table];
    if (t === undefined || !Number.isSafeInteger(t.count) || typeof t.amountSum !== 'string' || !/^[0-9]+$/.test(t.amountSum)) throw bad(table);
    if (typeof t.idsSha256 !== 'string' || !HEX64.test(t.idsSha256)) throw bad(`${table}.idsSha256`);
  }
  return value as unknown as SnapshotTrailer;
}
