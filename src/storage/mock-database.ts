/**
 * MockDatabase: the whole storage contract in memory, for development and tests. It enforces the
 * same keys, references, validation and orders as the SQL backends; every keyed read goes
 * through an index, and every read returns a copy.
 */
import { randomUUID } from 'node:crypto';
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
  RecordPaymentParams,
  StoredAsset,
  StoredEvent,
  StoredLease,
  StoredX402Batch,
  StoredX402Payment,
} from './database.js';
import { StorageError, notConnectedError } from './errors.js';
import { cloneJson } from './json-document.js';
import type { AssetRevenue, DailyRevenue, HourTotals, Page, PageOptions, ReconcileReport, TimeRange } from './ledger-queries.js';
import { resolvePage } from './cursor.js';
import { assertClearAllowed, assertStatusIs } from './payment-rules.js';
import { pageByCreation } from './memory/memory-pages.js';
import type { TableName, TableRecords, TableSummary } from './records.js';
import { checkDate } from './time.js';
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
  validateRecordPayment,
  validateStatus,
} from './validate.js';
import { validateTable } from './validate-records.js';
import { MemoryLedger, batchRecord, paymentRecord } from './memory/memory-ledger.js';
import * as ledgerReads from './memory/memory-ledger-queries.js';
import { exportMemoryRecords, importMemoryRecords, summarizeMemoryTable } from './memory/memory-records.js';
import { MemoryTables, copyAsset, copyEvent, copyLease, eventKey } from './memory/memory-tables.js';

/** The in-memory backend. Data lives as long as the instance; `disconnect()` keeps it. */
export class MockDatabase implements Database {
  readonly capabilities: BackendCapabilities = { kind: 'memory', durable: false, sql: false };
  private connected = false;
  /** Assets, leases and events with their indexes. */
  protected readonly tables = new MemoryTables();
  /** Payments and batches with their indexes. */
  protected readonly ledger = new MemoryLedger();

  async connect(): Promise<void> {
    this.connected = true;
  }

  async disconnect(): Promise<void> {
    this.connected = false;
  }

  isConnected(): boolean {
    return this.connected;
  }

  poolStats(): null {
    return null;
  }

  private ready(): void {
    if (!this.connected) throw notConnectedError();
  }

  // Assets

  async saveAsset(asset: NewAsset): Promise<StoredAsset> {
    this.ready();
    const input = validateNewAsset(asset);
    if (this.tables.assets.has(input.assetId)) {
      throw new StorageError('DUPLICATE', `asset ${input.assetId} already exists`, { details: { assetId: input.assetId } });
    }
    const now = new Date();
    const stored: StoredAsset = { ...input, metadata: cloneJson(input.metadata), id: randomUUID(), createdAt: now, updatedAt: now };
    this.tables.insertAsset(stored);
    return copyAsset(stored);
  }

  async getAsset(assetId: string): Promise<StoredAsset | null> {
    this.ready();
    const stored = this.tables.assets.get(validateKey(assetId, 'assetId'));
    return stored ? copyAsset(stored) : null;
  }

  async getAssetByTokenAddress(tokenAddress: string): Promise<StoredAsset | null> {
    this.ready();
    const first = this.tables.assetsByToken.get(validateAddress(tokenAddress, 'tokenAddress').toLowerCase())[0];
    return first ? copyAsset(first) : null;
  }

  async getAllAssets(): Promise<StoredAsset[]> {
    this.ready();
    return this.tables.assetList.values().map(copyAsset);
  }

  async getAssetsPage(page?: PageOptions): Promise<Page<StoredAsset>> {
    this.ready();
    return pageByCreation(this.tables.assetList, resolvePage(page, 2), () => true, copyAsset);
  }

  async updateAsset(assetId: string, updates: AssetUpdate): Promise<StoredAsset | null> {
    this.ready();
    const key = validateKey(assetId, 'assetId');
    const changes = validateAssetUpdate(updates);
    const stored = this.tables.assets.get(key);
    if (!stored) return null;
    const next: StoredAsset = { ...stored, ...changes, updatedAt: nextUpdatedAt(stored.updatedAt) };
    if (changes.metadata) next.metadata = cloneJson(changes.metadata);
    this.tables.replaceAsset(stored, next);
    return copyAsset(next);
  }

  // Leases

  async saveLease(lease: NewLease): Promise<StoredLease> {
    this.ready();
    const input = validateNewLease(lease);
    if (this.tables.leases.has(input.leaseId)) {
      throw new StorageError('DUPLICATE', `lease ${input.leaseId} already exists`, { details: { leaseId: input.leaseId } });
    }
    this.requireAsset(input.assetId);
    const now = new Date();
    const stored: StoredLease = { ...input, agreement: cloneJson(input.agreement), id: randomUUID(), createdAt: now, updatedAt: now };
    this.tables.insertLease(stored);
    return copyLease(stored);
  }

  async getLease(leaseId: string): Promise<StoredLease | null> {
    this.ready();
    const stored = this.tables.leases.get(validateKey(leaseId, 'leaseId'));
    return stored ? copyLease(stored) : null;
  }

