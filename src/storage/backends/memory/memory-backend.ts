/**
 * The in-memory backend under MockDatabase: the whole contract over indexed maps. The same keys,
 * references and orders as the SQL backends; every keyed read goes through an index; every read
 * returns a copy. Data lives as long as the instance, across disconnect and connect.
 */
import { randomUUID } from 'node:crypto';
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
  RecordedPayment,
  SchemaManager,
  StoredAsset,
  StoredEvent,
  LeaseWithBatch,
  StoredLease,
  StoredX402Batch,
  StoredX402Payment,
} from '../../contract/database.js';
import type {
  ChainApplication,
  ChainApplyResult,
  ChainBlockRef,
  ChainCursor,
  ChainRangeInput,
  ChainRangeResult,
  ChainRewindResult,
  StoredDeepReorg,
  Leadership,
} from '../../contract/chain.js';
import { StorageError } from '../../contract/errors.js';
import type { AssetRevenue, DailyRevenue, ReconcileReport, TimeRange } from '../../contract/ledger-queries.js';
import type { TableName, TableRecords, TableSize, TableSummary } from '../../contract/transfer.js';
import type { ListOrder, PageRequest, PaymentSelector, Slice, StorageBackend, TimeIdKey } from '../../core/backend.js';
import { assertStatusIs, type SettleClock } from '../../core/invariants.js';
import { cloneJson } from '../../core/json-document.js';
import type { BatchInput, PaymentInput } from '../../core/validate.js';
import { LocalLeadership } from '../../core/local-leadership.js';
import { MemoryChain } from './chain.js';
import { MemoryLedger, batchRecord, paymentRecord } from './ledger.js';
import * as ledgerReads from './ledger-reads.js';
import { pageByCreation } from './pages.js';
import { exportMemoryRecords, importMemoryRecords, summarizeMemoryTable } from './records.js';
import type { SortedList } from './sorted-list.js';
import { MemoryTables, copyAsset, copyEvent, copyLease, eventKey } from './tables.js';

const NO_SCHEMA: SchemaManager = {
  status: async () => [],
  up: async () => ({ applied: [], results: [] }),
};

/** The in-memory {@link StorageBackend}. */
export class MemoryBackend implements StorageBackend {
  readonly capabilities: BackendCapabilities = { kind: 'memory', durable: false, sql: false, reconnectable: true };
  readonly schema = NO_SCHEMA;
  /** Assets, leases and events with their indexes. */
  private readonly tables = new MemoryTables();
  /** Payments and batches with their indexes. */
  private readonly ledger = new MemoryLedger();
  /** Cursors, block hashes, links and effects of chain ingestion. */
  private readonly chain = new MemoryChain(this.tables, this.ledger, this);
  private readonly leaders = new LocalLeadership();

  async open(): Promise<void> {}

  async close(): Promise<void> {}

  poolStats(): null {
    return null;
  }

  // Assets

  async insertAsset(input: NewAsset): Promise<StoredAsset> {
    if (this.tables.assets.has(input.assetId)) {
      throw new StorageError('DUPLICATE', `asset ${input.assetId} already exists`, { details: { assetId: input.assetId } });
    }
    const now = new Date();
    const stored: StoredAsset = { ...input, metadata: cloneJson(input.metadata), id: randomUUID(), createdAt: now, updatedAt: now };
    this.tables.insertAsset(stored);
    return copyAsset(stored);
  }

  async findAsset(assetId: string): Promise<StoredAsset | null> {
    const stored = this.tables.assets.get(assetId);
    return stored ? copyAsset(stored) : null;
  }

  async findAssetByToken(tokenAddress: string): Promise<StoredAsset | null> {
    const first = this.tables.assetsByToken.get(tokenAddress.toLowerCase())[0];
    return first ? copyAsset(first) : null;
  }

  async listAssets(): Promise<StoredAsset[]> {
    return this.tables.assetList.values().map(copyAsset);
  }

