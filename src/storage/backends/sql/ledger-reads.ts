/**
 * Ledger reads of the SQL backends (guide section 6): hour totals, daily and per-asset revenue,
 * keyset pages, and reconciliation (reconcile.ts). Text ordering uses COLLATE "C" so it is byte
 * order, the same as the in-memory backend's, whatever the database's collation.
 */
import type { StoredX402Batch, StoredX402Payment } from '../../contract/database.js';
import type { AssetRevenue, DailyRevenue, ReconcileOptions, ReconcileReport, TimeRange } from '../../contract/ledger-queries.js';
import type { PageRequest, Slice, TimeIdKey } from '../../core/backend.js';
import { batchFromRow, paymentFromRow, toBigInt, toSafeInt, type Row } from './codecs.js';
import type { SqlDriver } from './driver.js';
import { PartitionSpanCache, type PartitionSpan } from './partition-span.js';
import { queryRows } from './query-rows.js';
import { reconcileLedger } from './reconcile.js';

/**
 * The literal row bound of a payments page's ordered branches: the smallest power of two not below
 * `rows`, the rows the statement returns ($2). Why a literal: in a generic plan PostgreSQL costs a
 * LIMIT given as a parameter as 10 % of the rows below it. For a lease's first page (no cursor to
 * narrow them) that is a tenth of the lease's whole history: at 20 M payments, 2,000 rows, so the
 * prepared statement's generic plan looked dearer than planning afresh, and every call was planned
 * again (pg_prepared_statements: 0 generic plans in 30 calls; about 1 ms of planning over 41
 * partitions, most of the read). With the bound in the text the generic plan costs what a custom
 * one does and is kept. Powers of two keep the texts to ten per shape (pages of 1 to 1,000
 * rows ask for 2 to 1,001); the outer `LIMIT $2` still cuts the page exactly, and rows are
 * pulled one at a time, so the larger bound reads no extra row.
 */
export function pageRowsBound(rows: number): number {
  if (!Number.isSafeInteger(rows) || rows < 1) throw new RangeError(`a page's row count must be a positive integer, got ${rows}`);
  return 2 ** Math.ceil(Math.log2(rows));
}

/**
 * The statement of a lease's payments page: `$1` the lease, `$2` the rows to return (`rows`, the
 * page's limit and one more), and with a cursor `$3` its time and `$4` its id.
 * - The cursor's `payment_timestamp >= $3` follows from the row comparison; said separately, it
 *   lets PostgreSQL skip the partitions before the cursor (it prunes on plain column bounds, not on
 *   row comparisons), so a page deep in a long history reads only the partitions from the cursor on.
 * - With a span (partition-span.ts) the rows inside it come from an ordered read of its partitions
 *   that stops when the page is full, and the rows outside it (the DEFAULT partition's, days beyond
 *   a gap) from a second branch; each branch is limited and the two are merged.
 * - Each branch's limit is {@link pageRowsBound}, a literal, so the cached plan is kept.
 */
export function paymentsPageSql(span: PartitionSpan | null, withCursor: boolean, rows: number): string {
  const cursor = withCursor ? ' AND payment_timestamp >= $3 AND (payment_timestamp, id) > ($3, $4::uuid)' : '';
  const bound = pageRowsBound(rows);
  const branch = (range: string) => `SELECT * FROM x402_payments WHERE lease_id = $1${range}${cursor} ORDER BY payment_timestamp, id LIMIT ${bound}`;
  if (span === null) return `SELECT * FROM (${branch('')}) AS page ORDER BY payment_timestamp, id LIMIT $2`;
  // The bounds are ISO instants made by longestSpan, never input.
  const from = `'${span.from}'::timestamptz`;
  const to = `'${span.to}'::timestamptz`;
  return `SELECT * FROM ((${branch(` AND payment_timestamp >= ${from} AND payment_timestamp < ${to}`)})
     UNION ALL (${branch(` AND (payment_timestamp < ${from} OR payment_timestamp >= ${to})`)})) AS page
   ORDER BY payment_timestamp, id LIMIT $2`;
}

/**
 * A lease's revenue per UTC day of [$2, $3), newest day first, at most $4 days ($1: the lease id).
 * Exported so the scale bench can send the very statement the store sends.
 */
export const DAILY_REVENUE_SQL = `SELECT to_char(payment_timestamp AT TIME ZONE 'UTC', 'YYYY-MM-DD') AS day,
        SUM(amount_minor_units)::text AS total, COUNT(*) AS payment_count
   FROM x402_payments
  WHERE lease_id = $1 AND payment_timestamp >= $2 AND payment_timestamp < $3
  GROUP BY day ORDER BY day DESC LIMIT $4`;

/** Ledger reads over a {@link SqlDriver}. */
export class SqlLedgerReads {
  private readonly spans: PartitionSpanCache;

  constructor(private readonly driver: SqlDriver) {
    this.spans = new PartitionSpanCache(driver);
  }

