/**
 * Streaming snapshot reader. Every read checks the file's integrity as it goes (structure, table
 * order, ascending ids, the sha256 of the record lines, per-table counts, sums and id hashes
 * against the trailer) and throws {@link SnapshotError} at the first problem. Importers therefore
 * read a file twice: {@link verifySnapshot} first, writing nothing, then {@link readSnapshot}
 * to feed the records in; only a file that passed the first pass is written anywhere.
 */
import { isAscii } from 'node:buffer';
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { TABLES, type TableLinesChunk, type TableName, type TableRecords } from '../storage/contract/transfer.js';
import {
  SnapshotError,
  checkRecord,
  parseBodyLine,
  parseHeader,
  rawAmount,
  reviveRecord,
  type RawRecord,
  type SnapshotHeader,
  type SnapshotTrailer,
} from './snapshot-format.js';
import { TableDigest, digestFromJson, type TableDigestValue } from './table-digest.js';

/** One record read from a snapshot. */
export interface SnapshotRecord<T extends TableName = TableName> {
  table: T;
  record: TableRecords[T];
  /** 1-based line number in the file. */
  line: number;
}

/** What a complete read established about a snapshot. */
export interface SnapshotInfo {
  header: SnapshotHeader;
  trailer: SnapshotTrailer;
  /** The trailer's per-table digests, checked against the records. */
  tables: Record<TableName, TableDigestValue>;
}

/** Complete lines of the file as read: their text, and the bytes they were decoded from. */
interface LineBatch {
  lines: string[];
  /** Exactly the lines' bytes, each line followed by its newline. */
  bytes: Buffer;
}

// Yields the file's complete lines as bytes, one batch per read (a newline byte never occurs
// inside a multi-byte UTF-8 character, so splitting bytes at it is safe). A last line without its
// newline means the file was cut off, whatever it contains.
async function* byteBatches(path: string): AsyncGenerator<Buffer> {
  const stream = createReadStream(path, { highWaterMark: 1 << 20 });
  let rest: Buffer | undefined;
  for await (const chunk of stream as AsyncIterable<Buffer>) {
    const data = rest === undefined ? chunk : Buffer.concat([rest, chunk]);
    const end = data.lastIndexOf(NEWLINE) + 1;
    // A copy: the partial line outlives the chunk it came in.
    rest = end === data.length ? undefined : Buffer.from(data.subarray(end));
    if (end > 0) yield data.subarray(0, end);
  }
  if (rest !== undefined) throw new SnapshotError('the last line has no newline: the file is truncated');
}

// Yields the file's lines in arrays (one per read chunk: far fewer awaits than one per line), with
// their bytes, so the checksum is taken over the bytes as read. Reading text from the stream
// (its decoder, the partial line prepended to every chunk) and hashing the record lines encoded
// again took twice as long: 9.3-12.3 s against 4.3-4.6 s to read a million records
// (docs/operations.md).
async function* lineBatches(path: string): AsyncGenerator<LineBatch> {
  for await (const bytes of byteBatches(path)) {
    // Bytes below 0x80 are the same characters in Latin-1 and UTF-8, and V8 copies Latin-1 bytes
    // into a string as they are, where it decodes UTF-8 one character at a time: 4.5 against 0.2 ms
    // per MB here, about 2 s of CPU per million records (docs/operations.md).
    const lines = (isAscii(bytes) ? bytes.toString('latin1') : bytes.toString('utf8')).split('\n');
    lines.pop(); // the empty text after the last newline
    yield { lines, bytes };
  }
}

const NEWLINE = 0x0a;

interface RawLine {
  table: TableName;
  raw: RawRecord;
  line: number;
}

