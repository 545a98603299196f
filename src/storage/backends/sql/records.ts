/**
 * Whole-table export and import for the SQL backends (see contract/transfer.ts): keyset-paged export by id,
 * and import as INSERT ... SELECT FROM unnest(arrays) ON CONFLICT (id) DO NOTHING in one statement,
 * so a repeated import adds nothing and a refused one writes nothing.
 */
import type { TableName, TableRecords, TableSummary } from '../../contract/transfer.js';
import { assetFromRow, batchFromRow, eventFromRow, leaseFromRow, paymentFromRow, toBigInt, toSafeInt, type Row } from './codecs.js';
import type { SqlDriver } from './driver.js';
import { mapDriverError } from './map-driver-error.js';
import { ensurePaymentPartitions } from './partitions.js';
import { queryRows } from './query-rows.js';
import { importPaymentsClaimingHashes } from './settlement-hashes.js';

type Getter = (record: never) => unknown;
/** One column of a table: name, parameter cast, value from the record. */
export type Column = readonly [name: string, cast: string, get: Getter];

const json = (v: unknown) => JSON.stringify(v);

/** Columns written on import, per table: name, parameter cast, value from the record. */
export const COLUMNS: Readonly<Record<TableName, readonly Column[]>> = {
  assets: [
    ['id', 'uuid', (r: TableRecords['assets']) => r.id],
    ['asset_id', 'text', (r: TableRecords['assets']) => r.assetId],
    ['chain_id', 'integer', (r: TableRecords['assets']) => r.chainId],
    ['contract_address', 'text', (r: TableRecords['assets']) => r.contractAddress],
    ['token_address', 'text', (r: TableRecords['assets']) => r.tokenAddress],
    ['metadata', 'jsonb', (r: TableRecords['assets']) => json(r.metadata)],
    ['metadata_hash', 'text', (r: TableRecords['assets']) => r.metadataHash],
    ['block_number', 'bigint', (r: TableRecords['assets']) => r.blockNumber],
    ['transaction_hash', 'text', (r: TableRecords['assets']) => r.transactionHash],
    ['created_at', 'timestamptz', (r: TableRecords['assets']) => r.createdAt],
    ['updated_at', 'timestamptz', (r: TableRecords['assets']) => r.updatedAt],
  ],
  leases: [
    ['id', 'uuid', (r: TableRecords['leases']) => r.id],
    ['lease_id', 'text', (r: TableRecords['leases']) => r.leaseId],
    ['asset_id', 'text', (r: TableRecords['leases']) => r.assetId],
    ['chain_id', 'integer', (r: TableRecords['leases']) => r.chainId],
    ['contract_address', 'text', (r: TableRecords['leases']) => r.contractAddress],
    ['lessor', 'text', (r: TableRecords['leases']) => r.lessor],
    ['lessee', 'text', (r: TableRecords['leases']) => r.lessee],
    ['agreement', 'jsonb', (r: TableRecords['leases']) => json(r.agreement)],
    ['status', 'text', (r: TableRecords['leases']) => r.status],
    ['block_number', 'bigint', (r: TableRecords['leases']) => r.blockNumber],
    ['transaction_hash', 'text', (r: TableRecords['leases']) => r.transactionHash],
    ['created_at', 'timestamptz', (r: TableRecords['leases']) => r.createdAt],
    ['updated_at', 'timestamptz', (r: TableRecords['leases']) => r.updatedAt],
  ],
  events: [
    ['id', 'uuid', (r: TableRecords['events']) => r.id],
    ['event_name', 'text', (r: TableRecords['events']) => r.eventName],
    ['contract_address', 'text', (r: TableRecords['events']) => r.contractAddress],
    ['block_number', 'bigint', (r: TableRecords['events']) => r.blockNumber],
    ['transaction_hash', 'text', (r: TableRecords['events']) => r.transactionHash],
    ['log_index', 'integer', (r: TableRecords['events']) => r.logIndex],
    ['args', 'jsonb', (r: TableRecords['events']) => json(r.args)],
    ['processed', 'boolean', (r: TableRecords['events']) => r.processed],
    ['created_at', 'timestamptz', (r: TableRecords['events']) => r.createdAt],
    ['chain_id', 'integer', (r: TableRecords['events']) => r.chainId ?? null],
    ['block_hash', 'text', (r: TableRecords['events']) => r.blockHash ?? null],
    ['removed', 'boolean', (r: TableRecords['events']) => r.removed === true],
    ['attempts', 'integer', (r: TableRecords['events']) => r.attempts ?? 0],
    ['last_error', 'text', (r: TableRecords['events']) => r.lastError ?? null],
  ],
  x402_payments: [
    ['id', 'uuid', (r: TableRecords['x402_payments']) => r.id],
    ['lease_id', 'text', (r: TableRecords['x402_payments']) => r.leaseId],
    ['mode', 'text', (r: TableRecords['x402_payments']) => r.mode],
    ['interval_seconds', 'integer', (r: TableRecords['x402_payments']) => r.intervalSeconds],
    ['amount_minor_units', 'numeric', (r: TableRecords['x402_payments']) => r.amountMinorUnits.toString()],
    ['payer', 'text', (r: TableRecords['x402_payments']) => r.payer],
    ['payment_timestamp', 'timestamptz', (r: TableRecords['x402_payments']) => r.paymentTimestamp],
    ['facilitator_tx_hash', 'text', (r: TableRecords['x402_payments']) => r.facilitatorTxHash],
    ['bucket_slot', 'timestamptz', (r: TableRecords['x402_payments']) => r.bucketSlot],
    ['created_at', 'timestamptz', (r: TableRecords['x402_payments']) => r.createdAt],
    ['late', 'boolean', (r: TableRecords['x402_payments']) => r.late === true],
    ['carried_to_batch_id', 'uuid', (r: TableRecords['x402_payments']) => r.carriedToBatchId ?? null],
  ],
  x402_batches: [
    ['id', 'uuid', (r: TableRecords['x402_batches']) => r.id],
    ['lease_id', 'text', (r: TableRecords['x402_batches']) => r.leaseId],
    ['hour_bucket', 'timestamptz', (r: TableRecords['x402_batches']) => r.hourBucket],
    ['total_amount_minor_units', 'numeric', (r: TableRecords['x402_batches']) => r.totalAmountMinorUnits.toString()],
    ['payment_count', 'integer', (r: TableRecords['x402_batches']) => r.paymentCount],
    ['revenue_round_id', 'text', (r: TableRecords['x402_batches']) => r.revenueRoundId ?? null],
    ['settlement_tx_hash', 'text', (r: TableRecords['x402_batches']) => r.settlementTxHash ?? null],
    ['started_at', 'timestamptz', (r: TableRecords['x402_batches']) => r.startedAt],
    ['closed_at', 'timestamptz', (r: TableRecords['x402_batches']) => r.closedAt],
    ['created_at', 'timestamptz', (r: TableRecords['x402_batches']) => r.createdAt],
  ],
};