  async getAllLeases(): Promise<StoredLease[]> {
    this.ready();
    return this.tables.leaseList.values().map(copyLease);
  }

  async getLeasesByAsset(assetId: string): Promise<StoredLease[]> {
    this.ready();
    return this.tables.leasesByAsset.get(validateKey(assetId, 'assetId')).map(copyLease);
  }

  async getLeasesByStatus(status: LeaseStatus): Promise<StoredLease[]> {
    this.ready();
    return this.tables.leasesByStatus.get(validateStatus(status)).map(copyLease);
  }

  async getActiveLeasesForAsset(assetId: string): Promise<StoredLease[]> {
    this.ready();
    const leases = this.tables.leasesByAsset.get(validateKey(assetId, 'assetId'));
    return newestFirst(leases.filter((l) => l.status === 'active'));
  }

  async getLeasesByLessor(address: string): Promise<StoredLease[]> {
    this.ready();
    return newestFirst(this.tables.leasesByLessor.get(validateAddress(address, 'lessor').toLowerCase()));
  }

  async getLeasesByLessee(address: string): Promise<StoredLease[]> {
    this.ready();
    return newestFirst(this.tables.leasesByLessee.get(validateAddress(address, 'lessee').toLowerCase()));
  }

  async getLeasesPage(filter: LeaseFilter, page?: PageOptions): Promise<Page<StoredLease>> {
    this.ready();
    const f = validateLeaseFilter(filter);
    const resolved = resolvePage(page, 2);
    const lessor = f.lessor?.toLowerCase();
    const lessee = f.lessee?.toLowerCase();
    // Walk the most selective index the filter names; check the other fields on the way.
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
    return pageByCreation(list, resolved, keep, copyLease);
  }

  async transitionLeaseStatus(leaseId: string, from: LeaseStatus, to: LeaseStatus): Promise<StoredLease | null> {
    this.ready();
    const key = validateKey(leaseId, 'leaseId');
    const expected = validateStatus(from, 'from');
    const next = validateStatus(to, 'to');
    const stored = this.tables.leases.get(key);
    if (!stored) return null;
    assertStatusIs(stored, expected);
    const updated: StoredLease = { ...stored, status: next, updatedAt: nextUpdatedAt(stored.updatedAt) };
    this.tables.replaceLease(stored, updated);
    return copyLease(updated);
  }

  async updateLease(leaseId: string, updates: LeaseUpdate): Promise<StoredLease | null> {
    this.ready();
    const key = validateKey(leaseId, 'leaseId');
    const changes = validateLeaseUpdate(updates);
    const stored = this.tables.leases.get(key);
    if (!stored) return null;
    if (changes.assetId !== undefined) this.requireAsset(changes.assetId);
    const next: StoredLease = { ...stored, ...changes, updatedAt: nextUpdatedAt(stored.updatedAt) };
    if (changes.agreement) next.agreement = cloneJson(changes.agreement);
    this.tables.replaceLease(stored, next);
    return copyLease(next);
  }

  private requireAsset(assetId: string): void {
    if (!this.tables.assets.has(assetId)) {
      throw new StorageError('REFERENCE_NOT_FOUND', `asset ${assetId} does not exist`, { details: { assetId } });
    }
  }

  // Events

  async saveEvent(event: NewEvent): Promise<StoredEvent> {
    this.ready();
    const input = validateNewEvent(event);
    const existing = this.tables.events.get(eventKey(input.transactionHash, input.logIndex));
    if (existing) return copyEvent(existing);
    const stored: StoredEvent = { ...input, args: cloneJson(input.args), id: randomUUID(), createdAt: new Date() };
    this.tables.insertEvent(stored);
    return copyEvent(stored);
  }

  async getEvent(transactionHash: string, logIndex: number): Promise<StoredEvent | null> {
    this.ready();
    const key = eventKey(validateHash(transactionHash, 'transactionHash'), validateLogIndex(logIndex, 'logIndex'));
    const stored = this.tables.events.get(key);
    return stored ? copyEvent(stored) : null;
  }

  async getUnprocessedEvents(limit = 100): Promise<StoredEvent[]> {
    this.ready();
    const max = validateLimit(limit);
    return this.tables.unprocessedEvents.values().slice(0, max).map(copyEvent);
  }

  async countUnprocessedEvents(): Promise<number> {
    this.ready();
    return this.tables.unprocessedEvents.size;
  }

  async markEventProcessed(id: string): Promise<void> {
    this.ready();
    const key = validateId(id);
    if (!this.tables.markEventProcessed(key)) {
      throw new StorageError('NOT_FOUND', `event ${key} does not exist`, { details: { id: key } });
    }
  }

  // Payments and batches

  async saveX402Payment(payment: NewX402Payment): Promise<StoredX402Payment> {
    this.ready();
    const input = validateNewPayment(payment);
    return this.ledger.record(input, this.tables.leases.get(input.leaseId));
  }

