/**
 * The shared SQL backend: PostgreSQL and PGlite run exactly this code; they differ only in the
 * {@link SqlDriver} they pass in. Every statement is parameterized, every driver error goes
 * through `mapDriverError`, and field names reach SQL text only through fixed column maps.
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
import { StorageError, isStorageError } from '../../contract/errors.js';
import type { AssetRevenue, DailyRevenue, ReconcileOptions, ReconcileReport, TimeRange } from '../../contract/ledger-queries.js';
import { TABLES, type BulkLoadResult, type TableChunk, type TableLinesChunk, type TableDigestValue, type TableName, type TableRecords, type TableSize, type TableSummary } from '../../contract/transfer.js';
import type { ListOrder, PageRequest, PaymentSelector, Slice, StorageBackend, TimeIdKey } from '../../core/backend.js';
import { assertStatusIs, type SettleClock } from '../../core/invariants.js';
import type { BatchInput, PaymentInput } from '../../core/validate.js';
import { assetFromRow, batchFromRow, eventFromRow, jsonParam, leaseFromRow, paymentFromRow, toSafeInt, type Row } from './codecs.js';
import { SqlChain } from './chain.js';
import { ASSET_UPDATE_COLUMNS, LEASE_UPDATE_COLUMNS, buildSetClause } from './columns.js';
import type { SqlDriver } from './driver.js';
import { SqlLedgerReads } from './ledger-reads.js';
import { LEASE_WITH_BATCH_SQL, LEASES_WITH_BATCHES_SQL, leaseWithBatchFromRow, leasesWithBatchesFromRows } from './lease-with-batch.js';
import { ReadCoalescer } from './read-coalescer.js';
import { Migrator, type MigratorOptions } from './migrator.js';
import { SqlPages } from './pages.js';
import { ensurePartitionsAhead } from './partitions.js';
import { COMPACT_AFTER_DAYS, compactClosedPartitions } from './partition-compaction.js';
import { keepReconcileResults } from './reconcile.js';
import { SqlPaymentWriter, type PaymentWriterOptions } from './payments.js';
import { mapDriverError } from './map-driver-error.js';
import { queryRows } from './query-rows.js';
import { SqlRecords } from './records.js';
import { digestTableSql, loadEmpty } from './bulk-load.js';
import { CLAIMS_HOT_DAYS, moveClaimsOlderThan, paymentByHash } from './settlement-hashes.js';

/** Options of the SQL backends. */
export interface SqlBackendOptions {
  /** Group commit of payments (on by default). */
  payments?: PaymentWriterOptions;
}

/** The storage backend over any {@link SqlDriver}. */
export class SqlBackend implements StorageBackend {
  readonly capabilities: BackendCapabilities;
  readonly schema: SchemaManager;
  private readonly payments: SqlPaymentWriter;
  private readonly reads: SqlLedgerReads;
  private readonly records: SqlRecords;
  private readonly pages: SqlPages;
  private readonly chain: SqlChain;
  /** Concurrent getLeaseWithBatch calls (one per paid request) as one statement. */
  private readonly leaseWithBatchReads: ReadCoalescer<readonly [string, string], LeaseWithBatch | null>;

  constructor(
    readonly driver: SqlDriver,
    options: SqlBackendOptions = {},
  ) {
    // A pool, once ended, cannot be opened again.
    this.capabilities = { kind: driver.kind, durable: true, sql: true, reconnectable: false };
    this.schema = {
      status: () => this.migrator().status(),
      up: () => this.migrator().up(),
      ensurePartitions: (daysAhead) => ensurePartitionsAhead(driver, daysAhead),
      moveClaimsToCold: async (keepDays = CLAIMS_HOT_DAYS) => (await moveClaimsOlderThan(driver, keepDays)).moved,
      compactPartitions: (keepDays = COMPACT_AFTER_DAYS) => compactClosedPartitions(driver, keepDays),
      keepReconcileResults: () => keepReconcileResults(driver),
    };
    this.payments = new SqlPaymentWriter(driver, options.payments);
    this.reads = new SqlLedgerReads(driver);
    this.records = new SqlRecords(driver);
    this.pages = new SqlPages(driver);
    this.chain = new SqlChain(driver);
    this.leaseWithBatchReads = new ReadCoalescer({
      one: async ([leaseId, hourBucket]) => {
        const rows = await this.query('getLeaseWithBatch', LEASE_WITH_BATCH_SQL, [leaseId, hourBucket]);
        return rows[0] ? leaseWithBatchFromRow(rows[0]) : null;
      },
      many: async (keys) => {
        const rows = await this.query('getLeasesWithBatches', LEASES_WITH_BATCHES_SQL, [keys.map((k) => k[0]), keys.map((k) => k[1])]);
        return leasesWithBatchesFromRows(rows, keys.length);
      },
    });
  }

