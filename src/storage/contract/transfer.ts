/**
 * Whole-table access used by data migration, snapshots and verification. Records move as they are
 * stored (ids, timestamps and batch totals kept), unlike the save* methods which make new ones.
 */
import type { StoredAsset, StoredEvent, StoredLease, StoredX402Batch, StoredX402Payment } from './records.js';

/** The five tables, in reference order: a table only refers to tables before it. */
export const TABLES = ['assets', 'leases', 'events', 'x402_payments', 'x402_batches'] as const;
export type TableName = (typeof TABLES)[number];

/** The stored record type of each table. */
export interface TableRecords {
  assets: StoredAsset;
  leases: StoredLease;
  events: StoredEvent;
  x402_payments: StoredX402Payment;
  x402_batches: StoredX402Batch;
}

/** Row count and money total of one table (payment amounts, batch totals; 0 elsewhere). */
export interface TableSummary {
  count: number;
  amountSum: bigint;
}

/**
 * What verification compares per table: row count, money total (as {@link TableSummary}), and
 * sha256 over the ids in ascending order, each followed by a newline.
 */
export interface TableDigestValue {
  count: number;
  amountSum: bigint;
  idsSha256: string;
}

/** Records of one table, in id order, as a bulk load receives them. */
export interface TableChunk<T extends TableName = TableName> {
  table: T;
  records: readonly TableRecords[T][];
}

/**
 * Records of one table as record lines (`{"t":"<table>","r":<stored record>}`, amounts as decimal
 * strings, dates as ISO-8601 strings, each line followed by "\n"; storage/core/record-lines.ts),
 * as a snapshot holds them. A bulk load parses and validates them where it can do so beside the
 * main thread, so the caller's thread only moves bytes.
 */
export interface TableLinesChunk<T extends TableName = TableName> {
  table: T;
  /** The lines' bytes (UTF-8), every line followed by "\n". */
  lines: Uint8Array;
  /** How many lines `lines` holds. */
  count: number;
  /** The number of the first line where the lines came from (a snapshot's line), for errors. */
  firstLine: number;
}

/** True when `chunk` carries record lines rather than records. */
export function isLinesChunk(chunk: TableChunk | TableLinesChunk): chunk is TableLinesChunk {
  return 'lines' in chunk;
}

/** The outcome of {@link RecordTransfer.loadEmpty}. */
export interface BulkLoadResult {
  /** True when `accept` agreed and everything was committed; false when it was all rolled back. */
  committed: boolean;
  /** The digest of every table as loaded, computed by the store before committing. */
  digests: Record<TableName, TableDigestValue>;
  /** Milliseconds per step of the load inside the store (e.g. copy, indexes, foreignKeys, digests), when it measures them. */
  stepMs?: Record<string, number>;
}

/** Whole-table export and import, implemented by every backend. */
export interface RecordTransfer {
  /** Streams a table's records ordered by id, `pageSize` per chunk (default 1000). */
  exportRecords<T extends TableName>(table: T, pageSize?: number): AsyncIterable<TableRecords[T][]>;
  /**
   * Inserts stored records as they are, in one transaction: a record whose id exists is skipped,
   * so a repeated import adds nothing. A natural-key clash with another id is a `DUPLICATE`, a
   * missing reference a `REFERENCE_NOT_FOUND`, and then nothing of the call is written.
   * Returns how many records were new.
   */
  importRecords<T extends TableName>(table: T, records: readonly TableRecords[T][]): Promise<number>;
  /** Count and money total of a table. */
  summarizeTable(table: TableName): Promise<TableSummary>;
  /**
   * The table's {@link TableDigestValue} computed inside the store (one SQL statement), or null
   * when the store has no faster way than streaming its records (then the caller streams them).
   */
  digestTable(table: TableName): Promise<TableDigestValue | null>;
  /**
   * Loads a store whose five tables are all empty the way a restore does, in one transaction:
   * rows first, then the indexes and foreign keys, then the digests; `accept` sees the digests
   * and only when it returns true is anything committed, so no one ever sees a half-loaded or
   * unverified store, and an interrupted load leaves the store empty (run it again). Returns null,
   * having read nothing and changed nothing, when the store is not empty or has no such path
   * (then use importRecords). The same validation and natural-key rules as importRecords apply,
   * to records and to record lines alike (a line that is not a valid record is a `VALIDATION`
   * error naming its `firstLine`-based number, and nothing is committed).
   */
  loadEmpty(chunks: AsyncIterable<TableChunk | TableLinesChunk>, accept: (digests: Record<TableName, TableDigestValue>) => Promise<boolean>): Promise<BulkLoadResult | null>;
}

/**
 * A table's row count for operational reports, cheap on any size: exact while the table is small
 * (or in memory), else the database's own estimate (PostgreSQL's `pg_class.reltuples`, refreshed
 * by ANALYZE and autovacuum), never a scan of the whole table.
 */
export interface TableSize {
  count: number;
  /** True when `count` is exact; false when it is an estimate (or, never analyzed, a lower bound). */
  exact: boolean;
}
