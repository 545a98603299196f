/**
 * Streaming snapshot reader. Every read checks the file's integrity as it goes (structure, table
 * order, ascending ids, the sha256 of the record lines, per-table counts, sums and id hashes
 * against the trailer) and throws {@link SnapshotError} at the first problem. Importers therefore
 * read a file twice: {@link verifySnapshot} first, writing nothing, then {@link readSnapshot}
 * to feed the records in; only a file that passed the first pass is written anywhere.
 */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { TABLES, type TableName, type TableRecords } from '../storage/contract/transfer.js';
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

// Yields the file's lines in arrays (one per read chunk: far fewer awaits than one per line).
// A last line without its newline means the file was cut off, whatever it contains.
async function* lineBatches(path: string): AsyncGenerator<string[]> {
  const stream = createReadStream(path, { encoding: 'utf8', highWaterMark: 1 << 20 });
  let rest = '';
  for await (const chunk of stream as AsyncIterable<string>) {
    const lines = (rest + chunk).split('\n');
    rest = lines.pop() ?? '';
    yield lines;
  }
  if (rest !== '') throw new SnapshotError('the last line has no newline: the file is truncated');
}

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
  for await (const lines of lineBatches(path)) {
    const out: RawLine[] = [];
    const body: string[] = [];
    for (const line of lines) {
      lineNo += 1;
      if (lineNo === 1) {
        info.header = parseHeader(line);
        continue;
      }
      if (trailer !== undefined) throw new SnapshotError('data after the trailer', lineNo);
      const parsed = parseBodyLine(line, lineNo);
      if (parsed.kind === 'trailer') {
        trailer = parsed.trailer;
        continue;
      }
      const { table, raw } = parsed;
      const index = TABLES.indexOf(table);
      if (index < tableIndex) throw new SnapshotError(`${table} after ${TABLES[tableIndex]}: tables out of order`, lineNo);
      tableIndex = index;
      if (!(digests.get(table) as TableDigest).addId(raw.id, rawAmount(table, raw, lineNo))) {
        throw new SnapshotError(`${table} ids out of order at ${raw.id}`, lineNo);
      }
      body.push(line);
      out.push({ table, raw, line: lineNo });
    }
    // One update per chunk: the per-call cost of many small updates exceeds the hashing.
    if (body.length > 0) sha.update(`${body.join('\n')}\n`);
    records += body.length;
    if (out.length > 0) yield out;
  }
  if (lineNo === 0) throw new SnapshotError('the file is empty');
  if (trailer === undefined) throw new SnapshotError(`no trailer after line ${lineNo}: the file is truncated`);
  checkAgainstTrailer(trailer, records, sha.digest('hex'), digests, lineNo);
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

function checkAgainstTrailer(trailer: SnapshotTrailer, records: number, sha256: string, digests: Map<TableName, TableDigest>, lineNo: number): void {
  if (trailer.records !== records) throw new SnapshotError(`trailer counts ${trailer.records} records, the file has ${records}`, lineNo);
  if (trailer.sha256 !== sha256) throw new SnapshotError('checksum mismatch: the records were changed or damaged', lineNo);
  for (const table of TABLES) {
    const actual = (digests.get(table) as TableDigest).value();
    const expected = trailer.tables[table];
    if (expected.count !== actual.count) throw new SnapshotError(`${table}: trailer says ${expected.count} records, found ${actual.count}`, lineNo);
    if (expected.amountSum !== actual.amountSum.toString()) {
      throw new SnapshotError(`${table}: trailer amount sum ${expected.amountSum}, records sum to ${actual.amountSum}`, lineNo);
    }
    if (expected.idsSha256 !== actual.idsSha256) throw new SnapshotError(`${table}: the ids differ from the trailer's id hash`, lineNo);
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