// Reads the file, checking integrity on the way, and yields parsed (not yet revived) records.
async function* scan(path: string, info: Partial<SnapshotInfo>): AsyncGenerator<RawLine[]> {
  const sha = createHash('sha256');
  const digests = new Map<TableName, TableDigest>(TABLES.map((t) => [t, new TableDigest(t)]));
  let lineNo = 0;
  let tableIndex = 0;
  let records = 0;
  let trailer: SnapshotTrailer | undefined;
  for await (const { lines, bytes } of lineBatches(path)) {
    const out: RawLine[] = [];
    // The record lines' bytes in this batch: all of them but the header's and the trailer's.
    let from = 0;
    let to = bytes.length;
    for (const line of lines) {
      lineNo += 1;
      if (lineNo === 1) {
        info.header = parseHeader(line);
        from = bytes.indexOf(NEWLINE) + 1;
        continue;
      }
      if (trailer !== undefined) throw new SnapshotError('data after the trailer', lineNo);
      const parsed = parseBodyLine(line, lineNo);
      if (parsed.kind === 'trailer') {
        trailer = parsed.trailer;
        // The last line of the batch (a line after it is refused above): its bytes start after
        // the newline before it.
        to = bytes.lastIndexOf(NEWLINE, bytes.length - 2) + 1;
        continue;
      }
      const { table, raw } = parsed;
      const index = TABLES.indexOf(table);
      if (index < tableIndex) throw new SnapshotError(`${table} after ${TABLES[tableIndex]}: tables out of order`, lineNo);
      tableIndex = index;
      if (!(digests.get(table) as TableDigest).addId(raw.id, rawAmount(table, raw, lineNo))) {
        throw new SnapshotError(`${table} ids out of order at ${raw.id}`, lineNo);
      }
      out.push({ table, raw, line: lineNo });
    }
    if (to > from) sha.update(bytes.subarray(from, to));
    records += out.length;
    if (out.length > 0) yield out;
  }
  if (lineNo === 0) throw new SnapshotError('the file is empty');
  if (trailer === undefined) throw new SnapshotError(`no trailer after line ${lineNo}: the file is truncated`);
  checkAgainstTrailer(trailer, records, sha.digest('hex'), (t) => (digests.get(t) as TableDigest).value(), lineNo);
  info.trailer = trailer;
  info.tables = Object.fromEntries(TABLES.map((t) => [t, digestFromJson(trailer.tables[t])])) as SnapshotInfo['tables'];
}

/**
 * Reads a snapshot, yielding its records (revived to stored-record types, not validated) and
 * checking integrity on the way; `info` is filled in once the trailer has been read and matched.
 * Refuses, at the end, a file whose trailer is missing or disagrees with the records.
 */
export async function* readSnapshot(path: string, info: Partial<SnapshotInfo> = {}): AsyncGenerator<SnapshotRecord[]> {
  for await (const lines of scan(path, info)) {
    yield lines.map(({ table, raw, line }) => ({ table, record: reviveRecord(table, raw, line), line }));
  }
}

/**
 * Reads a snapshot as record lines, for a bulk load that parses them itself (RecordTransfer's
 * TableLinesChunk): one chunk per table run of each read (at most `maxLines` lines), the lines'
 * bytes as they are in the file.
 * It checks what needs no parsing of the records: the header, the table order, the checksum of
 * the record lines, the record counts (in all and per table) and the trailer, and throws
 * {@link SnapshotError} as {@link readSnapshot} does. The records' ids and amounts are not matched
 * against the trailer here: the load validates every record, and its digests of what it stored
 * are compared with the trailer's (`info.tables`, filled in once the trailer has been read and
 * matched) before anything is committed.
 */
