/**
 * The shared SQL implementation of the storage contract. PostgreSQL and PGlite run exactly this
 * code; they differ only in the {@link SqlDriver} they pass in. Every statement is
 * parameterized, every driver error goes through `mapDriverError`.
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
  RecordPaymentParams,
  StoredAsset,
  StoredEvent,
  StoredLease,
  StoredX402Batch,
  StoredX402Payment,
} from '../database.js';
import { StorageError, notConnectedError } from '../errors.js';
import type { AssetRevenue, DailyRevenue, HourTotals, Page, PageOptions, ReconcileReport, TimeRange } from '../ledger-queries.js';
import { resolvePage } from '../cursor.js';
import { assertClearAllowed, assertStatusIs } from '../payment-rules.js';
import type { TableName, TableRecords, TableSummary } from '../records.js';
import { checkDate } from '../time.js';
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
} from '../validate.js';
import { assetFromRow, batchFromRow, eventFromRow, jsonParam, leaseFromRow, paymentFromRow, toSafeInt, type Row } from './codecs.js';
import { ASSET_UPDATE_COLUMNS, LEASE_UPDATE_COLUMNS, buildSetClause } from './columns.js';
import type { PoolStats, SqlDriver } from './driver.js';
import { queryRows } from './query-rows.js';
import { Migrator, type MigratorOptions } from './migrator.js';
import { SqlLedgerReads } from './sql-ledger-queries.js';
import { SqlPages } from './sql-pages.js';
import { SqlPaymentWriter, type PaymentWriterOptions } from './sql-payments.js';
import { SqlRecords } from './sql-records.js';

/** Options of {@link SqlDatabase}. */
export interface SqlDatabaseOptions {
  /** Group commit of payments (on by default). */
  payments?: PaymentWriterOptions;
}

/** The storage contract over any {@link SqlDriver}. */
export class SqlDatabase implements Database {
  readonly capabilities: BackendCapabilities;
  private connected = false;
  private closed = false;
  private readonly payments: SqlPaymentWriter;
  private readonly reads: SqlLedgerReads;
  private readonly records: SqlRecords;
  private readonly pages: SqlPages;

  constructor(
    protected readonly driver: SqlDriver,
    options: SqlDatabaseOptions = {},
  ) {
    this.capabilities = { kind: driver.kind, durable: true, sql: true };
    this.payments = new SqlPaymentWriter(driver, options.payments);
    this.reads = new SqlLedgerReads(driver);
    this.records = new SqlRecords(driver);
    this.pages = new SqlPages(driver);
  }

  /** Opens the pool. A SQL backend is single-use: after disconnect(), create a new one. */
  async connect(): Promise<void> {
    if (this.connected) return;
    if (this.closed) {
      throw new StorageError('NOT_CONNECTED', 'this database was disconnected and its pool closed; create a new instance to connect again');
    }
    await this.driver.open();
    this.connected = true;
  }

  /** Waits for gathered payments to commit, then closes the connections. */
  async disconnect(): Promise<void> {
    if (!this.connected) return;
    this.connected = false;
    this.closed = true;
    await this.payments.drain();
    await this.driver.close();
  }

  isConnected(): boolean {
    return this.connected;
  }

  /** The migration runner of this backend's schema (the backend must be connected). */
  migrator(options?: MigratorOptions): Migrator {
    this.ready();
    return new Migrator(this.driver, options);
  }

  /** Pool statistics (total, idle, waiting). */
  poolStats(): PoolStats {
    return this.driver.poolStats();
  }

  /** Runs a statement on the pool with the contract's lifecycle and error mapping. */
  private async query(context: string, text: string, params: readonly unknown[] = []): Promise<Row[]> {
    if (!this.connected) throw notConnectedError();
    return queryRows(this.driver, context, text, params);
  }

  private ready(): void {
    if (!this.connected) throw notConnectedError();
  }

  // Assets

  async saveAsset(asset: NewAsset): Promise<StoredAsset> {
    this.ready();
    const a = validateNewAsset(asset);
    const rows = await this.query(
      'saveAsset',
      `INSERT INTO assets (asset_id, chain_id, contract_address, token_address, metadata, metadata_hash, block_number, transaction_hash)
       VALUES ($1, $2, $3, $4, $5::jsonb, $6, $7, $8) RETURNING *`,
      [a.assetId, a.chainId, a.contractAddress, a.tokenAddress, jsonParam(a.metadata), a.metadataHash, a.blockNumber, a.transactionHash],
    );
    return assetFromRow(first(rows));
  }

  async getAsset(assetId: string): Promise<StoredAsset | null> {
    this.ready();
    const rows = await this.query('getAsset', 'SELECT * FROM assets WHERE asset_id = $1', [validateKey(assetId, 'assetId')]);
    return rows[0] ? assetFromRow(rows[0]) : null;
  }

