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