const DECODERS: Readonly<Record<TableName, (row: Row) => unknown>> = {
  assets: assetFromRow,
  leases: leaseFromRow,
  events: eventFromRow,
  x402_payments: paymentFromRow,
  x402_batches: batchFromRow,
};

/** The money column of a table, where it has one. */
export const AMOUNT_COLUMN: Readonly<Partial<Record<TableName, string>>> = {
  x402_payments: 'amount_minor_units',
  x402_batches: 'total_amount_minor_units',
};

/** Export, import and summaries over a {@link SqlDriver}. */
export class SqlRecords {
  constructor(private readonly driver: SqlDriver) {}

  /** Yields a table's records ordered by id, one keyset page at a time. */
  async *export<T extends TableName>(table: T, pageSize: number): AsyncIterable<TableRecords[T][]> {
    const decode = DECODERS[table] as (row: Row) => TableRecords[T];
    let last: string | null = null;
    for (;;) {
      const rows =
        last === null
          ? await queryRows(this.driver, `export ${table}`, `SELECT * FROM ${table} ORDER BY id LIMIT $1`, [pageSize])
          : await queryRows(this.driver, `export ${table}`, `SELECT * FROM ${table} WHERE id > $1 ORDER BY id LIMIT $2`, [last, pageSize]);
      if (rows.length === 0) return;
      yield rows.map(decode);
      if (rows.length < pageSize) return;
      last = rows[rows.length - 1]?.['id'] as string;
    }
  }

  /** Inserts validated records as they are in one statement; returns how many were new. */
  async import<T extends TableName>(table: T, records: readonly TableRecords[T][]): Promise<number> {
    if (records.length === 0) return 0;
    const columns = COLUMNS[table];
    const names = columns.map(([name]) => name).join(', ');
    // One array parameter per column: the statement stays the same size whatever the batch size,
    // and PostgreSQL parses 10 parameters instead of tens of thousands.
    const arrays = columns.map(([, cast], i) => `$${i + 1}::${cast}[]`).join(', ');
    const params = columns.map(([, , get]) => records.map((record) => (get as (r: unknown) => unknown)(record)));
    try {
      if (table === 'x402_payments') {
        // Their days get their partitions first (rather than the DEFAULT one), so a restored
        // retention snapshot lands back in day partitions; then one statement claims the hashes
        // and writes the rows.
        const days = [...new Set((records as readonly TableRecords['x402_payments'][]).map((r) => r.paymentTimestamp.toISOString().slice(0, 10)))];
        await ensurePaymentPartitions(this.driver, days);
        return await importPaymentsClaimingHashes(this.driver, names, `SELECT * FROM unnest(${arrays})`, params);
      }
      // One statement, so all of the call is written or none of it.
      const result = await this.driver.query(`INSERT INTO ${table} (${names}) SELECT * FROM unnest(${arrays}) ON CONFLICT (id) DO NOTHING`, params);
      return result.rowCount;
    } catch (error) {
      throw mapDriverError(error, `import ${table}`);
    }
  }

  /** Row count and money total of a table. */
  async summarize(table: TableName): Promise<TableSummary> {
    const amount = AMOUNT_COLUMN[table];
    const sum = amount ? `COALESCE(SUM(${amount}), 0)::text` : `'0'`;
    const rows = await queryRows(this.driver, `summarize ${table}`, `SELECT COUNT(*) AS count, ${sum} AS amount_sum FROM ${table}`);
    const row = rows[0] ?? {};
    return { count: toSafeInt(row['count'], 'count'), amountSum: toBigInt(row['amount_sum'], 'amount_sum') };
  }
}
