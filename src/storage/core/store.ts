/**
 * The one core every caller's {@link Database} is: `MockDatabase`, `PostgresDatabase` and
 * `PgliteDatabase` are this class over their backend. It owns, once for all backends, the
 * lifecycle (NOT_CONNECTED outside connect/disconnect), input validation, page and cursor
 * resolution, the production guard on `clear()` and the clock; the backend receives only checked,
 * normalized input (see {@link StorageBackend}).
 */
import type {
  AssetUpdate,
  BackendCapabilities,
  BatchUpdate,
  ClearOptions,
  Database,
  LeaseFilter,
  LeaseStatus,
  LeaseUpdate,
  NewAsset,
  NewEvent,
  NewLease,
  NewX402Batch,
  NewX402Payment,
  PoolStats,
  RecordPaymentParams,
  RecordedPayment,
  SchemaManager,
  StoredAsset,
  StoredEvent,
  LeaseWithBatch,
  StoredLease,
  StoredX402Batch,
  StoredX402Payment,
} from '../contract/database.js';
import { StorageError, notConnectedError, validationError } from '../contract/errors.js';
import type { AssetRevenue, DailyRevenue, HourTotals, Page, PageOptions, ReconcileOptions, ReconcileReport, TimeRange } from '../contract/ledger-queries.js';
import type {
  ChainApplication,
  ChainApplyResult,
  ChainBlockRef,
  ChainCursor,
  ChainRangeInput,
  ChainRangeResult,
  ChainRewindOptions,
  ChainRewindResult,
  Leadership,
  StoredDeepReorg,
} from '../contract/chain.js';
import { isLinesChunk, type BulkLoadResult, type TableChunk, type TableDigestValue, type TableLinesChunk, type TableName, type TableRecords, type TableSize, type TableSummary } from '../contract/transfer.js';
import type { StorageBackend } from './backend.js';
import { bucketPage, dayPage, timeIdPage, toPage } from './cursor.js';
import { assertClearAllowed } from './invariants.js';
import { checkDate, hourBucketOf } from './time.js';
import {
  validateAddress,
  validateAssetUpdate,
  validateBatchUpdate,
  validateBucket,
  validateHash,
  validateId,
  validateKey,
  validateLeaseFilter,
  validateLeaseUpdate,
  validateLimit,
  validateLogIndex,
  validateNewAsset,
  validateNewBatch,
  validateNewEvent,
  validateNewLease,
  validateNewPayment,
  validateRange,
  validateReconcileOptions,
  validateRecordPayment,
  validateStatus,
} from './validate.js';
import { validateApplications, validateBlockNumber, validateChainId, validateChainRange, validateDeepReorgAcknowledgement } from './validate-chain.js';
import { validateStoredRecord, validateTable } from './validate-records.js';
import { validateLinesChunk } from './record-lines.js';
import { validateStoredRecordFast } from './validate-payment-fast.js';

/** Options every store takes. */
export interface StoreOptions {
  /** The clock for "now" (default hour totals, the settlement-after-the-hour rule); default the system clock. */
  clock?: () => Date;
  /**
   * How long after its hour a batch still takes payments before it may be settled (default
   * {@link DEFAULT_SETTLEMENT_GRACE_MS}); longer than a facilitator settle with its retries.
   */
  settlementGraceMs?: number;
}

/** Default grace after an hour before its batch may be settled: 5 minutes. */
export const DEFAULT_SETTLEMENT_GRACE_MS = 5 * 60_000;

const byCreation = (r: { createdAt: Date; id: string }) => [r.createdAt.toISOString(), r.id];

/** The storage contract over a {@link StorageBackend}. */
export class Store implements Database {
  readonly capabilities: BackendCapabilities;
  readonly schema: SchemaManager;
  private connected = false;
  private closed = false;
  private readonly clock: () => Date;
  private readonly settlementGraceMs: number;

