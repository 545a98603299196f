/**
 * Where migrated records come from: a live {@link Database} or a snapshot file. Both give the
 * five tables in TABLES order with ids ascending, in batches, plus what the source declares about
 * itself up front (counts and sums; for a snapshot also the id hashes, checked by a full
 * verification pass before anything is written).
 */
import { open } from 'node:fs/promises';
import type { Database } from '../storage/contract/database.js';
import { TABLES, type TableLinesChunk, type TableName, type TableRecords } from '../storage/contract/transfer.js';
import { parseBodyLine } from './snapshot-format.js';
import { readSnapshot, readSnapshotLines, verifySnapshot, type SnapshotInfo, type VerifyOptions } from './snapshot-reader.js';
import type { TableDigestValue } from './table-digest.js';

/** Records of one table, at most the requested batch size. */
export interface RecordBatch<T extends TableName = TableName> {
  table: T;
  records: TableRecords[T][];
}

/** What a source says about one table before it is read. */
export interface DeclaredTable {
  count: number;
  amountSum: bigint;
  /** Known for snapshots (from the verified trailer). */
  idsSha256?: string;
}

/** A source of records for {@link migrateData}. */
export interface RecordSource {
  /** For reports and logs; never contains a password. */
  readonly description: string;
  /**
   * Reads what the source declares; for a snapshot this is the whole verification pass (see
   * {@link VerifyOptions}; a database ignores the options).
   */
  prepare(options?: VerifyOptions): Promise<Record<TableName, DeclaredTable>>;
  /** All records, TABLES order, ids ascending, `batchSize` at most per batch. */
  batches(batchSize: number): AsyncIterable<RecordBatch>;
  /**
   * All records as record lines (a snapshot's, as they are in the file), TABLES order, at most
   * `batchSize` per chunk, for a bulk load that parses them itself; absent when the source has no such form (a database).
   */
  lineChunks?(batchSize: number): AsyncIterable<TableLinesChunk>;
  /**
   * Once `batches()` has run to its end without throwing: the digests of exactly the records it
   * yielded, when the source checked them itself as it read (a snapshot's reader matches every
   * record against the verified trailer and throws on any difference). Once `lineChunks()` has:
   * the digests the source declares for them (a snapshot's trailer, which the load's digests of
   * what it stored must equal). Undefined otherwise (a database source, or a read not finished):
   * the caller digests the records itself.
   */
  readDigests?(): Record<TableName, TableDigestValue> | undefined;
}

// exportRecords accepts pages of at most 10,000 records.
const MAX_PAGE = 10_000;

/** A connected database as a source. */
export function databaseSource(db: Database, description = db.capabilities.kind): RecordSource {
  return {
    description,
    async prepare() {
      const entries = await Promise.all(TABLES.map(async (t) => [t, await db.summarizeTable(t)] as const));
      return Object.fromEntries(entries) as Record<TableName, DeclaredTable>;
    },
    async *batches(batchSize) {
      for (const table of TABLES) {
        yield* rebatch(table, db.exportRecords(table, Math.min(batchSize, MAX_PAGE)), batchSize);
      }
    },
  };
}

async function* rebatch<T extends TableName>(table: T, pages: AsyncIterable<TableRecords[T][]>, size: number): AsyncGenerator<RecordBatch> {
  let current: TableRecords[T][] = [];
  for await (const page of pages) {
    for (const record of page) {
      current.push(record);
      if (current.length >= size) {
        yield { table, records: current };
        current = [];
      }
    }
  }
  if (current.length > 0) yield { table, records: current };
}

/** A snapshot file as a source; `prepare()` verifies the whole file first. */
export function snapshotSource(path: string): RecordSource {
  let read: Record<TableName, TableDigestValue> | undefined;
  return {
    description: `snapshot ${path}`,
    async prepare(options) {
      const info = await verifySnapshot(path, options);
      return info.tables;
    },
    readDigests: () => read,
    async *batches(batchSize) {
      read = undefined;
      const info: Partial<SnapshotInfo> = {};
      let current: RecordBatch | undefined;
      for await (const chunk of readSnapshot(path, info)) {
        for (const { table, record } of chunk) {
          if (current !== undefined && (current.table !== table || current.records.length >= batchSize)) {
            yield current;
            current = undefined;
          }
          current ??= { table, records: [] };
          (current.records as TableRecords[TableName][]).push(record);
        }
      }
      if (current !== undefined) yield current;
      // The reader has matched every record against the trailer (it throws otherwise).
      read = info.tables;
    },
    async *lineChunks(batchSize) {
      read = undefined;
      const info: Partial<SnapshotInfo> = {};
      yield* readSnapshotLines(path, info, batchSize);
      // The file is intact and holds what its trailer counts; the records are matched against
      // the trailer's digests by the caller, through the target's own.
      read = info.tables;
    },
  };
}

/**
 * The per-table counts a snapshot's trailer announces, read from the end of the file without
 * reading the rest: for progress totals only (untrusted until {@link verifySnapshot} agrees).
 * Undefined when the file has no readable trailer.
 */
export async function peekSnapshotCounts(path: string): Promise<Record<TableName, number> | undefined> {
  const file = await open(path, 'r');
  try {
    const { size } = await file.stat();
    const length = Math.min(size, 64 * 1024);
    const { buffer } = await file.read(Buffer.alloc(length), 0, length, size - length);
    const lines = buffer.toString('utf8').trimEnd().split('\n');
    const body = parseBodyLine(lines[lines.length - 1] ?? '', 0);
    if (body.kind !== 'trailer') return undefined;
    return Object.fromEntries(TABLES.map((t) => [t, body.trailer.tables[t].count])) as Record<TableName, number>;
  } catch {
    return undefined;
  } finally {
    await file.close();
  }
}