  /** The migration runner of this schema. */
  migrator(options?: MigratorOptions): Migrator {
    return new Migrator(this.driver, options);
  }

  open(): Promise<void> {
    return this.driver.open();
  }

  /** Waits for gathered payments to commit, then closes the connections. */
  async close(): Promise<void> {
    await this.payments.close();
    await this.driver.close();
  }

  poolStats(): PoolStats {
    return this.driver.poolStats();
  }

  private query(context: string, text: string, params: readonly unknown[] = []): Promise<Row[]> {
    return queryRows(this.driver, context, text, params);
  }

  // Assets

  async insertAsset(a: NewAsset): Promise<StoredAsset> {
    const rows = await this.query(
      'saveAsset',
      `INSERT INTO assets (asset_id, chain_id, contract_address, token_address, metadata, metadata_hash, block_number, transaction_hash)
       VALUES ($1, $2, $3, $4, $5::jsonb, $6, $7, $8) RETURNING *`,
      [a.assetId, a.chainId, a.contractAddress, a.tokenAddress, jsonParam(a.metadata), a.metadataHash, a.blockNumber, a.transactionHash],
    );
    return assetFromRow(first(rows));
  }

  async findAsset(assetId: string): Promise<StoredAsset | null> {
    const rows = await this.query('getAsset', 'SELECT * FROM assets WHERE asset_id = $1', [assetId]);
    return rows[0] ? assetFromRow(rows[0]) : null;
  }

  async findAssetByToken(tokenAddress: string): Promise<StoredAsset | null> {
    const rows = await this.query(
      'getAssetByTokenAddress',
      'SELECT * FROM assets WHERE LOWER(token_address) = LOWER($1) ORDER BY created_at, id LIMIT 1',
      [tokenAddress],
    );
    return rows[0] ? assetFromRow(rows[0]) : null;
  }

  async listAssets(): Promise<StoredAsset[]> {
    return (await this.query('getAllAssets', 'SELECT * FROM assets ORDER BY created_at, id')).map(assetFromRow);
  }

  assetsPage(page: PageRequest<TimeIdKey>): Promise<Slice<StoredAsset>> {
    return this.pages.assets(page);
  }

  async updateAsset(assetId: string, changes: AssetUpdate): Promise<StoredAsset | null> {
    const params: unknown[] = [];
    const set = buildSetClause(changes, ASSET_UPDATE_COLUMNS, params, encodeField);
    params.push(assetId);
    const rows = await this.query('updateAsset', `UPDATE assets SET ${set} WHERE asset_id = $${params.length} RETURNING *`, params);
    return rows[0] ? assetFromRow(rows[0]) : null;
  }

  // Leases

  async insertLease(l: NewLease): Promise<StoredLease> {
    const rows = await this.query(
      'saveLease',
      `INSERT INTO leases (lease_id, asset_id, chain_id, contract_address, lessor, lessee, agreement, status, block_number, transaction_hash)
       VALUES ($1, $2, $3, $4, $5, $6, $7::jsonb, $8, $9, $10) RETURNING *`,
      [l.leaseId, l.assetId, l.chainId, l.contractAddress, l.lessor, l.lessee, jsonParam(l.agreement), l.status, l.blockNumber, l.transactionHash],
    );
    return leaseFromRow(first(rows));
  }

