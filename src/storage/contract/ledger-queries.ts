/**
 * Ledger reads and checks over payments and batches (guide section 6, issue "x402 payment
 * ledger"). Every backend implements them with the same results.
 */
import type { StoredX402Batch, StoredX402Payment } from './records.js';

/** One page of a keyset-paginated list; pass `nextCursor` back as `after` for the next page. */
export interface Page<T> {
  items: T[];
  /** Opaque cursor of the last item, or null when there are no more. */
  nextCursor: string | null;
}

/** Options of a keyset-paginated read. */
export interface PageOptions {
  /** Items per page, 1..1000 (default 100). */
  limit?: number;
  /** Cursor from the previous page. */
  after?: string;
}

/** Total and count of one lease's payments in one hour. */
export interface HourTotals {
  leaseId: string;
  bucket: string;
  totalAmountMinorUnits: bigint;
  paymentCount: number;
}

/** Revenue of one lease on one UTC day. */
export interface DailyRevenue {
  leaseId: string;
  /** UTC day, `YYYY-MM-DD`. */
  day: string;
  totalAmountMinorUnits: bigint;
  paymentCount: number;
}

/** A half-open time range [from, to). */
export interface TimeRange {
  from: Date;
  to: Date;
}

/** Revenue of one asset's leases over a range, with the per-lease split. */
export interface AssetRevenue {
  assetId: string;
  from: Date;
  to: Date;
  totalAmountMinorUnits: bigint;
  paymentCount: number;
  /** Per lease, ordered by leaseId; leases without payments in the range are left out. */
  leases: { leaseId: string; totalAmountMinorUnits: bigint; paymentCount: number }[];
}

/** A batch whose stored total or count differs from its payments (or payments without a batch). */
export interface ReconcileDifference {
  leaseId: string;
  hourBucket: string;
  /** Null when payments exist for an hour that has no batch row. */
  batchId: string | null;
  storedTotal: bigint;
  storedCount: number;
  paymentsTotal: bigint;
  paymentsCount: number;
}

/** A late payment (recorded after its hour's batch was settled or full), carried or waiting to be. */
export interface LatePayment {
  leaseId: string;
  hourBucket: string;
  facilitatorTxHash: string;
  amountMinorUnits: bigint;
  /** The batch whose settlement carried it; null while it waits for the lease's next settlement. */
  carriedToBatchId: string | null;
}

/** Result of {@link LedgerQueries.reconcile}. */
export interface ReconcileReport {
  batchesChecked: number;
  paymentsChecked: number;
  /** Batches whose totals are not their on-time payments' (late payments are outside them). */
  differences: ReconcileDifference[];
  /** Every late payment, ordered by (leaseId, hourBucket, facilitatorTxHash). */
  latePayments: LatePayment[];
}

/** Options of {@link LedgerQueries.reconcile}. */
export interface ReconcileOptions {
  /**
   * Read every payment again, ignoring the results the SQL backends keep for days that are over
   * (and keep what was read). Default false: a day that is over is read again only after
   * something wrote to it. The in-memory backend always reads everything.
   */
  full?: boolean;
}

/** Ledger reads every backend implements. */
export interface LedgerQueries {
  /** Total and count of the lease's payments in the hour containing `at` (default now). */
  getHourTotals(leaseId: string, at?: Date): Promise<HourTotals>;
  /** Revenue per UTC day of one lease over [from, to), newest day first, keyset-paginated. */
  getDailyRevenue(leaseId: string, range: TimeRange, page?: PageOptions): Promise<Page<DailyRevenue>>;
  /** Revenue of one asset's leases over [from, to). */
  getAssetRevenue(assetId: string, range: TimeRange): Promise<AssetRevenue>;
  /** A lease's payments ordered by (paymentTimestamp, id), keyset-paginated. */
  getPaymentsPage(leaseId: string, page?: PageOptions): Promise<Page<StoredX402Payment>>;
  /** A lease's batches ordered by hourBucket, keyset-paginated. */
  getBatchesPage(leaseId: string, page?: PageOptions): Promise<Page<StoredX402Batch>>;
  /** Checks every batch's total and count against its payments. */
  reconcile(options?: ReconcileOptions): Promise<ReconcileReport>;
}