  async getAssetByTokenAddress(tokenAddress: string): Promise<StoredAsset | null> {
    this.ready();
    const rows = await this.query(
      'getAssetByTokenAddress',
      'SELECT * FROM assets WHERE LOWER(token_address) = LOWER($1) ORDER BY created_at, id LIMIT 1',
      [validateAddress(tokenAddress, 'tokenAddress')],
    );
    return rows[0] ? assetFromRow(rows[0]) : null;
  }

  async getAllAssets(): Promise<StoredAsset[]> {
    return (await this.query('getAllAssets', 'SELECT * FROM assets ORDER BY created_at, id')).map(assetFromRow);
  }

  async getAssetsPage(page?: PageOptions): Promise<Page<StoredAsset>> {
    this.ready();
    return this.pages.assets(resolvePage(page, 2));
  }

  async updateAsset(assetId: string, updates: AssetUpdate): Promise<StoredAsset | null> {
    this.ready();
    const key = validateKey(assetId, 'assetId');
    const params: unknown[] = [];
    const set = buildSetClause(validateAssetUpdate(updates), ASSET_UPDATE_COLUMNS, params, encodeField);
    params.push(key);
    const rows = await this.query('updateAsset', `UPDATE assets SET ${set} WHERE asset_id = $${params.length} RETURNING *`, params);
    return rows[0] ? assetFromRow(rows[0]) : null;
  }

  // Leases

  async saveLease(lease: NewLease): Promise<StoredLease> {
    this.ready();
    const l = validateNewLease(lease);
    const rows = await this.query(
      'saveLease',
      `INSERT INTO leases (lease_id, asset_id, chain_id, contract_address, lessor, lessee, agreement, status, block_number, transaction_hash)
       VALUES ($1, $2, $3, $4, $5, $6, $7::jsonb, $8, $9, $10) RETURNING *`,
      [l.leaseId, l.assetId, l.chainId, l.contractAddress, l.lessor, l.lessee, jsonParam(l.agreement), l.status, l.blockNumber, l.transactionHash],
    );
    return leaseFromRow(first(rows));
  }

  async getLease(leaseId: string): Promise<StoredLease | null> {
    this.ready();
    const rows = await this.query('getLease', 'SELECT * FROM leases WHERE lease_id = $1', [validateKey(leaseId, 'leaseId')]);
    return rows[0] ? leaseFromRow(rows[0]) : null;
  }

  async getAllLeases(): Promise<StoredLease[]> {
    return (await this.query('getAllLeases', 'SELECT * FROM leases ORDER BY created_at, id')).map(leaseFromRow);
  }

  async getLeasesByAsset(assetId: string): Promise<StoredLease[]> {
    this.ready();
    const rows = await this.query('getLeasesByAsset', 'SELECT * FROM leases WHERE asset_id = $1 ORDER BY created_at, id', [
      validateKey(assetId, 'assetId'),
    ]);
    return rows.map(leaseFromRow);
  }

  async getLeasesByStatus(status: LeaseStatus): Promise<StoredLease[]> {
    this.ready();
    const rows = await this.query('getLeasesByStatus', 'SELECT * FROM leases WHERE status = $1 ORDER BY created_at, id', [
      validateStatus(status),
    ]);
    return rows.map(leaseFromRow);
  }

  async getActiveLeasesForAsset(assetId: string): Promise<StoredLease[]> {
    this.ready();
    const rows = await this.query(
      'getActiveLeasesForAsset',
      "SELECT * FROM leases WHERE asset_id = $1 AND status = 'active' ORDER BY created_at DESC, id DESC",
      [validateKey(assetId, 'assetId')],
    );
    return rows.map(leaseFromRow);
  }

  async getLeasesByLessor(address: string): Promise<StoredLease[]> {
    this.ready();
    const rows = await this.query(
      'getLeasesByLessor',
      'SELECT * FROM leases WHERE LOWER(lessor) = LOWER($1) ORDER BY created_at DESC, id DESC',
      [validateAddress(address, 'lessor')],
    );
    return rows.map(leaseFromRow);
  }

  async getLeasesByLessee(address: string): Promise<StoredLease[]> {
    this.ready();
    const rows = await this.query(
      'getLeasesByLessee',
      'SELECT * FROM leases WHERE LOWER(lessee) = LOWER($1) ORDER BY created_at DESC, id DESC',
      [validateAddress(address, 'lessee')],
    );
    return rows.map(leaseFromRow);
  }

  async getLeasesPage(filter: LeaseFilter, page?: PageOptions): Promise<Page<StoredLease>> {
    this.ready();
    return this.pages.leases(validateLeaseFilter(filter), resolvePage(page, 2));
  }

