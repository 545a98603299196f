/**
 * Schema migration results, as every store reports them through its {@link SchemaManager}
 * (the SQL backends run `migrations/NNN_name.sql`; memory has no schema).
 */
import type { StorageError } from './errors.js';

/**
 * `applied`: in the ledger with the same sha256 and name; `pending`: not in the ledger;
 * `drifted`: in the ledger but the file changed since; `missing`: in the ledger, file gone.
 */
export type MigrationState = 'applied' | 'pending' | 'drifted' | 'missing';

/** One line of {@link SchemaManager.status}. */
export interface MigrationStatus {
  version: number;
  name: string;
  state: MigrationState;
  /** When it was applied (not for `pending`). */
  appliedAt?: Date;
}

/** What happened to one pending migration during {@link SchemaManager.up}. */
export interface MigrationResult {
  version: number;
  name: string;
  status: 'Success' | 'Error' | 'NotExecuted';
  error?: StorageError;
}

/** The outcome of {@link SchemaManager.up}; `error` is set when anything failed or was refused. */
export interface MigrateUpResult {
  /** Migrations applied by this call, in order. */
  applied: Array<{ version: number; name: string }>;
  /** One entry per migration that was pending when the run started. */
  results: MigrationResult[];
  error?: StorageError;
}

/** Applies and reports schema migrations; a no-op for a backend without a schema (memory). */
export interface SchemaManager {
  status(): Promise<MigrationStatus[]>;
  up(): Promise<MigrateUpResult>;
  /**
   * SQL stores (payments partitioned by day): creates the partitions of today (UTC) and the next
   * `daysAhead` days that are missing; returns the days created (`YYYY-MM-DD`). Absent without
   * partitions (memory).
   */
  ensurePartitions?(daysAhead: number): Promise<string[]>;
  /**
   * SQL stores: moves the settlement-hash claims of payments timed before the UTC day `keepDays`
   * days before today (default 1: yesterday's and today's stay) into the cold claims table
   * (payments then insert into an index of the recent days only; a replay of a moved claim is
   * still refused); returns how many moved. Absent in memory.
   */
  moveClaimsToCold?(keepDays?: number): Promise<number>;
  /**
   * SQL stores: rewrites every day partition before the UTC day `keepDays` days before today
   * (default 1) that was never compacted in lease order, so reading one lease's payments of an old
   * day reads a few pages instead of one per payment (migration 009); returns what was compacted,
   * oldest first. Payments keep being written meanwhile (a late payment of a day being compacted is
   * copied again at the swap). Fails with `CONFLICT` while another process compacts. Absent in
   * memory.
   */
  compactPartitions?(keepDays?: number): Promise<PartitionCompaction[]>;
  /**
   * SQL stores: reads each day partition that is over whose kept reconcile result does not hold
   * (never read, written since, compacted since) and keeps its sums (migration 013), so the next
   * reconcile reads only today's payments and what changed; returns the days read (`YYYY-MM-DD`).
   * Absent in memory.
   */
  keepReconcileResults?(): Promise<string[]>;
}

/** What compacting one day partition of the payment table did. */
export interface PartitionCompaction {
  /** Table name, e.g. `x402_payments_p20261129`. */
  partition: string;
  /** The UTC day it holds (`YYYY-MM-DD`). */
  day: string;
  /** Rows of the partition after the swap. */
  payments: number;
  /** Rows written while it was being copied, copied again at the swap. */
  changed: number;
}

/** One partition of the payment table. */
export interface PaymentPartition {
  /** Table name, e.g. `x402_payments_p20261129`, or `x402_payments_default`. */
  name: string;
  /** The UTC day it holds (`YYYY-MM-DD`); null for the DEFAULT partition. */
  day: string | null;
  /** Lower bound (inclusive); null for the DEFAULT partition. */
  from: Date | null;
  /** Upper bound (exclusive); null for the DEFAULT partition. */
  to: Date | null;
  /** The planner's row estimate (0 before the first ANALYZE). */
  estimatedRows: number;
  /** Size with indexes and TOAST, in bytes. */
  bytes: number;
}