  async assetsPage(page: PageRequest<TimeIdKey>): Promise<Slice<StoredAsset>> {
    return pageByCreation(this.tables.assetList, page, () => true, copyAsset);
  }

  async updateAsset(assetId: string, changes: AssetUpdate): Promise<StoredAsset | null> {
    const stored = this.tables.assets.get(assetId);
    if (!stored) return null;
    const next: StoredAsset = { ...stored, ...changes, updatedAt: nextUpdatedAt(stored.updatedAt) };
    if (changes.metadata) next.metadata = cloneJson(changes.metadata);
    this.tables.replaceAsset(stored, next);
    return copyAsset(next);
  }

  // Leases

  async insertLease(input: NewLease): Promise<StoredLease> {
    if (this.tables.leases.has(input.leaseId)) {
      throw new StorageError('DUPLICATE', `lease ${input.leaseId} already exists`, { details: { leaseId: input.leaseId } });
    }
    this.requireAsset(input.assetId);
    const now = new Date();
    const stored: StoredLease = { ...input, agreement: cloneJson(input.agreement), id: randomUUID(), createdAt: now, updatedAt: now };
    this.tables.insertLease(stored);
    return copyLease(stored);
  }

  async findLease(leaseId: string): Promise<StoredLease | null> {
    const stored = this.tables.leases.get(leaseId);
    return stored ? copyLease(stored) : null;
  }

  async listLeases(filter: LeaseFilter, order: ListOrder): Promise<StoredLease[]> {
    const { list, keep } = this.leaseSelection(filter);
    const found = list ? list.values().filter(keep) : [];
    if (order === 'newest-first') found.reverse();
    return found.map(copyLease);
  }

  async leasesPage(filter: LeaseFilter, page: PageRequest<TimeIdKey>): Promise<Slice<StoredLease>> {
    const { list, keep } = this.leaseSelection(filter);
    return pageByCreation(list, page, keep, copyLease);
  }

  /** The most selective index the filter names, and the check of the other fields on the way. */
  private leaseSelection(f: LeaseFilter): { list: SortedList<StoredLease> | undefined; keep: (l: StoredLease) => boolean } {
    const lessor = f.lessor?.toLowerCase();
    const lessee = f.lessee?.toLowerCase();
    const list =
      f.assetId !== undefined
        ? this.tables.leasesByAsset.list(f.assetId)
        : lessor !== undefined
          ? this.tables.leasesByLessor.list(lessor)
          : lessee !== undefined
            ? this.tables.leasesByLessee.list(lessee)
            : f.status !== undefined
              ? this.tables.leasesByStatus.list(f.status)
              : this.tables.leaseList;
    const keep = (l: StoredLease) =>
      (f.status === undefined || l.status === f.status) &&
      (f.assetId === undefined || l.assetId === f.assetId) &&
      (lessor === undefined || l.lessor.toLowerCase() === lessor) &&
      (lessee === undefined || l.lessee.toLowerCase() === lessee);
    return { list, keep };
  }

  async updateLease(leaseId: string, changes: LeaseUpdate): Promise<StoredLease | null> {
    const stored = this.tables.leases.get(leaseId);
    if (!stored) return null;
    if (changes.assetId !== undefined) this.requireAsset(changes.assetId);
    const next: StoredLease = { ...stored, ...changes, updatedAt: nextUpdatedAt(stored.updatedAt) };
    if (changes.agreement) next.agreement = cloneJson(changes.agreement);
    this.tables.replaceLease(stored, next);
    return copyLease(next);
  }

  async transitionLeaseStatus(leaseId: string, from: LeaseStatus, to: LeaseStatus): Promise<StoredLease | null> {
    const stored = this.tables.leases.get(leaseId);
    if (!stored) return null;
    assertStatusIs(stored, from);
    const updated: StoredLease = { ...stored, status: to, updatedAt: nextUpdatedAt(stored.updatedAt) };
    this.tables.replaceLease(stored, updated);
    return copyLease(updated);
  }