  async recordPayment(params: RecordPaymentParams): Promise<StoredX402Payment> {
    this.ready();
    const input = validateRecordPayment(params);
    return this.ledger.record(input, this.tables.leases.get(input.leaseId));
  }

  async getPaymentByFacilitatorTxHash(facilitatorTxHash: string): Promise<StoredX402Payment | null> {
    this.ready();
    const row = this.ledger.paymentsByHash.get(validateHash(facilitatorTxHash, 'facilitatorTxHash'));
    return row ? paymentRecord(row) : null;
  }

  async getX402PaymentsByLease(leaseId: string): Promise<StoredX402Payment[]> {
    this.ready();
    return this.ledger.paymentsByLease.get(validateKey(leaseId, 'leaseId')).map(paymentRecord);
  }

  async getX402PaymentsByBucket(bucketSlot: string): Promise<StoredX402Payment[]> {
    this.ready();
    return this.ledger.paymentsByBucket.get(validateBucket(bucketSlot, 'bucketSlot')).map(paymentRecord);
  }

  async saveX402Batch(batch: NewX402Batch): Promise<StoredX402Batch> {
    this.ready();
    const input = validateNewBatch(batch);
    return this.ledger.createBatch(input, this.tables.leases.has(input.leaseId));
  }

  async getX402BatchesByLease(leaseId: string): Promise<StoredX402Batch[]> {
    this.ready();
    return this.ledger.batchesByLease.get(validateKey(leaseId, 'leaseId')).map(batchRecord);
  }

  async getOpenBatchForLease(leaseId: string, bucket: string): Promise<StoredX402Batch | null> {
    this.ready();
    const row = this.ledger.batchFor(validateKey(leaseId, 'leaseId'), validateBucket(bucket, 'bucket'));
    return row && row.settlementTxHash === undefined ? batchRecord(row) : null;
  }

  async updateX402Batch(id: string, updates: BatchUpdate): Promise<StoredX402Batch | null> {
    this.ready();
    const key = validateId(id);
    return this.ledger.updateBatch(key, validateBatchUpdate(updates));
  }

  // Ledger reads

  async getHourTotals(leaseId: string, at: Date = new Date()): Promise<HourTotals> {
    this.ready();
    checkDate(at, 'at');
    return ledgerReads.hourTotals(this.ledger, validateKey(leaseId, 'leaseId'), at);
  }

  async getDailyRevenue(leaseId: string, range: TimeRange, page?: PageOptions): Promise<Page<DailyRevenue>> {
    this.ready();
    return ledgerReads.dailyRevenue(this.ledger, validateKey(leaseId, 'leaseId'), validateRange(range), page);
  }

  async getAssetRevenue(assetId: string, range: TimeRange): Promise<AssetRevenue> {
    this.ready();
    const key = validateKey(assetId, 'assetId');
    const leaseIds = this.tables.leasesByAsset.get(key).map((l) => l.leaseId);
    return ledgerReads.assetRevenue(this.ledger, key, leaseIds, validateRange(range));
  }

  async getPaymentsPage(leaseId: string, page?: PageOptions): Promise<Page<StoredX402Payment>> {
    this.ready();
    return ledgerReads.paymentsPage(this.ledger, validateKey(leaseId, 'leaseId'), page);
  }

  async getBatchesPage(leaseId: string, page?: PageOptions): Promise<Page<StoredX402Batch>> {
    this.ready();
    return ledgerReads.batchesPage(this.ledger, validateKey(leaseId, 'leaseId'), page);
  }

  async reconcile(): Promise<ReconcileReport> {
    this.ready();
    return ledgerReads.reconcile(this.ledger);
  }

  // Whole-table transfer

  async *exportRecords<T extends TableName>(table: T, pageSize = 1000): AsyncIterable<TableRecords[T][]> {
    this.ready();
    yield* exportMemoryRecords(this.tables, this.ledger, validateTable(table) as T, validateLimit(pageSize, 'pageSize'));
  }

  async importRecords<T extends TableName>(table: T, records: readonly TableRecords[T][]): Promise<number> {
    this.ready();
    return importMemoryRecords(this.tables, this.ledger, validateTable(table) as T, records);
  }

  async summarizeTable(table: TableName): Promise<TableSummary> {
    this.ready();
    return summarizeMemoryTable(this.tables, this.ledger, validateTable(table));
  }

  async clear(options?: ClearOptions): Promise<void> {
    this.ready();
    assertClearAllowed(options);
    this.tables.clear();
    this.ledger.clear();
  }
}

/** The next `updatedAt`: now, but always at least 1 ms after the previous one. */
function nextUpdatedAt(previous: Date): Date {
  return new Date(Math.max(Date.now(), previous.getTime() + 1));
}

function newestFirst(leases: readonly StoredLease[]): StoredLease[] {
  const out: StoredLease[] = [];
  for (let i = leases.length - 1; i >= 0; i--) out.push(copyLease(leases[i] as StoredLease));
  return out;
}
