/**
 * The narrow interface a storage backend implements under the core {@link Store}. Every input is
 * already validated and normalized (canonical buckets, parsed amounts, lowercased ids, decoded
 * cursors) and the store is known to be connected, so a backend only stores and reads. Rules
 * that must hold inside the backend's own atomic step (references, natural keys, payability,
 * replays, settled hours, batch capacity) it applies with the shared checks in `invariants.ts`.
 */
import type {
  AssetUpdate,
  BackendCapabilities,
  BatchUpdate,
  LeaseFilter,
  LeaseStatus,
  LeaseUpdate,
  NewAsset,
  NewEvent,
  NewLease,
  PoolStats,
  RecordedPayment,
  SchemaManager,
  StoredAsset,
  StoredEvent,
  LeaseWithBatch,
  StoredLease,
  StoredX402Batch,
  StoredX402Payment,
} from '../contract/database.js';
import type { ChainApplication, ChainApplyResult, ChainBlockRef, ChainCursor, ChainRangeInput, ChainRangeResult, ChainRewindResult, Leadership, StoredDeepReorg } from '../contract/chain.js';
import type { AssetRevenue, DailyRevenue, ReconcileOptions, ReconcileReport, TimeRange } from '../contract/ledger-queries.js';
import type { BulkLoadResult, TableChunk, TableDigestValue, TableLinesChunk, TableName, TableRecords, TableSize, TableSummary } from '../contract/transfer.js';
import type { SettleClock } from './invariants.js';
import type { BatchInput, PaymentInput } from './validate.js';

/** A page request with its cursor decoded into the backend's sort key. */
export interface PageRequest<K> {
  limit: number;
  /** Sort key of the last item of the previous page; null for the first page. */
  after: K | null;
}

/** The sort key of lists ordered by (instant, id): assets and leases by creation, payments by time. */
export interface TimeIdKey {
  /** Epoch milliseconds. */
  ts: number;
  id: string;
}

/** Up to `limit` items after the cursor, and whether more follow (the store makes the cursor). */
export interface Slice<T> {
  items: T[];
  more: boolean;
}

/** Which end of the (createdAt, id) order a lease list starts from. */
export type ListOrder = 'oldest-first' | 'newest-first';

/** Which payments a plain list returns. */
export type PaymentSelector = { leaseId: string } | { bucketSlot: string };

/** A storage backend: what the {@link Store} delegates to after checking and normalizing input. */
export interface StorageBackend {
  readonly capabilities: BackendCapabilities;
  /** The backend's schema migrations (a no-op manager without a schema). */
  readonly schema: SchemaManager;

  open(): Promise<void>;
  /** Closes connections; the store calls it once per open. */
  close(): Promise<void>;
  poolStats(): PoolStats | null;

  /** `DUPLICATE` on an existing assetId. */
  insertAsset(asset: NewAsset): Promise<StoredAsset>;
  findAsset(assetId: string): Promise<StoredAsset | null>;
  /** First by (createdAt, id) whose token address matches case-insensitively. */
  findAssetByToken(tokenAddress: string): Promise<StoredAsset | null>;
  listAssets(): Promise<StoredAsset[]>;
  assetsPage(page: PageRequest<TimeIdKey>): Promise<Slice<StoredAsset>>;
  /** Null when the asset does not exist; `updatedAt` moves forward. */
  updateAsset(assetId: string, changes: AssetUpdate): Promise<StoredAsset | null>;

  /** `DUPLICATE` on an existing leaseId, `REFERENCE_NOT_FOUND` on a missing asset. */
  insertLease(lease: NewLease): Promise<StoredLease>;
  findLease(leaseId: string): Promise<StoredLease | null>;
  /** Leases matching every field of `filter` (addresses case-insensitively), in `order`. */
  listLeases(filter: LeaseFilter, order: ListOrder): Promise<StoredLease[]>;
  leasesPage(filter: LeaseFilter, page: PageRequest<TimeIdKey>): Promise<Slice<StoredLease>>;
  /** Null when the lease does not exist; `REFERENCE_NOT_FOUND` when a new assetId does not. */
  updateLease(leaseId: string, changes: LeaseUpdate): Promise<StoredLease | null>;
  /** Conditional status change; `CONFLICT` when the status is not `from`, null when no lease. */
  transitionLeaseStatus(leaseId: string, from: LeaseStatus, to: LeaseStatus): Promise<StoredLease | null>;

  /** Idempotent on (transactionHash, logIndex): an existing event is returned unchanged. */
  insertEvent(event: NewEvent & { processed: boolean }): Promise<StoredEvent>;
  findEvent(transactionHash: string, logIndex: number): Promise<StoredEvent | null>;
  unprocessedEvents(limit: number): Promise<StoredEvent[]>;
  countUnprocessedEvents(): Promise<number>;
  /** False when no event has that id. */
  markEventProcessed(id: string): Promise<boolean>;