  constructor(
    private readonly backend: StorageBackend,
    options: StoreOptions = {},
  ) {
    this.capabilities = backend.capabilities;
    // Migrations run on the open connection, so the schema manager obeys the lifecycle too.
    this.schema = { status: async () => this.live.schema.status(), up: async () => this.live.schema.up() };
    if (backend.schema.ensurePartitions) this.schema.ensurePartitions = async (daysAhead) => (await this.live.schema.ensurePartitions?.(daysAhead)) ?? [];
    if (backend.schema.moveClaimsToCold) this.schema.moveClaimsToCold = async (keepDays) => (await this.live.schema.moveClaimsToCold?.(keepDays)) ?? 0;
    if (backend.schema.compactPartitions) this.schema.compactPartitions = async (keepDays) => (await this.live.schema.compactPartitions?.(keepDays)) ?? [];
    if (backend.schema.keepReconcileResults) this.schema.keepReconcileResults = async () => (await this.live.schema.keepReconcileResults?.()) ?? [];
    this.clock = options.clock ?? (() => new Date());
    this.settlementGraceMs = options.settlementGraceMs ?? DEFAULT_SETTLEMENT_GRACE_MS;
    if (!Number.isSafeInteger(this.settlementGraceMs) || this.settlementGraceMs < 0) {
      throw validationError('settlementGraceMs', 'must be a non-negative integer number of milliseconds');
    }
  }

  /**
   * The backend, once connected. Every contract method reaches the backend through this getter,
   * which JavaScript evaluates before the call's arguments: a call on a closed store is
   * NOT_CONNECTED before its input is looked at, on every backend alike.
   */
  private get live(): StorageBackend {
    if (!this.connected) throw notConnectedError();
    return this.backend;
  }

  async connect(): Promise<void> {
    if (this.connected) return;
    if (this.closed && !this.capabilities.reconnectable) {
      throw new StorageError('NOT_CONNECTED', 'this database was disconnected and its pool closed; create a new instance to connect again');
    }
    await this.backend.open();
    this.connected = true;
  }

  /** Idempotent. SQL backends first wait for gathered payments to commit. */
  async disconnect(): Promise<void> {
    if (!this.connected) return;
    this.connected = false;
    this.closed = true;
    await this.backend.close();
  }

  isConnected(): boolean {
    return this.connected;
  }

  poolStats(): PoolStats | null {
    return this.backend.poolStats();
  }

  // Assets

  async saveAsset(asset: NewAsset): Promise<StoredAsset> {
    return this.live.insertAsset(validateNewAsset(asset));
  }

  async getAsset(assetId: string): Promise<StoredAsset | null> {
    return this.live.findAsset(validateKey(assetId, 'assetId'));
  }

  async getAssetByTokenAddress(tokenAddress: string): Promise<StoredAsset | null> {
    return this.live.findAssetByToken(validateAddress(tokenAddress, 'tokenAddress'));
  }

  async getAllAssets(): Promise<StoredAsset[]> {
    return this.live.listAssets();
  }

  async getAssetsPage(page?: PageOptions): Promise<Page<StoredAsset>> {
    return toPage(await this.live.assetsPage(timeIdPage(page)), byCreation);
  }

  async updateAsset(assetId: string, updates: AssetUpdate): Promise<StoredAsset | null> {
    return this.live.updateAsset(validateKey(assetId, 'assetId'), validateAssetUpdate(updates));
  }

  // Leases

  async saveLease(lease: NewLease): Promise<StoredLease> {
    return this.live.insertLease(validateNewLease(lease));
  }

  async getLease(leaseId: string): Promise<StoredLease | null> {
    return this.live.findLease(validateKey(leaseId, 'leaseId'));
  }

  async getAllLeases(): Promise<StoredLease[]> {
    return this.live.listLeases({}, 'oldest-first');
  }

  async getLeasesByAsset(assetId: string): Promise<StoredLease[]> {
    return this.live.listLeases({ assetId: validateKey(assetId, 'assetId') }, 'oldest-first');
  }

  async getLeasesByStatus(status: LeaseStatus): Promise<StoredLease[]> {
    return this.live.listLeases({ status: validateStatus(status) }, 'oldest-first');
  }

  async getActiveLeasesForAsset(assetId: string): Promise<StoredLease[]> {
    return this.live.listLeases({ assetId: validateKey(assetId, 'assetId'), status: 'active' }, 'newest-first');
  }