  private requireAsset(assetId: string): void {
    if (!this.tables.assets.has(assetId)) {
      throw new StorageError('REFERENCE_NOT_FOUND', `asset ${assetId} does not exist`, { details: { assetId } });
    }
  }

  // Events

  async insertEvent(input: NewEvent & { processed: boolean }): Promise<StoredEvent> {
    const existing = this.tables.events.get(eventKey(input.transactionHash, input.logIndex));
    if (existing) return copyEvent(existing);
    const stored: StoredEvent = { ...input, args: cloneJson(input.args), id: randomUUID(), createdAt: new Date() };
    this.tables.insertEvent(stored);
    return copyEvent(stored);
  }

  async findEvent(transactionHash: string, logIndex: number): Promise<StoredEvent | null> {
    const stored = this.tables.events.get(eventKey(transactionHash, logIndex));
    return stored ? copyEvent(stored) : null;
  }

  async unprocessedEvents(limit: number): Promise<StoredEvent[]> {
    return this.tables.unprocessedEvents.values().slice(0, limit).map(copyEvent);
  }

  async countUnprocessedEvents(): Promise<number> {
    return this.tables.unprocessedEvents.size;
  }

  async markEventProcessed(id: string): Promise<boolean> {
    return this.tables.markEventProcessed(id);
  }

  // Payments and batches

  async recordPayment(input: PaymentInput): Promise<RecordedPayment> {
    return this.ledger.record(input, this.tables.leases.get(input.leaseId));
  }

  async findPaymentByHash(facilitatorTxHash: string): Promise<StoredX402Payment | null> {
    const row = this.ledger.paymentsByHash.get(facilitatorTxHash);
    return row ? paymentRecord(row) : null;
  }

  async listPayments(selector: PaymentSelector): Promise<StoredX402Payment[]> {
    const rows = 'leaseId' in selector ? this.ledger.paymentsByLease.get(selector.leaseId) : this.ledger.paymentsByBucket.get(selector.bucketSlot);
    return rows.map(paymentRecord);
  }

  async insertBatch(input: BatchInput): Promise<StoredX402Batch> {
    return this.ledger.createBatch(input, this.tables.leases.has(input.leaseId));
  }

  async listBatches(leaseId: string): Promise<StoredX402Batch[]> {
    return this.ledger.batchesByLease.get(leaseId).map(batchRecord);
  }

  async findBatch(leaseId: string, hourBucket: string): Promise<StoredX402Batch | null> {
    const row = this.ledger.batchFor(leaseId, hourBucket);
    return row ? batchRecord(row) : null;
  }

  async findLeaseWithBatch(leaseId: string, hourBucket: string): Promise<LeaseWithBatch | null> {
    const lease = await this.findLease(leaseId);
    return lease === null ? null : { lease, batch: await this.findBatch(leaseId, hourBucket) };
  }

  async updateBatch(id: string, updates: BatchUpdate, clock: SettleClock): Promise<StoredX402Batch | null> {
    return this.ledger.updateBatch(id, updates, clock);
  }

  // Ledger reads

  async hourTotals(leaseId: string, hourBucket: string): Promise<{ totalAmountMinorUnits: bigint; paymentCount: number }> {
    const batch = this.ledger.batchFor(leaseId, hourBucket);
    return { totalAmountMinorUnits: batch?.total ?? 0n, paymentCount: batch?.count ?? 0 };
  }

  async dailyRevenue(leaseId: string, range: TimeRange, page: PageRequest<string>): Promise<Slice<DailyRevenue>> {
    return ledgerReads.dailyRevenue(this.ledger, leaseId, range, page);
  }

  async assetRevenue(assetId: string, range: TimeRange): Promise<AssetRevenue> {
    const leaseIds = this.tables.leasesByAsset.get(assetId).map((l) => l.leaseId);
    return ledgerReads.assetRevenue(this.ledger, assetId, leaseIds, range);
  }