  async findLease(leaseId: string): Promise<StoredLease | null> {
    const rows = await this.query('getLease', 'SELECT * FROM leases WHERE lease_id = $1', [leaseId]);
    return rows[0] ? leaseFromRow(rows[0]) : null;
  }

  listLeases(filter: LeaseFilter, order: ListOrder): Promise<StoredLease[]> {
    return this.pages.leaseList('getLeases', filter, order);
  }

  leasesPage(filter: LeaseFilter, page: PageRequest<TimeIdKey>): Promise<Slice<StoredLease>> {
    return this.pages.leases(filter, page);
  }

  async updateLease(leaseId: string, changes: LeaseUpdate): Promise<StoredLease | null> {
    const params: unknown[] = [];
    const set = buildSetClause(changes, LEASE_UPDATE_COLUMNS, params, encodeField);
    params.push(leaseId);
    const rows = await this.query('updateLease', `UPDATE leases SET ${set} WHERE lease_id = $${params.length} RETURNING *`, params);
    return rows[0] ? leaseFromRow(rows[0]) : null;
  }

  async transitionLeaseStatus(leaseId: string, from: LeaseStatus, to: LeaseStatus): Promise<StoredLease | null> {
    // The status condition in the UPDATE makes check-and-set one step, across processes too.
    const rows = await this.query('transitionLeaseStatus', 'UPDATE leases SET status = $3 WHERE lease_id = $1 AND status = $2 RETURNING *', [
      leaseId,
      from,
      to,
    ]);
    if (rows[0]) return leaseFromRow(rows[0]);
    const current = await this.findLease(leaseId);
    if (!current) return null;
    assertStatusIs(current, from);
    throw new StorageError('CONFLICT', `lease ${leaseId} changed while its status was being set; retry`, { retryable: true });
  }

  // Events

  async insertEvent(e: NewEvent & { processed: boolean }): Promise<StoredEvent> {
    // An event already stored is returned as it is: re-ingesting a block must not reset `processed`.
    const inserted = await this.query(
      'saveEvent',
      `INSERT INTO events (event_name, contract_address, block_number, transaction_hash, log_index, args, processed)
       VALUES ($1, $2, $3, $4, $5, $6::jsonb, $7)
       ON CONFLICT (transaction_hash, log_index) DO NOTHING RETURNING *`,
      [e.eventName, e.contractAddress, e.blockNumber, e.transactionHash, e.logIndex, jsonParam(e.args), e.processed],
    );
    if (inserted[0]) return eventFromRow(inserted[0]);
    const existing = await this.findEvent(e.transactionHash, e.logIndex);
    if (!existing) throw new StorageError('CONFLICT', 'event was deleted while being saved; retry', { retryable: true });
    return existing;
  }

  async findEvent(transactionHash: string, logIndex: number): Promise<StoredEvent | null> {
    const rows = await this.query('getEvent', 'SELECT * FROM events WHERE transaction_hash = $1 AND log_index = $2', [transactionHash, logIndex]);
    return rows[0] ? eventFromRow(rows[0]) : null;
  }

  async unprocessedEvents(limit: number): Promise<StoredEvent[]> {
    const rows = await this.query(
      'getUnprocessedEvents',
      'SELECT * FROM events WHERE NOT processed AND NOT removed ORDER BY block_number, log_index, id LIMIT $1',
      [limit],
    );
    return rows.map(eventFromRow);
  }

  async countUnprocessedEvents(): Promise<number> {
    const rows = await this.query('countUnprocessedEvents', 'SELECT COUNT(*) AS backlog FROM events WHERE NOT processed AND NOT removed');
    return toSafeInt(rows[0]?.['backlog'], 'backlog');
  }

  async markEventProcessed(id: string): Promise<boolean> {
    const rows = await this.query('markEventProcessed', 'UPDATE events SET processed = TRUE WHERE id = $1 RETURNING id', [id]);
    return rows.length > 0;
  }