  async getLeasesByLessor(address: string): Promise<StoredLease[]> {
    return this.live.listLeases({ lessor: validateAddress(address, 'lessor') }, 'newest-first');
  }

  async getLeasesByLessee(address: string): Promise<StoredLease[]> {
    return this.live.listLeases({ lessee: validateAddress(address, 'lessee') }, 'newest-first');
  }

  async getLeasesPage(filter: LeaseFilter, page?: PageOptions): Promise<Page<StoredLease>> {
    return toPage(await this.live.leasesPage(validateLeaseFilter(filter), timeIdPage(page)), byCreation);
  }

  async updateLease(leaseId: string, updates: LeaseUpdate): Promise<StoredLease | null> {
    return this.live.updateLease(validateKey(leaseId, 'leaseId'), validateLeaseUpdate(updates));
  }

  async transitionLeaseStatus(leaseId: string, from: LeaseStatus, to: LeaseStatus): Promise<StoredLease | null> {
    return this.live.transitionLeaseStatus(validateKey(leaseId, 'leaseId'), validateStatus(from, 'from'), validateStatus(to, 'to'));
  }

  // Events

  async saveEvent(event: NewEvent): Promise<StoredEvent> {
    return this.live.insertEvent(validateNewEvent(event));
  }

  async getEvent(transactionHash: string, logIndex: number): Promise<StoredEvent | null> {
    return this.live.findEvent(validateHash(transactionHash, 'transactionHash'), validateLogIndex(logIndex, 'logIndex'));
  }

  async getUnprocessedEvents(limit = 100): Promise<StoredEvent[]> {
    return this.live.unprocessedEvents(validateLimit(limit));
  }

  async countUnprocessedEvents(): Promise<number> {
    return this.live.countUnprocessedEvents();
  }

  async markEventProcessed(id: string): Promise<void> {
    const backend = this.live;
    const key = validateId(id);
    if (!(await backend.markEventProcessed(key))) {
      throw new StorageError('NOT_FOUND', `event ${key} does not exist`, { details: { id: key } });
    }
  }

  // Payments and batches

  async saveX402Payment(payment: NewX402Payment): Promise<StoredX402Payment> {
    return (await this.live.recordPayment(validateNewPayment(payment))).payment;
  }

  async recordPayment(params: RecordPaymentParams): Promise<StoredX402Payment> {
    return (await this.recordPaymentWithOutcome(params)).payment;
  }

  async recordPaymentWithOutcome(params: RecordPaymentParams): Promise<RecordedPayment> {
    return this.live.recordPayment(validateRecordPayment(params));
  }

  async getPaymentByFacilitatorTxHash(facilitatorTxHash: string): Promise<StoredX402Payment | null> {
    return this.live.findPaymentByHash(validateHash(facilitatorTxHash, 'facilitatorTxHash'));
  }

  async getX402PaymentsByLease(leaseId: string): Promise<StoredX402Payment[]> {
    return this.live.listPayments({ leaseId: validateKey(leaseId, 'leaseId') });
  }

  async getX402PaymentsByBucket(bucketSlot: string): Promise<StoredX402Payment[]> {
    return this.live.listPayments({ bucketSlot: validateBucket(bucketSlot, 'bucketSlot') });
  }

  async saveX402Batch(batch: NewX402Batch): Promise<StoredX402Batch> {
    return this.live.insertBatch(validateNewBatch(batch));
  }

  async getX402BatchesByLease(leaseId: string): Promise<StoredX402Batch[]> {
    return this.live.listBatches(validateKey(leaseId, 'leaseId'));
  }

  async getOpenBatchForLease(leaseId: string, bucket: string): Promise<StoredX402Batch | null> {
    const batch = await this.live.findBatch(validateKey(leaseId, 'leaseId'), validateBucket(bucket, 'bucket'));
    return batch && batch.settlementTxHash === undefined ? batch : null;
  }

  async getX402Batch(leaseId: string, hourBucket: string): Promise<StoredX402Batch | null> {
    return this.live.findBatch(validateKey(leaseId, 'leaseId'), validateBucket(hourBucket, 'hourBucket'));
  }

