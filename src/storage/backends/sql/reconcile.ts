/**
 * Reconcile on the SQL backends: every batch compared with the sums of its on-time payments (and
 * hours with payments but no batch), and every late payment listed.
 *
 * The batches are read afresh every time (a few rows per lease and hour); so are the payments of
 * today, of future days and of the DEFAULT partition. A day that is over is read once and its
 * sums kept (reconcile-kept-days.ts), so a check costs about what a day's payments cost, not the
 * whole history: before this, one statement read every payment and passed the pool's 30 s
 * statement timeout at about 40 M payments on the bench machine (docs/scale.md, "Reconcile").
 */
import type { ReconcileOptions, ReconcileReport } from '../../contract/ledger-queries.js';
import { toBigInt, toBucket, toSafeInt, type Row } from './codecs.js';
import type { SqlDriver, SqlExecutor } from './driver.js';
import { longTransaction } from './long-transaction.js';
import { mapDriverError } from './map-driver-error.js';
import { keepClosedDays } from './reconcile-kept-days.js';
import { closedDayParams, KEPT_DAYS_SQL, paymentSources, quotedSource, type PaymentSource } from './reconcile-sources.js';

/**
 * `SELECT columns FROM` every payment table `WHERE filter`, as one UNION ALL. A closed day's
 * branch runs only when its kept result does not hold in this statement's snapshot (`kept` is
 * the CTE of {@link KEPT_DAYS_SQL}): an uncorrelated condition, which PostgreSQL tests once
 * before the scan (a one-time filter), so a kept day costs no read of its partition. The day's
 * scan sits in a subquery with `OFFSET 0`, which keeps the condition from being pushed into it:
 * pushed down, it lands below the Gather of a parallel scan, and PostgreSQL started two workers
 * for every kept day only for them to find nothing to do (measured: 110-130 ms per day, most of
 * a check over four kept days).
 */
function paymentsSql(sources: readonly PaymentSource[], columns: string, filter: string): string {
  return sources
    .map((s) => {
      const scan = `SELECT ${columns} FROM ${quotedSource(s.name)} WHERE ${filter}`;
      if (s.closedDay === null) return scan;
      return `SELECT * FROM (${scan} OFFSET 0) AS closed_day WHERE NOT EXISTS (SELECT 1 FROM kept WHERE kept.day = DATE '${s.closedDay}')`;
    })
    .join('\n UNION ALL ');
}

/** The report's three statements and their parameters, to be run in one snapshot. */
export interface ReportStatements {
  params: unknown[];
  differences: string;
  late: string;
  counts: string;
}

/** The statements of the report over `sources` (see {@link paymentsSql} for how a kept day is skipped). */
export function reportStatements(sources: readonly PaymentSource[]): ReportStatements {
  const params = closedDayParams(sources);
  const keeps = params[0].length > 0;
  // Without closed days there is no kept result to read (and an unpartitioned table has no
  // migration 013 tables to read them from).
  const kept = `kept AS MATERIALIZED (${keeps ? KEPT_DAYS_SQL : 'SELECT NULL::date AS day WHERE false'})`;
  const keptHours = keeps ? 'UNION ALL SELECT h.lease_id, h.bucket_slot, h.total, h.payment_count FROM x402_reconcile_hours h JOIN kept ON kept.day = h.day' : '';
  const keptLate = keeps
    ? 'UNION ALL SELECT l.lease_id, l.bucket_slot, l.facilitator_tx_hash, l.amount_minor_units, l.carried_to_batch_id FROM x402_reconcile_late l JOIN kept ON kept.day = l.day'
    : '';
  const keptCount = keeps ? '(SELECT COALESCE(SUM(d.payments), 0) FROM x402_reconcile_days d JOIN kept ON kept.day = d.day)' : '0';
  return {
    params: keeps ? params : [],
    differences: `WITH ${kept},
       sums AS (
         SELECT lease_id, bucket_slot, SUM(total) AS total, SUM(payment_count) AS payment_count FROM (
           SELECT lease_id, bucket_slot, SUM(amount_minor_units) AS total, COUNT(*) AS payment_count
             FROM (${paymentsSql(sources, 'lease_id, bucket_slot, amount_minor_units', 'NOT late')}) AS fresh GROUP BY lease_id, bucket_slot
           ${keptHours}) AS parts
         GROUP BY lease_id, bucket_slot)
     SELECT b.id, COALESCE(b.lease_id, s.lease_id) AS lease_id, COALESCE(b.hour_bucket, s.bucket_slot) AS hour_bucket,
            COALESCE(b.total_amount_minor_units, 0)::text AS stored_total, COALESCE(b.payment_count, 0) AS stored_count,
            COALESCE(s.total, 0)::text AS payments_total, COALESCE(s.payment_count, 0) AS payments_count
       FROM x402_batches b FULL OUTER JOIN sums s ON s.lease_id = b.lease_id AND s.bucket_slot = b.hour_bucket
      WHERE b.id IS NULL OR COALESCE(s.total, 0) <> b.total_amount_minor_units OR COALESCE(s.payment_count, 0) <> b.payment_count
      ORDER BY COALESCE(b.lease_id, s.lease_id) COLLATE "C", 3`,
    late: `WITH ${kept}
     SELECT lease_id, bucket_slot, facilitator_tx_hash, amount_minor_units::text AS amount, carried_to_batch_id FROM (
       ${paymentsSql(sources, 'lease_id, bucket_slot, facilitator_tx_hash, amount_minor_units, carried_to_batch_id', 'late')}
       ${keptLate}) AS late
     ORDER BY lease_id COLLATE "C", bucket_slot, facilitator_tx_hash COLLATE "C"`,
    counts: `WITH ${kept}
     SELECT (SELECT COUNT(*) FROM x402_batches) AS batches,
            (SELECT COUNT(*) FROM (${paymentsSql(sources, '1', 'true')}) AS fresh) + ${keptCount} AS payments`,
  };
}