  async transitionLeaseStatus(leaseId: string, from: LeaseStatus, to: LeaseStatus): Promise<StoredLease | null> {
    this.ready();
    const key = validateKey(leaseId, 'leaseId');
    const expected = validateStatus(from, 'from');
    const next = validateStatus(to, 'to');
    // The status condition in the UPDATE makes check-and-set one step, across processes too.
    const rows = await this.query('transitionLeaseStatus', 'UPDATE leases SET status = $3 WHERE lease_id = $1 AND status = $2 RETURNING *', [
      key,
      expected,
      next,
    ]);
    if (rows[0]) return leaseFromRow(rows[0]);
    const current = await this.getLease(key);
    if (!current) return null;
    assertStatusIs(current, expected);
    throw new StorageError('CONFLICT', `lease ${key} changed while its status was being set; retry`, { retryable: true });
  }

  async updateLease(leaseId: string, updates: LeaseUpdate): Promise<StoredLease | null> {
    this.ready();
    const key = validateKey(leaseId, 'leaseId');
    const params: unknown[] = [];
    const set = buildSetClause(validateLeaseUpdate(updates), LEASE_UPDATE_COLUMNS, params, encodeField);
    params.push(key);
    const rows = await this.query('updateLease', `UPDATE leases SET ${set} WHERE lease_id = $${params.length} RETURNING *`, params);
    return rows[0] ? leaseFromRow(rows[0]) : null;
  }

  // Events

  async saveEvent(event: NewEvent): Promise<StoredEvent> {
    this.ready();
    const e = validateNewEvent(event);
    // An event already stored is returned as it is: re-ingesting a block must not reset `processed`.
    const inserted = await this.query(
      'saveEvent',
      `INSERT INTO events (event_name, contract_address, block_number, transaction_hash, log_index, args, processed)
       VALUES ($1, $2, $3, $4, $5, $6::jsonb, $7)
       ON CONFLICT (transaction_hash, log_index) DO NOTHING RETURNING *`,
      [e.eventName, e.contractAddress, e.blockNumber, e.transactionHash, e.logIndex, jsonParam(e.args), e.processed],
    );
    if (inserted[0]) return eventFromRow(inserted[0]);
    const existing = await this.getEvent(e.transactionHash, e.logIndex);
    if (!existing) throw new StorageError('CONFLICT', 'event was deleted while being saved; retry', { retryable: true });
    return existing;
  }

  async getEvent(transactionHash: string, logIndex: number): Promise<StoredEvent | null> {
    this.ready();
    const rows = await this.query('getEvent', 'SELECT * FROM events WHERE transaction_hash = $1 AND log_index = $2', [
      validateHash(transactionHash, 'transactionHash'),
      validateLogIndex(logIndex, 'logIndex'),
    ]);
    return rows[0] ? eventFromRow(rows[0]) : null;
  }

  async getUnprocessedEvents(limit = 100): Promise<StoredEvent[]> {
    this.ready();
    const rows = await this.query(
      'getUnprocessedEvents',
      'SELECT * FROM events WHERE NOT processed ORDER BY block_number, log_index, id LIMIT $1',
      [validateLimit(limit)],
    );
    return rows.map(eventFromRow);
  }

  async countUnprocessedEvents(): Promise<number> {
    const rows = await this.query('countUnprocessedEvents', 'SELECT COUNT(*) AS backlog FROM events WHERE NOT processed');
    return toSafeInt(rows[0]?.['backlog'], 'backlog');
  }

  async markEventProcessed(id: string): Promise<void> {
    this.ready();
    const key = validateId(id);
    const rows = await this.query('markEventProcessed', 'UPDATE events SET processed = TRUE WHERE id = $1 RETURNING id', [key]);
    if (rows.length === 0) throw new StorageError('NOT_FOUND', `event ${key} does not exist`, { details: { id: key } });
  }

  // Payments and batches

  async saveX402Payment(payment: NewX402Payment): Promise<StoredX402Payment> {
    this.ready();
    return this.payments.record(validateNewPayment(payment));
  }

  async recordPayment(params: RecordPaymentParams): Promise<StoredX402Payment> {
    this.ready();
    return this.payments.record(validateRecordPayment(params));
  }

  async getPaymentByFacilitatorTxHash(facilitatorTxHash: string): Promise<StoredX402Payment | null> {
    this.ready();
    const rows = await this.query('getPaymentByFacilitatorTxHash', 'SELECT * FROM x402_payments WHERE facilitator_tx_hash = $1', [
      validateHash(facilitatorTxHash, 'facilitatorTxHash'),
    ]);
    return rows[0] ? paymentFromRow(rows[0]) : null;
  }

  async getX402PaymentsByLease(leaseId: string): Promise<StoredX402Payment[]> {
    this.ready();
    const rows = await this.query(
      'getX402PaymentsByLease',
      'SELECT * FROM x402_payments WHERE lease_id = $1 ORDER BY payment_timestamp, id',
      [validateKey(leaseId, 'leaseId')],
    );
    return rows.map(paymentFromRow);
  }