  async getLeaseWithBatch(leaseId: string, hourBucket: string): Promise<LeaseWithBatch | null> {
    return this.live.findLeaseWithBatch(validateKey(leaseId, 'leaseId'), validateBucket(hourBucket, 'hourBucket'));
  }

  async updateX402Batch(id: string, updates: BatchUpdate): Promise<StoredX402Batch | null> {
    return this.live.updateBatch(validateId(id), validateBatchUpdate(updates), { now: this.clock(), graceMs: this.settlementGraceMs });
  }

  // Ledger reads

  async getHourTotals(leaseId: string, at?: Date): Promise<HourTotals> {
    const backend = this.live;
    const key = validateKey(leaseId, 'leaseId');
    const bucket = hourBucketOf(at === undefined ? this.clock() : checkDate(at, 'at'));
    return { leaseId: key, bucket, ...(await backend.hourTotals(key, bucket)) };
  }

  async getDailyRevenue(leaseId: string, range: TimeRange, page?: PageOptions): Promise<Page<DailyRevenue>> {
    const backend = this.live;
    const key = validateKey(leaseId, 'leaseId');
    const slice = await backend.dailyRevenue(key, validateRange(range), dayPage(page));
    return toPage(slice, (d) => [d.day]);
  }

  async getAssetRevenue(assetId: string, range: TimeRange): Promise<AssetRevenue> {
    return this.live.assetRevenue(validateKey(assetId, 'assetId'), validateRange(range));
  }

  async getPaymentsPage(leaseId: string, page?: PageOptions): Promise<Page<StoredX402Payment>> {
    const slice = await this.live.paymentsPage(validateKey(leaseId, 'leaseId'), timeIdPage(page));
    return toPage(slice, (p) => [p.paymentTimestamp.toISOString(), p.id]);
  }

  async getBatchesPage(leaseId: string, page?: PageOptions): Promise<Page<StoredX402Batch>> {
    return toPage(await this.live.batchesPage(validateKey(leaseId, 'leaseId'), bucketPage(page)), (b) => [b.hourBucket]);
  }

  async reconcile(options?: ReconcileOptions): Promise<ReconcileReport> {
    return this.live.reconcile(validateReconcileOptions(options));
  }

  // Whole-table transfer

  async *exportRecords<T extends TableName>(table: T, pageSize = 1000): AsyncIterable<TableRecords[T][]> {
    yield* this.live.exportRecords(validateTable(table) as T, validateLimit(pageSize, 'pageSize'));
  }

  async importRecords<T extends TableName>(table: T, records: readonly TableRecords[T][]): Promise<number> {
    const backend = this.live;
    const name = validateTable(table) as T;
    // A caller outside TypeScript can pass anything; only an array has records to check.
    if (!Array.isArray(records)) throw validationError('records', 'must be an array of stored records');
    return backend.importRecords(name, records.map((r) => validateStoredRecord(name, r)));
  }

  async summarizeTable(table: TableName): Promise<TableSummary> {
    return this.live.summarizeTable(validateTable(table));
  }

  async digestTable(table: TableName): Promise<TableDigestValue | null> {
    const backend = this.live;
    const name = validateTable(table);
    return backend.digestTable ? backend.digestTable(name) : null;
  }

  async loadEmpty(chunks: AsyncIterable<TableChunk | TableLinesChunk>, accept: (digests: Record<TableName, TableDigestValue>) => Promise<boolean>): Promise<BulkLoadResult | null> {
    const backend = this.live;
    if (!backend.loadEmpty) return null;
    // Validated as they stream past, as importRecords validates a batch. Record lines are
    // validated record by record where the backend parses them (recordsFromLines).
    const validated = async function* (): AsyncIterable<TableChunk | TableLinesChunk> {
      for await (const chunk of chunks) {
        const table = validateTable(chunk.table);
        yield isLinesChunk(chunk) ? validateLinesChunk(table, chunk) : { table, records: chunk.records.map((r) => validateStoredRecordFast(table, r)) };
      }
    };
    return backend.loadEmpty(validated(), accept);
  }

