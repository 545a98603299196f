/**
 * The storage contract of the offchain data layer (guide sections 1-2, decisions in
 * docs/storage-contract.md). Every backend (memory, PostgreSQL, embedded PGlite) sits behind the
 * one core wrapper that implements {@link Database}, and passes the conformance suite in
 * `test/conformance/`. This folder imports nothing from any implementation.
 */
import type { ChainStore, Leadership } from './chain.js';
import type { LedgerQueries, Page, PageOptions } from './ledger-queries.js';
import type {
  AssetUpdate,
  BatchUpdate,
  ClearOptions,
  LeaseFilter,
  LeaseStatus,
  LeaseUpdate,
  LeaseWithBatch,
  NewAsset,
  NewEvent,
  NewLease,
  NewX402Batch,
  NewX402Payment,
  RecordPaymentParams,
  StoredAsset,
  StoredEvent,
  StoredLease,
  StoredX402Batch,
  StoredX402Payment,
} from './records.js';
import type { SchemaManager } from './schema.js';
import type { RecordTransfer, TableName, TableSize } from './transfer.js';

export * from './records.js';
export type * from './chain.js';
export type * from './schema.js';

/** Connection pool statistics (PGlite reports its single connection). */
export interface PoolStats {
  total: number;
  idle: number;
  waiting: number;
  /** Most connections the pool opens (PGlite: its one connection); free = max - total + idle. */
  max: number;
}

/** A payment as {@link Database.recordPaymentWithOutcome} reports it. */
export interface RecordedPayment {
  /** The stored payment: the new one, or the original when this call was a replay. */
  payment: StoredX402Payment;
  /** True when the facilitator hash was already recorded and nothing changed. */
  replayed: boolean;
}

/** What a backend can do beyond the contract; callers branch on these, never on the class. */
export interface BackendCapabilities {
  /** A short backend name for logs and metrics ("memory", "postgres", "pglite"). */
  readonly kind: string;
  /** Data survives a restart of the process. */
  readonly durable: boolean;
  /** SQL schema managed by the migration runner. */
  readonly sql: boolean;
  /** `connect()` may follow `disconnect()` (memory keeps its data; a SQL pool, once ended, cannot). */
  readonly reconnectable: boolean;
}

/** The storage contract every backend honours. */
export interface Database extends LedgerQueries, RecordTransfer, ChainStore {
  readonly capabilities: BackendCapabilities;
  /** This store's schema migrations (a no-op manager when the backend has no schema). */
  readonly schema: SchemaManager;

  connect(): Promise<void>;
  /** Idempotent. */
  disconnect(): Promise<void>;
  isConnected(): boolean;
  /** Connection pool statistics, or null for a backend without a pool (memory). */
  poolStats(): PoolStats | null;

  /** Fails with `DUPLICATE` when `assetId` exists. */
  saveAsset(asset: NewAsset): Promise<StoredAsset>;
  getAsset(assetId: string): Promise<StoredAsset | null>;
  /** Case-insensitive; the first by (createdAt, id) when several share the address. */
  getAssetByTokenAddress(tokenAddress: string): Promise<StoredAsset | null>;
  /** Ordered by (createdAt, id). */
  getAllAssets(): Promise<StoredAsset[]>;
  /** Assets in (createdAt, id) order, keyset-paginated. */
  getAssetsPage(page?: PageOptions): Promise<Page<StoredAsset>>;
  /** Returns null when the asset does not exist. */
  updateAsset(assetId: string, updates: AssetUpdate): Promise<StoredAsset | null>;

  /** Fails with `DUPLICATE` on an existing `leaseId`, `REFERENCE_NOT_FOUND` on a missing asset. */
  saveLease(lease: NewLease): Promise<StoredLease>;
  getLease(leaseId: string): Promise<StoredLease | null>;
  /** Ordered by (createdAt, id). */
  getAllLeases(): Promise<StoredLease[]>;
  /** Ordered by (createdAt, id). */
  getLeasesByAsset(assetId: string): Promise<StoredLease[]>;
  /** Ordered by (createdAt, id). */
  getLeasesByStatus(status: LeaseStatus): Promise<StoredLease[]>;
  /** Active leases of one asset, newest first (guide section 6). */
  getActiveLeasesForAsset(assetId: string): Promise<StoredLease[]>;
  /** Leases whose lessor matches case-insensitively, newest first. */
  getLeasesByLessor(address: string): Promise<StoredLease[]>;
  /** Leases whose lessee matches case-insensitively, newest first. */
  getLeasesByLessee(address: string): Promise<StoredLease[]>;
  /** Leases matching `filter` in (createdAt, id) order, keyset-paginated. */
  getLeasesPage(filter: LeaseFilter, page?: PageOptions): Promise<Page<StoredLease>>;
  updateLease(leaseId: string, updates: LeaseUpdate): Promise<StoredLease | null>;
  /**
   * Changes a lease's status from `from` to `to` atomically: a `CONFLICT` when its status is not
   * `from` (another writer got there first), null when the lease does not exist. Which
   * transitions are allowed is the caller's policy.
   */
  transitionLeaseStatus(leaseId: string, from: LeaseStatus, to: LeaseStatus): Promise<StoredLease | null>;