/** The report's three statements, run in the caller's snapshot. */
async function report(tx: SqlExecutor, sources: readonly PaymentSource[]): Promise<ReconcileReport> {
  const statements = reportStatements(sources);
  const differences = await tx.query<Row>(statements.differences, statements.params);
  const late = await tx.query<Row>(statements.late, statements.params);
  const counts = await tx.query<Row>(statements.counts, statements.params);
  return {
    batchesChecked: toSafeInt(counts.rows[0]?.['batches'], 'batches'),
    paymentsChecked: toSafeInt(counts.rows[0]?.['payments'], 'payments'),
    differences: differences.rows.map((r) => ({
      leaseId: r['lease_id'] as string,
      hourBucket: toBucket(r['hour_bucket'], 'hour_bucket'),
      batchId: (r['id'] as string | null) ?? null,
      storedTotal: toBigInt(r['stored_total'], 'stored_total'),
      storedCount: toSafeInt(r['stored_count'], 'stored_count'),
      paymentsTotal: toBigInt(r['payments_total'], 'payments_total'),
      paymentsCount: toSafeInt(r['payments_count'], 'payments_count'),
    })),
    latePayments: late.rows.map((r) => ({
      leaseId: r['lease_id'] as string,
      hourBucket: toBucket(r['bucket_slot'], 'bucket_slot'),
      facilitatorTxHash: r['facilitator_tx_hash'] as string,
      amountMinorUnits: toBigInt(r['amount'], 'amount'),
      carriedToBatchId: (r['carried_to_batch_id'] as string | null) ?? null,
    })),
  };
}

/**
 * The report in one snapshot with no statement timeout, from the kept results that hold in that
 * snapshot and the partitions of the days whose do not. The payment tables are listed inside the
 * transaction: a day made since the keeping step listed them (its rows moved out of the DEFAULT
 * partition) is then read too.
 */
export async function reconcileReport(driver: SqlDriver): Promise<ReconcileReport> {
  try {
    return await longTransaction(driver, async (tx) => {
      await tx.query('SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY');
      return report(tx, await paymentSources(tx));
    });
  } catch (error) {
    throw mapDriverError(error, 'reconcile');
  }
}

/** Makes the kept result of every closed day hold, reading the days whose result does not; returns them. */
export async function keepReconcileResults(driver: SqlDriver): Promise<string[]> {
  return keepClosedDays(driver, await paymentSources(driver), false);
}

/**
 * Checks every batch against its payments: first makes the kept results of closed days hold
 * (reading the days that changed since), then reports ({@link reconcileReport}).
 */
export async function reconcileLedger(driver: SqlDriver, { full = false }: ReconcileOptions = {}): Promise<ReconcileReport> {
  await keepClosedDays(driver, await paymentSources(driver), full);
  return reconcileReport(driver);
}