  async clear(options?: ClearOptions): Promise<void> {
    const backend = this.live;
    assertClearAllowed(options);
    await backend.clear();
  }

  async estimateTableSizes(): Promise<Record<TableName, TableSize>> {
    return this.live.estimateTableSizes(EXACT_COUNT_UP_TO);
  }

  // Chain ingestion and processing

  async ingestChainRange(range: ChainRangeInput): Promise<ChainRangeResult> {
    const backend = this.live;
    return backend.ingestChainRange(validateChainRange(range));
  }

  async getChainCursor(chainId: number): Promise<ChainCursor | null> {
    return this.live.chainCursor(validateChainId(chainId));
  }

  async getChainBlocks(chainId: number, atOrBelow: number, limit: number): Promise<ChainBlockRef[]> {
    const backend = this.live;
    return backend.chainBlocks(validateChainId(chainId), validateBlockNumber(atOrBelow, 'atOrBelow'), validateLimit(limit));
  }

  async rewindChain(chainId: number, toBlock: number, toBlockHash: string, options: ChainRewindOptions = {}): Promise<ChainRewindResult> {
    const backend = this.live;
    const id = validateChainId(chainId);
    const to = validateBlockNumber(toBlock, 'toBlock');
    const hash = validateHash(toBlockHash, 'toBlockHash');
    const deep = (options as ChainRewindOptions | null | undefined)?.deep;
    if (deep !== undefined && typeof deep !== 'boolean') throw validationError('options.deep', 'must be a boolean');
    return backend.rewindChain(id, to, hash, deep === true);
  }

  async getUnacknowledgedDeepReorgs(chainId: number): Promise<StoredDeepReorg[]> {
    return this.live.unacknowledgedDeepReorgs(validateChainId(chainId));
  }

  async acknowledgeDeepReorgs(chainId: number, ids: readonly number[], by: string, note: string): Promise<StoredDeepReorg[]> {
    const backend = this.live;
    const checked = validateDeepReorgAcknowledgement({ chainId, ids, by, note });
    return backend.acknowledgeDeepReorgs(checked.chainId, [...new Set(checked.ids)], checked.by, checked.note);
  }

  async getPendingChainEvents(chainId: number, throughBlock: number, limit: number): Promise<StoredEvent[]> {
    const backend = this.live;
    return backend.pendingChainEvents(validateChainId(chainId), validateBlockNumber(throughBlock, 'throughBlock'), validateLimit(limit));
  }

  async countPendingChainEvents(chainId: number): Promise<number> {
    return this.live.countPendingChainEvents(validateChainId(chainId));
  }

  async applyChainEvents(chainId: number, applications: ChainApplication[], processedBlock?: number): Promise<ChainApplyResult> {
    const backend = this.live;
    const id = validateChainId(chainId);
    const checked = validateApplications(applications);
    const through = processedBlock === undefined ? undefined : validateBlockNumber(processedBlock, 'processedBlock');
    return backend.applyChainEvents(id, checked, through);
  }

  async recordChainEventFailure(eventId: string, error: string): Promise<number> {
    const backend = this.live;
    const key = validateId(eventId, 'eventId');
    if (typeof error !== 'string') throw validationError('error', 'must be a string');
    // Errors are for people reading status; a bounded, storable prefix is enough.
    const text = [...error.slice(0, 2000)].map((c) => (c === '\0' || /^[\uD800-\uDFFF]$/.test(c) ? '?' : c)).join('');
    const attempts = await backend.recordChainEventFailure(key, text);
    if (attempts === null) throw new StorageError('NOT_FOUND', `event ${key} does not exist`, { details: { id: key } });
    return attempts;
  }

  async tryLeadership(name: string): Promise<Leadership | null> {
    const backend = this.live;
    if (typeof name !== 'string' || name.length < 1 || name.length > 100) throw validationError('name', 'must be 1-100 characters');
    return backend.tryLeadership(name);
  }
}

/** Tables up to this many rows are counted exactly by {@link Store.estimateTableSizes} (a bounded read). */
const EXACT_COUNT_UP_TO = 1000;