  /** Idempotent on (transactionHash, logIndex): an existing event is returned unchanged. */
  saveEvent(event: NewEvent): Promise<StoredEvent>;
  getEvent(transactionHash: string, logIndex: number): Promise<StoredEvent | null>;
  /** At most `limit` unprocessed events ordered by (blockNumber, logIndex). */
  getUnprocessedEvents(limit?: number): Promise<StoredEvent[]>;
  /** Number of unprocessed events (the ingestion backlog). */
  countUnprocessedEvents(): Promise<number>;
  /** Fails with `NOT_FOUND` for an unknown id; marking twice is harmless. */
  markEventProcessed(id: string): Promise<void>;

  /** Stores a payment and adds it to its hourly batch in one step (same rules as recordPayment). */
  saveX402Payment(payment: NewX402Payment): Promise<StoredX402Payment>;
  /** The payment settled by `facilitatorTxHash`, if recorded. */
  getPaymentByFacilitatorTxHash(facilitatorTxHash: string): Promise<StoredX402Payment | null>;
  /** Ordered by (paymentTimestamp, id). */
  getX402PaymentsByLease(leaseId: string): Promise<StoredX402Payment[]>;
  /** Ordered by (paymentTimestamp, id). */
  getX402PaymentsByBucket(bucketSlot: string): Promise<StoredX402Payment[]>;
  /** Creates an empty batch; `DUPLICATE` when (leaseId, hourBucket) exists. */
  saveX402Batch(batch: NewX402Batch): Promise<StoredX402Batch>;
  /** Ordered by hourBucket. */
  getX402BatchesByLease(leaseId: string): Promise<StoredX402Batch[]>;
  /** The lease's batch for that hour while it is open (not settled), else null. */
  getOpenBatchForLease(leaseId: string, bucket: string): Promise<StoredX402Batch | null>;
  /** The lease's batch for that hour, open or settled, else null. */
  getX402Batch(leaseId: string, hourBucket: string): Promise<StoredX402Batch | null>;
  /**
   * `getLease` and `getX402Batch` at once, in one round trip on the SQL backends: what paid
   * access reads before money moves. Null when the lease does not exist.
   */
  getLeaseWithBatch(leaseId: string, hourBucket: string): Promise<LeaseWithBatch | null>;
  /**
   * Settlement fields only. Settling needs the hour and its grace (`settlementGraceMs`, default
   * 5 minutes) to have passed; the same hash again is a no-op, another one a `CONFLICT`. Returns
   * null when the batch does not exist.
   */
  updateX402Batch(id: string, updates: BatchUpdate): Promise<StoredX402Batch | null>;

  /**
   * Records one payment and adds it to its lease's hourly batch atomically. The lease must exist
   * and be active; a replayed hash returns the original; a settled hour is a `CONFLICT`.
   */
  recordPayment(params: RecordPaymentParams): Promise<StoredX402Payment>;
  /** {@link recordPayment}, also saying whether the call was a replay of a recorded payment. */
  recordPaymentWithOutcome(params: RecordPaymentParams): Promise<RecordedPayment>;
  /** Deletes everything. Refused under `NODE_ENV=production` without `allowProduction`. */
  clear(options?: ClearOptions): Promise<void>;
  /** Row counts of every table without scanning any of them (exact when small, else estimated). */
  estimateTableSizes(): Promise<Record<TableName, TableSize>>;
  /**
   * Tries to become the one holder of the named role (1-100 characters); null when another
   * holder has it. Across processes on PostgreSQL; within this process on PGlite and memory.
   */
  tryLeadership(name: string): Promise<Leadership | null>;
}