  // Payments and batches

  recordPayment(input: PaymentInput): Promise<RecordedPayment> {
    return this.payments.record(input);
  }

  async findPaymentByHash(facilitatorTxHash: string): Promise<StoredX402Payment | null> {
    try {
      return await paymentByHash(this.driver, facilitatorTxHash);
    } catch (error) {
      // An archived payment (retention) is not in the ledger any more: nothing to return.
      if (isStorageError(error, 'DUPLICATE')) return null;
      throw mapDriverError(error, 'getPaymentByFacilitatorTxHash');
    }
  }

  async listPayments(selector: PaymentSelector): Promise<StoredX402Payment[]> {
    const rows =
      'leaseId' in selector
        ? await this.query('getX402PaymentsByLease', 'SELECT * FROM x402_payments WHERE lease_id = $1 ORDER BY payment_timestamp, id', [
            selector.leaseId,
          ])
        : await this.query('getX402PaymentsByBucket', 'SELECT * FROM x402_payments WHERE bucket_slot = $1 ORDER BY payment_timestamp, id', [
            selector.bucketSlot,
          ]);
    return rows.map(paymentFromRow);
  }

  async insertBatch(b: BatchInput): Promise<StoredX402Batch> {
    const rows = await this.query(
      'saveX402Batch',
      `INSERT INTO x402_batches (lease_id, hour_bucket, revenue_round_id, settlement_tx_hash, started_at, closed_at)
       VALUES ($1, $2, $3, $4, $5, $6) RETURNING *`,
      [b.leaseId, b.hourBucket, b.revenueRoundId ?? null, b.settlementTxHash ?? null, b.startedAt, b.closedAt],
    );
    return batchFromRow(first(rows));
  }

  async listBatches(leaseId: string): Promise<StoredX402Batch[]> {
    const rows = await this.query('getX402BatchesByLease', 'SELECT * FROM x402_batches WHERE lease_id = $1 ORDER BY hour_bucket', [leaseId]);
    return rows.map(batchFromRow);
  }

  async findBatch(leaseId: string, hourBucket: string): Promise<StoredX402Batch | null> {
    const rows = await this.query('getOpenBatchForLease', 'SELECT * FROM x402_batches WHERE lease_id = $1 AND hour_bucket = $2', [leaseId, hourBucket]);
    return rows[0] ? batchFromRow(rows[0]) : null;
  }

  findLeaseWithBatch(leaseId: string, hourBucket: string): Promise<LeaseWithBatch | null> {
    // One statement instead of two, and one for all the reads of an event-loop turn: on a busy
    // service each round trip costs the event loop more than the query costs the server
    // (bench/http.ts profiles the paid request).
    return this.leaseWithBatchReads.get([leaseId, hourBucket]);
  }

  updateBatch(id: string, updates: BatchUpdate, clock: SettleClock): Promise<StoredX402Batch | null> {
    return this.payments.updateBatch(id, updates, clock);
  }

  // Ledger reads

  hourTotals(leaseId: string, hourBucket: string): Promise<{ totalAmountMinorUnits: bigint; paymentCount: number }> {
    return this.reads.hourTotals(leaseId, hourBucket);
  }

  dailyRevenue(leaseId: string, range: TimeRange, page: PageRequest<string>): Promise<Slice<DailyRevenue>> {
    return this.reads.dailyRevenue(leaseId, range, page);
  }

  assetRevenue(assetId: string, range: TimeRange): Promise<AssetRevenue> {
    return this.reads.assetRevenue(assetId, range);
  }

  paymentsPage(leaseId: string, page: PageRequest<TimeIdKey>): Promise<Slice<StoredX402Payment>> {
    return this.reads.paymentsPage(leaseId, page);
  }

  batchesPage(leaseId: string, page: PageRequest<string>): Promise<Slice<StoredX402Batch>> {
    return this.reads.batchesPage(leaseId, page);
  }

  reconcile(options: ReconcileOptions): Promise<ReconcileReport> {
    return this.reads.reconcile(options);
  }