  private rows(context: string, text: string, params: readonly unknown[]): Promise<Row[]> {
    return queryRows(this.driver, context, text, params);
  }

  /** Totals of one hour, read from the batch the write path maintains. */
  async hourTotals(leaseId: string, bucket: string): Promise<{ totalAmountMinorUnits: bigint; paymentCount: number }> {
    const rows = await this.rows(
      'getHourTotals',
      'SELECT total_amount_minor_units, payment_count FROM x402_batches WHERE lease_id = $1 AND hour_bucket = $2',
      [leaseId, bucket],
    );
    const row = rows[0];
    return {
      totalAmountMinorUnits: row ? toBigInt(row['total_amount_minor_units'], 'total_amount_minor_units') : 0n,
      paymentCount: row ? toSafeInt(row['payment_count'], 'payment_count') : 0,
    };
  }

  /** Revenue per UTC day, newest first; the cursor is the last day returned. */
  async dailyRevenue(leaseId: string, range: TimeRange, { limit, after }: PageRequest<string>): Promise<Slice<DailyRevenue>> {
    let to = range.to.getTime();
    // Days before the cursor's day: moving the range's end there keeps the index range scan.
    if (after !== null) to = Math.min(to, Date.parse(`${after}T00:00:00Z`));
    const rows = await this.rows('getDailyRevenue', DAILY_REVENUE_SQL, [leaseId, range.from, new Date(to), limit + 1]);
    const items = rows.slice(0, limit).map((r) => ({
      leaseId,
      day: r['day'] as string,
      totalAmountMinorUnits: toBigInt(r['total'], 'total'),
      paymentCount: toSafeInt(r['payment_count'], 'payment_count'),
    }));
    return { items, more: rows.length > limit };
  }

  /** Revenue of one asset's leases over [from, to). */
  async assetRevenue(assetId: string, range: TimeRange): Promise<AssetRevenue> {
    const rows = await this.rows(
      'getAssetRevenue',
      `SELECT p.lease_id, SUM(p.amount_minor_units)::text AS total, COUNT(*) AS payment_count
         FROM x402_payments p JOIN leases l ON l.lease_id = p.lease_id
        WHERE l.asset_id = $1 AND p.payment_timestamp >= $2 AND p.payment_timestamp < $3
        GROUP BY p.lease_id ORDER BY p.lease_id COLLATE "C"`,
      [assetId, range.from, range.to],
    );
    const leases = rows.map((r) => ({
      leaseId: r['lease_id'] as string,
      totalAmountMinorUnits: toBigInt(r['total'], 'total'),
      paymentCount: toSafeInt(r['payment_count'], 'payment_count'),
    }));
    return {
      assetId,
      from: new Date(range.from),
      to: new Date(range.to),
      totalAmountMinorUnits: leases.reduce((sum, l) => sum + l.totalAmountMinorUnits, 0n),
      paymentCount: leases.reduce((sum, l) => sum + l.paymentCount, 0),
      leases,
    };
  }

  /**
   * A lease's payments in (paymentTimestamp, id) order after the cursor. On day partitions the
   * statement reads the partitions of the span in order and stops at the first that fills the page
   * ({@link paymentsPageSql}); the span's bounds are literals in its text, so the prepared
   * statement's cached plan keeps that shape (a new text when the span moves, a few times a day).
   */
  async paymentsPage(leaseId: string, { limit, after: key }: PageRequest<TimeIdKey>): Promise<Slice<StoredX402Payment>> {
    const span = await this.spans.get();
    const text = paymentsPageSql(span, Boolean(key), limit + 1);
    const params = key ? [leaseId, limit + 1, new Date(key.ts), key.id] : [leaseId, limit + 1];
    const rows = await this.rows('getPaymentsPage', text, params);
    return { items: rows.slice(0, limit).map(paymentFromRow), more: rows.length > limit };
  }

  /** A lease's batches in hourBucket order after the cursor. */
  async batchesPage(leaseId: string, { limit, after }: PageRequest<string>): Promise<Slice<StoredX402Batch>> {
    const rows = after
      ? await this.rows(
          'getBatchesPage',
          'SELECT * FROM x402_batches WHERE lease_id = $1 AND hour_bucket > $2 ORDER BY hour_bucket LIMIT $3',
          [leaseId, new Date(after), limit + 1],
        )
      : await this.rows('getBatchesPage', 'SELECT * FROM x402_batches WHERE lease_id = $1 ORDER BY hour_bucket LIMIT $2', [
          leaseId,
          limit + 1,
        ]);
    return { items: rows.slice(0, limit).map(batchFromRow), more: rows.length > limit };
  }

  /** Compares every batch with its on-time payments (also reporting payments whose hour has no batch), and lists the late ones. */
  reconcile(options: ReconcileOptions = {}): Promise<ReconcileReport> {
    return reconcileLedger(this.driver, options);
  }
}