export async function* readSnapshotLines(path: string, info: Partial<SnapshotInfo> = {}, maxLines = Infinity): AsyncGenerator<TableLinesChunk> {
  const sha = createHash('sha256');
  const counts = new Map<TableName, number>(TABLES.map((t) => [t, 0]));
  let lineNo = 0;
  let tableIndex = 0;
  let trailer: SnapshotTrailer | undefined;
  // The last record's table and id (a copy: its read is gone by the next one).
  let lastTable: TableName | undefined;
  let lastId: Buffer = Buffer.alloc(0);
  for await (const bytes of byteBatches(path)) {
    const out: TableLinesChunk[] = [];
    let run: { table: TableName; start: number; firstLine: number; count: number } | undefined;
    const close = (end: number) => {
      if (run === undefined) return;
      out.push({ table: run.table, lines: bytes.subarray(run.start, end), count: run.count, firstLine: run.firstLine });
      counts.set(run.table, (counts.get(run.table) as number) + run.count);
      run = undefined;
    };
    // The record lines' bytes in this batch: all of them but the header's and the trailer's.
    let from = 0;
    let to = bytes.length;
    // Where the previous record's id is in this batch (-1: in lastId).
    let idStart = -1;
    let idEnd = -1;
    for (let start = 0; start < bytes.length; ) {
      const end = bytes.indexOf(NEWLINE, start);
      lineNo += 1;
      if (lineNo === 1) {
        info.header = parseHeader(bytes.toString('utf8', start, end));
        start = from = end + 1;
        continue;
      }
      if (trailer !== undefined) throw new SnapshotError('data after the trailer', lineNo);
      let table = tableOfRecordLine(bytes, start, end, run?.table);
      let id: Buffer | undefined;
      let nextIdStart = -1;
      let nextIdEnd = -1;
      if (table !== undefined) {
        nextIdStart = start + (RECORD_PREFIX.get(table) as Buffer).length;
        nextIdEnd = bytes.indexOf(QUOTE, nextIdStart);
      }
      if (table === undefined || nextIdEnd === -1 || nextIdEnd > end) {
        // Not in the form the writer gives a record line: parsed here, to know what it is.
        const parsed = parseBodyLine(bytes.toString('utf8', start, end), lineNo);
        if (parsed.kind === 'trailer') {
          trailer = parsed.trailer;
          close(start);
          to = start;
          start = end + 1;
          continue;
        }
        table = parsed.table;
        id = Buffer.from(parsed.raw.id);
      }
      const index = TABLES.indexOf(table);
      if (index < tableIndex) throw new SnapshotError(`${table} after ${TABLES[tableIndex]}: tables out of order`, lineNo);
      tableIndex = index;
      // Ids ascend within a table, as readSnapshot checks (and the load relies on).
      if (table === lastTable) {
        // No subarray per line: compared where the bytes are.
        const order =
          id !== undefined ? id.compare(idStart === -1 ? lastId : bytes.subarray(idStart, idEnd))
          : idStart === -1 ? bytes.compare(lastId, 0, lastId.length, nextIdStart, nextIdEnd)
          : bytes.compare(bytes, idStart, idEnd, nextIdStart, nextIdEnd);
        if (order <= 0) throw new SnapshotError(`${table} ids out of order at ${id?.toString() ?? bytes.toString('utf8', nextIdStart, nextIdEnd)}`, lineNo);
      }
      lastTable = table;
      if (id === undefined) [idStart, idEnd] = [nextIdStart, nextIdEnd];
      else [lastId, idStart, idEnd] = [id, -1, -1];
      if (run !== undefined && (run.table !== table || run.count >= maxLines)) close(start);
      run ??= { table, start, firstLine: lineNo, count: 0 };
      run.count += 1;
      start = end + 1;
    }
    if (idStart !== -1) lastId = Buffer.from(bytes.subarray(idStart, idEnd));
    close(to);
    if (to > from) sha.update(bytes.subarray(from, to));
    yield* out;
  }
  if (lineNo === 0) throw new SnapshotError('the file is empty');
  if (trailer === undefined) throw new SnapshotError(`no trailer after line ${lineNo}: the file is truncated`);
  const records = [...counts.values()].reduce((a, b) => a + b, 0);
  checkAgainstTrailer(trailer, records, sha.digest('hex'), (t) => ({ count: counts.get(t) as number }), lineNo);
  info.trailer = trailer;
  info.tables = Object.fromEntries(TABLES.map((t) => [t, digestFromJson(trailer.tables[t])])) as SnapshotInfo['tables'];
}

// The start of each table's record lines as the writer makes them (recordLine), up to the id's text.
const RECORD_PREFIX = new Map<TableName, Buffer>(TABLES.map((t) => [t, Buffer.from(`{"t":${JSON.stringify(t)},"r":{"id":"`)]));
const QUOTE = 0x22;

/** The table of the record line at bytes[start, end) when it starts as the writer starts one (the last table first). */
function tableOfRecordLine(bytes: Buffer, start: number, end: number, last: TableName | undefined): TableName | undefined {
  // No closure here: this runs for every line of the file.
  if (last !== undefined && startsWith(bytes, start, end, RECORD_PREFIX.get(last) as Buffer)) return last;
  for (const table of TABLES) if (startsWith(bytes, start, end, RECORD_PREFIX.get(table) as Buffer)) return table;
  return undefined;
}