  // Whole-table transfer

  exportRecords<T extends TableName>(table: T, pageSize: number): AsyncIterable<TableRecords[T][]> {
    return this.records.export(table, pageSize);
  }

  importRecords<T extends TableName>(table: T, records: readonly TableRecords[T][]): Promise<number> {
    return this.records.import(table, records);
  }

  summarizeTable(table: TableName): Promise<TableSummary> {
    return this.records.summarize(table);
  }

  async digestTable(table: TableName): Promise<TableDigestValue> {
    try {
      return await digestTableSql(this.driver, table);
    } catch (error) {
      throw mapDriverError(error, `digest ${table}`);
    }
  }

  async loadEmpty(chunks: AsyncIterable<TableChunk | TableLinesChunk>, accept: (digests: Record<TableName, TableDigestValue>) => Promise<boolean>): Promise<BulkLoadResult | null> {
    await this.payments.drain();
    return loadEmpty(this.driver, chunks, accept);
  }

  async clear(): Promise<void> {
    await this.payments.drain();
    await this.query('clear', 'TRUNCATE assets, leases, events, x402_payments, x402_settlement_hashes, x402_settlement_hashes_cold, x402_payment_compactions, x402_reconcile_days, x402_reconcile_hours, x402_reconcile_late, x402_batches, chain_effects, chain_links, chain_blocks, chain_cursors, chain_deep_reorgs CASCADE');
    // The cold claims' filter, rebuilt from the now empty cold table (a filter of claims no
    // longer there would only cost probes).
    await this.query('clear', 'SELECT x402_claim_filter_add(NULL)');
  }

  /**
   * One statement: each table counted up to `exactUpTo + 1` rows (a read that stops there), and
   * the planner's estimate `pg_class.reltuples` for a table past that (-1 when never analyzed:
   * then the bound itself, a lower bound).
   */
  async estimateTableSizes(exactUpTo: number): Promise<Record<TableName, TableSize>> {
    const bounded = TABLES.map((t) => `(SELECT count(*) FROM (SELECT 1 FROM ${t} LIMIT ${exactUpTo + 1}) AS s) AS "${t}"`).join(', ');
    const [counts = {}] = await queryRows(this.driver, 'estimate table sizes', `SELECT ${bounded}`);
    const estimates = await queryRows(
      this.driver,
      'estimate table sizes',
      // A partitioned table has no rows of its own: its estimate is the sum over its partitions.
      `SELECT c.relname, CASE WHEN c.relkind = 'p'
                THEN (SELECT COALESCE(SUM(GREATEST(l.reltuples, 0)), 0) FROM pg_partition_tree(c.oid) t JOIN pg_class l ON l.oid = t.relid WHERE t.isleaf)
                ELSE c.reltuples END::float8 AS estimate FROM pg_class c
        WHERE c.relnamespace = current_schema()::regnamespace AND c.relkind IN ('r', 'p') AND c.relname = ANY($1::text[])`,
      [TABLES],
    );
    const estimateOf = new Map(estimates.map((r) => [String(r['relname']), Number(r['estimate'])]));
    const sizes = {} as Record<TableName, TableSize>;
    for (const table of TABLES) {
      const count = toSafeInt(counts[table], table);
      sizes[table] = count <= exactUpTo ? { count, exact: true } : { count: Math.max(count, Math.round(estimateOf.get(table) ?? 0)), exact: false };
    }
    return sizes;
  }

  // Chain ingestion and processing (sql/chain.ts)

  ingestChainRange(range: ChainRangeInput): Promise<ChainRangeResult> {
    return this.chain.ingestRange(range);
  }

  chainCursor(chainId: number): Promise<ChainCursor | null> {
    return this.chain.cursor(chainId);
  }

  chainBlocks(chainId: number, atOrBelow: number, limit: number): Promise<ChainBlockRef[]> {
    return this.chain.blocks(chainId, atOrBelow, limit);
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

  tryLeadership(name: string): Promise<Leadership | null> {
    return this.driver.tryLeadership(name);
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