  async paymentsPage(leaseId: string, page: PageRequest<TimeIdKey>): Promise<Slice<StoredX402Payment>> {
    return ledgerReads.paymentsPage(this.ledger, leaseId, page);
  }

  async batchesPage(leaseId: string, page: PageRequest<string>): Promise<Slice<StoredX402Batch>> {
    return ledgerReads.batchesPage(this.ledger, leaseId, page);
  }

  async reconcile(): Promise<ReconcileReport> {
    return ledgerReads.reconcile(this.ledger);
  }

  // Whole-table transfer

  async *exportRecords<T extends TableName>(table: T, pageSize: number): AsyncIterable<TableRecords[T][]> {
    yield* exportMemoryRecords(this.tables, this.ledger, table, pageSize);
  }

  async importRecords<T extends TableName>(table: T, records: readonly TableRecords[T][]): Promise<number> {
    return importMemoryRecords(this.tables, this.ledger, table, records);
  }

  async summarizeTable(table: TableName): Promise<TableSummary> {
    return summarizeMemoryTable(this.tables, this.ledger, table);
  }

  async clear(): Promise<void> {
    this.tables.clear();
    this.ledger.clear();
    this.chain.clear();
  }

  // Chain ingestion and processing (memory/chain.ts)

  ingestChainRange(range: ChainRangeInput): Promise<ChainRangeResult> {
    return this.chain.ingestRange(range);
  }

  chainCursor(chainId: number): Promise<ChainCursor | null> {
    return this.chain.cursor(chainId);
  }

  chainBlocks(chainId: number, atOrBelow: number, limit: number): Promise<ChainBlockRef[]> {
    return this.chain.blockRefs(chainId, atOrBelow, limit);
  }

  rewindChain(chainId: number, toBlock: number, toBlockHash: string, deep: boolean): Promise<ChainRewindResult> {
    return this.chain.rewind(chainId, toBlock, toBlockHash, deep);
  }

  unacknowledgedDeepReorgs(chainId: number): Promise<StoredDeepReorg[]> {
    return this.chain.unacknowledgedDeepReorgs(chainId);
  }

  acknowledgeDeepReorgs(chainId: number, ids: readonly number[], by: string, note: string): Promise<StoredDeepReorg[]> {
    return this.chain.acknowledgeDeepReorgs(chainId, ids, by, note);
  }

  pendingChainEvents(chainId: number, throughBlock: number, limit: number): Promise<StoredEvent[]> {
    return this.chain.pending(chainId, throughBlock, limit);
  }

  countPendingChainEvents(chainId: number): Promise<number> {
    return this.chain.countPending(chainId);
  }

  applyChainEvents(chainId: number, applications: ChainApplication[], processedBlock: number | undefined): Promise<ChainApplyResult> {
    return this.chain.apply(chainId, applications, processedBlock);
  }

  recordChainEventFailure(eventId: string, error: string): Promise<number | null> {
    return this.chain.recordFailure(eventId, error);
  }

  /** The store lives in this process, so leadership does too. */
  async tryLeadership(name: string): Promise<Leadership | null> {
    return this.leaders.tryAcquire(name);
  }

  /** Exact: the sizes of the primary maps. */
  async estimateTableSizes(): Promise<Record<TableName, TableSize>> {
    const exact = (count: number): TableSize => ({ count, exact: true });
    return {
      assets: exact(this.tables.assets.size),
      leases: exact(this.tables.leases.size),
      events: exact(this.tables.events.size),
      x402_payments: exact(this.ledger.paymentsByHash.size),
      x402_batches: exact(this.ledger.batchesById.size),
    };
  }
}

/** The next `updatedAt`: now, but always at least 1 ms after the previous one. */
function nextUpdatedAt(previous: Date): Date {
  return new Date(Math.max(Date.now(), previous.getTime() + 1));
}