  /** Stores a payment and adds it to its batch in one atomic step, or finds its replay. */
  recordPayment(input: PaymentInput): Promise<RecordedPayment>;
  findPaymentByHash(facilitatorTxHash: string): Promise<StoredX402Payment | null>;
  /** Payments in (paymentTimestamp, id) order. */
  listPayments(selector: PaymentSelector): Promise<StoredX402Payment[]>;
  /** `DUPLICATE` when (leaseId, hourBucket) exists, `REFERENCE_NOT_FOUND` on a missing lease. */
  insertBatch(batch: BatchInput): Promise<StoredX402Batch>;
  /** A lease's batches in hourBucket order. */
  listBatches(leaseId: string): Promise<StoredX402Batch[]>;
  findBatch(leaseId: string, hourBucket: string): Promise<StoredX402Batch | null>;
  /** findLease and findBatch in one read (one statement on SQL); null when no lease. */
  findLeaseWithBatch(leaseId: string, hourBucket: string): Promise<LeaseWithBatch | null>;
  /** Applies a settlement update checked against the batch by `clock`; null when no batch. */
  updateBatch(id: string, updates: BatchUpdate, clock: SettleClock): Promise<StoredX402Batch | null>;

  /** Total and count of the lease's batch for one hour (zero without one). */
  hourTotals(leaseId: string, hourBucket: string): Promise<{ totalAmountMinorUnits: bigint; paymentCount: number }>;
  /** Revenue per UTC day, newest first; the key is the last day (`YYYY-MM-DD`) returned. */
  dailyRevenue(leaseId: string, range: TimeRange, page: PageRequest<string>): Promise<Slice<DailyRevenue>>;
  assetRevenue(assetId: string, range: TimeRange): Promise<AssetRevenue>;
  paymentsPage(leaseId: string, page: PageRequest<TimeIdKey>): Promise<Slice<StoredX402Payment>>;
  /** The key is the last hour bucket returned (canonical form). */
  batchesPage(leaseId: string, page: PageRequest<string>): Promise<Slice<StoredX402Batch>>;
  reconcile(options: ReconcileOptions): Promise<ReconcileReport>;

  exportRecords<T extends TableName>(table: T, pageSize: number): AsyncIterable<TableRecords[T][]>;
  /** Records already validated by `validateStoredRecord`. */
  importRecords<T extends TableName>(table: T, records: readonly TableRecords[T][]): Promise<number>;
  summarizeTable(table: TableName): Promise<TableSummary>;
  /** See RecordTransfer.digestTable; absent when the backend has no faster way than streaming. */
  digestTable?(table: TableName): Promise<TableDigestValue>;
  /**
   * See RecordTransfer.loadEmpty; records already validated, record lines only their chunk's shape
   * (the backend reads them with recordsFromLines, which validates each); absent when the backend
   * has no bulk path.
   */
  loadEmpty?(chunks: AsyncIterable<TableChunk | TableLinesChunk>, accept: (digests: Record<TableName, TableDigestValue>) => Promise<boolean>): Promise<BulkLoadResult | null>;
  /** Deletes everything (the store has checked it is allowed). */
  clear(): Promise<void>;
  /** Row counts without a scan: exact up to `exactUpTo` rows (or always, in memory), else estimated. */
  estimateTableSizes(exactUpTo: number): Promise<Record<TableName, TableSize>>;

  /** Events, block hashes and cursor in one atomic step; `CONFLICT` when the cursor is elsewhere. */
  ingestChainRange(range: ChainRangeInput): Promise<ChainRangeResult>;
  chainCursor(chainId: number): Promise<ChainCursor | null>;
  chainBlocks(chainId: number, atOrBelow: number, limit: number): Promise<ChainBlockRef[]>;
  /** Marks removed, undoes applied effects, drops hashes, moves the cursor and, when `deep`, records the deep reorg, atomically. */
  rewindChain(chainId: number, toBlock: number, toBlockHash: string, deep: boolean): Promise<ChainRewindResult>;
  unacknowledgedDeepReorgs(chainId: number): Promise<StoredDeepReorg[]>;
  /** Marks those of `ids` still unacknowledged (the store has checked the arguments). */
  acknowledgeDeepReorgs(chainId: number, ids: readonly number[], by: string, note: string): Promise<StoredDeepReorg[]>;
  pendingChainEvents(chainId: number, throughBlock: number, limit: number): Promise<StoredEvent[]>;
  countPendingChainEvents(chainId: number): Promise<number>;
  /** Intents (resolved with core/chain-effects.ts), undo images and processed marks, atomically. */
  applyChainEvents(chainId: number, applications: ChainApplication[], processedBlock: number | undefined): Promise<ChainApplyResult>;
  /** Attempt count after this failure; null when no event has that id. */
  recordChainEventFailure(eventId: string, error: string): Promise<number | null>;
  tryLeadership(name: string): Promise<Leadership | null>;
}