  async getX402PaymentsByBucket(bucketSlot: string): Promise<StoredX402Payment[]> {
    this.ready();
    const rows = await this.query(
      'getX402PaymentsByBucket',
      'SELECT * FROM x402_payments WHERE bucket_slot = $1 ORDER BY payment_timestamp, id',
      [validateBucket(bucketSlot, 'bucketSlot')],
    );
    return rows.map(paymentFromRow);
  }

  async saveX402Batch(batch: NewX402Batch): Promise<StoredX402Batch> {
    this.ready();
    const b = validateNewBatch(batch);
    const rows = await this.query(
      'saveX402Batch',
      `INSERT INTO x402_batches (lease_id, hour_bucket, revenue_round_id, settlement_tx_hash, started_at, closed_at)
       VALUES ($1, $2, $3, $4, $5, $6) RETURNING *`,
      [b.leaseId, b.hourBucket, b.revenueRoundId ?? null, b.settlementTxHash ?? null, b.startedAt, b.closedAt],
    );
    return batchFromRow(first(rows));
  }

  async getX402BatchesByLease(leaseId: string): Promise<StoredX402Batch[]> {
    this.ready();
    const rows = await this.query('getX402BatchesByLease', 'SELECT * FROM x402_batches WHERE lease_id = $1 ORDER BY hour_bucket', [
      validateKey(leaseId, 'leaseId'),
    ]);
    return rows.map(batchFromRow);
  }

  async getOpenBatchForLease(leaseId: string, bucket: string): Promise<StoredX402Batch | null> {
    this.ready();
    const rows = await this.query(
      'getOpenBatchForLease',
      'SELECT * FROM x402_batches WHERE lease_id = $1 AND hour_bucket = $2 AND settlement_tx_hash IS NULL',
      [validateKey(leaseId, 'leaseId'), validateBucket(bucket, 'bucket')],
    );
    return rows[0] ? batchFromRow(rows[0]) : null;
  }

  async updateX402Batch(id: string, updates: BatchUpdate): Promise<StoredX402Batch | null> {
    this.ready();
    return this.payments.updateBatch(validateId(id), validateBatchUpdate(updates));
  }

  // Ledger reads

  async getHourTotals(leaseId: string, at: Date = new Date()): Promise<HourTotals> {
    this.ready();
    return this.reads.hourTotals(validateKey(leaseId, 'leaseId'), checkDate(at, 'at'));
  }

  async getDailyRevenue(leaseId: string, range: TimeRange, page?: PageOptions): Promise<Page<DailyRevenue>> {
    this.ready();
    return this.reads.dailyRevenue(validateKey(leaseId, 'leaseId'), validateRange(range), page);
  }

  async getAssetRevenue(assetId: string, range: TimeRange): Promise<AssetRevenue> {
    this.ready();
    return this.reads.assetRevenue(validateKey(assetId, 'assetId'), validateRange(range));
  }

  async getPaymentsPage(leaseId: string, page?: PageOptions): Promise<Page<StoredX402Payment>> {
    this.ready();
    return this.reads.paymentsPage(validateKey(leaseId, 'leaseId'), page);
  }

  async getBatchesPage(leaseId: string, page?: PageOptions): Promise<Page<StoredX402Batch>> {
    this.ready();
    return this.reads.batchesPage(validateKey(leaseId, 'leaseId'), page);
  }

  async reconcile(): Promise<ReconcileReport> {
    this.ready();
    return this.reads.reconcile();
  }

  // Whole-table transfer

  async *exportRecords<T extends TableName>(table: T, pageSize = 1000): AsyncIterable<TableRecords[T][]> {
    this.ready();
    yield* this.records.export(table, validateLimit(pageSize, 'pageSize'));
  }

  async importRecords<T extends TableName>(table: T, records: readonly TableRecords[T][]): Promise<number> {
    this.ready();
    return this.records.import(table, records);
  }

  async summarizeTable(table: TableName): Promise<TableSummary> {
    this.ready();
    return this.records.summarize(table);
  }

  async clear(options?: ClearOptions): Promise<void> {
    this.ready();
    assertClearAllowed(options);
    await this.payments.drain();
    await this.query('clear', 'TRUNCATE assets, leases, events, x402_payments, x402_batches CASCADE');
  }
}

function first(rows: Row[]): Row {
  const row = rows[0];
  if (!row) throw new StorageError('INTERNAL', 'the statement returned no row');
  return row;
}

/** Encodes an update value for its column: documents as JSON text, the rest as they are. */
function encodeField(field: string, value: unknown): unknown {
  return field === 'metadata' || field === 'agreement' ? JSON.stringify(value) : value;
}
