/**
 * The records retention archives from a set of day partitions, as stored records in snapshot
 * order (ids ascending): the payments of the partitions, the batches of their days, and the
 * leases and assets those refer to (so the snapshot verifies and imports on its own).
 */
import type { StoredAsset, StoredLease, StoredX402Batch, StoredX402Payment } from '../../contract/database.js';
import { assetFromRow, batchFromRow, leaseFromRow, paymentFromRow, type Row } from './codecs.js';
import type { SqlExecutor } from './driver.js';
import { partitionBatchesCondition, partitionPaymentsSql } from './partitions.js';
import { queryRows } from './query-rows.js';

/** Reads what retention exports from day partitions `names`. */
export class PartitionRecords {
  private readonly payments: string;
  private readonly batches: string;

  constructor(
    private readonly db: SqlExecutor,
    names: readonly string[],
  ) {
    this.payments = partitionPaymentsSql(names);
    this.batches = partitionBatchesCondition(names);
  }

  private leaseIds(): string {
    return `SELECT lease_id FROM (${this.payments}) AS p UNION SELECT lease_id FROM x402_batches WHERE ${this.batches}`;
  }

  /** The assets of the referenced leases, by id. */
  async assets(): Promise<StoredAsset[]> {
    const rows = await queryRows(
      this.db,
      'retention assets',
      `SELECT * FROM assets WHERE asset_id IN (SELECT asset_id FROM leases WHERE lease_id IN (${this.leaseIds()})) ORDER BY id`,
    );
    return rows.map(assetFromRow);
  }

  /** The leases the payments and batches refer to, by id. */
  async leases(): Promise<StoredLease[]> {
    const rows = await queryRows(this.db, 'retention leases', `SELECT * FROM leases WHERE lease_id IN (${this.leaseIds()}) ORDER BY id`);
    return rows.map(leaseFromRow);
  }

  /** The payments of the partitions, by id, one page at a time. */
  async *paymentPages(pageSize: number): AsyncGenerator<StoredX402Payment[]> {
    yield* this.pages(`SELECT * FROM (${this.payments}) AS p`, pageSize, paymentFromRow);
  }

  /** The batches of the partitions' days, by id, one page at a time. */
  async *batchPages(pageSize: number): AsyncGenerator<StoredX402Batch[]> {
    yield* this.pages(`SELECT * FROM x402_batches WHERE (${this.batches})`, pageSize, batchFromRow);
  }

  private async *pages<T>(select: string, pageSize: number, decode: (row: Row) => T): AsyncGenerator<T[]> {
    let last: string | null = null;
    for (;;) {
      const rows: Row[] =
        last === null
          ? await queryRows(this.db, 'retention export', `${select} ORDER BY id LIMIT $1`, [pageSize])
          : await queryRows(this.db, 'retention export', `SELECT * FROM (${select}) AS s WHERE id > $1 ORDER BY id LIMIT $2`, [last, pageSize]);
      if (rows.length === 0) return;
      yield rows.map(decode);
      if (rows.length < pageSize) return;
      last = rows[rows.length - 1]?.['id'] as string;
    }
  }
}