function startsWith(bytes: Buffer, start: number, end: number, prefix: Buffer): boolean {
  return end - start > prefix.length && bytes.compare(prefix, 0, prefix.length, start, start + prefix.length) === 0;
}

/** What a read found of one table: its count always, its sum and id hash when it digested the records. */
interface TableFound {
  count: number;
  amountSum?: bigint;
  idsSha256?: string;
}

function checkAgainstTrailer(trailer: SnapshotTrailer, records: number, sha256: string, found: (table: TableName) => TableFound, lineNo: number): void {
  if (trailer.records !== records) throw new SnapshotError(`trailer counts ${trailer.records} records, the file has ${records}`, lineNo);
  if (trailer.sha256 !== sha256) throw new SnapshotError('checksum mismatch: the records were changed or damaged', lineNo);
  for (const table of TABLES) {
    const actual = found(table);
    const expected = trailer.tables[table];
    if (expected.count !== actual.count) throw new SnapshotError(`${table}: trailer says ${expected.count} records, found ${actual.count}`, lineNo);
    if (actual.amountSum !== undefined && expected.amountSum !== actual.amountSum.toString()) {
      throw new SnapshotError(`${table}: trailer amount sum ${expected.amountSum}, records sum to ${actual.amountSum}`, lineNo);
    }
    if (actual.idsSha256 !== undefined && expected.idsSha256 !== actual.idsSha256) throw new SnapshotError(`${table}: the ids differ from the trailer's id hash`, lineNo);
  }
}

/** Options of {@link verifySnapshot}. */
export interface VerifyOptions {
  /**
   * Also validate every record's fields as importRecords will (costs about as much as reading the
   * file again). Without it, records are checked for integrity (checksum, ids, amounts, counts,
   * references) but a record that is intact yet invalid is only refused by importRecords.
   */
  validate?: boolean;
  /** Gets the current table and how many of its records were checked, per read chunk. */
  onProgress?: (table: TableName, done: number) => void;
}

/**
 * The first pass: reads the whole file and checks its integrity (see the module comment), that
 * references resolve within the file and that asset and lease keys are unique, so an import
 * cannot fail half way on them. Writes nothing; throws {@link SnapshotError}.
 */
export async function verifySnapshot(path: string, options: VerifyOptions = {}): Promise<SnapshotInfo> {
  const info: Partial<SnapshotInfo> = {};
  const assets = new Set<string>();
  const leases = new Set<string>();
  let table: TableName | undefined;
  let done = 0;
  for await (const batch of scan(path, info)) {
    for (const item of batch) {
      if (item.table !== table) [table, done] = [item.table, 0];
      if (options.validate) checkRecord(item.table, reviveRecord(item.table, item.raw, item.line), item.line);
      checkKeys(item.table, item.raw, item.line, assets, leases);
      done += 1;
    }
    if (table !== undefined) options.onProgress?.(table, done);
  }
  return info as SnapshotInfo;
}

// Assets and leases are few, so their keys are kept; payments and events are not (memory).
function checkKeys(table: TableName, record: RawRecord, line: number, assets: Set<string>, leases: Set<string>): void {
  const key = (field: string) => {
    const value = record[field];
    if (typeof value !== 'string') throw new SnapshotError(`${table}.${field} is not a string`, line);
    return value;
  };
  if (table === 'assets') {
    const assetId = key('assetId');
    if (assets.has(assetId)) throw new SnapshotError(`asset ${assetId} appears twice with different ids`, line);
    assets.add(assetId);
  } else if (table === 'leases') {
    const [leaseId, assetId] = [key('leaseId'), key('assetId')];
    if (!assets.has(assetId)) throw new SnapshotError(`lease ${leaseId} refers to asset ${assetId}, which is not in the snapshot`, line);
    if (leases.has(leaseId)) throw new SnapshotError(`lease ${leaseId} appears twice with different ids`, line);
    leases.add(leaseId);
  } else if (table === 'x402_payments' || table === 'x402_batches') {
    const leaseId = key('leaseId');
    if (!leases.has(leaseId)) throw new SnapshotError(`${table} record ${record.id} refers to lease ${leaseId}, which is not in the snapshot`, line);
  }
}
