/**
 * The baseline of the reconcile figures (`scale.*.reconcileStatementMs`, `reconcile.statementMs`):
 * the whole-ledger check as reconcile ran it before migration 013, one statement per part over
 * every payment, the same rows fetched (not decoded), sent directly on a connection of the bench's
 * own (no statement timeout).
 */
import type { ReconcileReport } from '../../src/storage/contract/ledger-queries.js';
import { round } from './report.js';

const STATEMENTS = [
  `WITH sums AS (SELECT lease_id, bucket_slot, SUM(amount_minor_units) AS total, COUNT(*) AS n FROM x402_payments WHERE NOT late GROUP BY 1, 2)
   SELECT b.id, COALESCE(b.lease_id, s.lease_id) AS lease_id, COALESCE(b.hour_bucket, s.bucket_slot) AS hour_bucket,
          COALESCE(b.total_amount_minor_units, 0)::text AS stored_total, COALESCE(b.payment_count, 0) AS stored_count,
          COALESCE(s.total, 0)::text AS payments_total, COALESCE(s.n, 0) AS payments_count
     FROM x402_batches b FULL OUTER JOIN sums s ON s.lease_id = b.lease_id AND s.bucket_slot = b.hour_bucket
    WHERE b.id IS NULL OR COALESCE(s.total, 0) <> b.total_amount_minor_units OR COALESCE(s.n, 0) <> b.payment_count
    ORDER BY COALESCE(b.lease_id, s.lease_id) COLLATE "C", 3`,
  `SELECT lease_id, bucket_slot, facilitator_tx_hash, amount_minor_units::text AS amount, carried_to_batch_id FROM x402_payments
    WHERE late ORDER BY lease_id COLLATE "C", bucket_slot, facilitator_tx_hash COLLATE "C"`,
  'SELECT (SELECT COUNT(*) FROM x402_batches) AS batches, (SELECT COUNT(*) FROM x402_payments) AS payments',
];

/** What a check found, to print beside its time so that the ways of checking can be seen to agree. */
export interface CheckFound {
  paymentsChecked: number;
  batchesChecked: number;
  differences: number;
  late: number;
}

/** Runs the whole-ledger statements through `query`; returns their time in ms and what they found. */
export async function wholeLedgerCheck(query: (text: string) => Promise<{ rows: Record<string, unknown>[] }>): Promise<{ ms: number; found: CheckFound }> {
  const started = performance.now();
  const rows: Record<string, unknown>[][] = [];
  for (const text of STATEMENTS) rows.push((await query(text)).rows);
  const ms = round(performance.now() - started, 0);
  const counts = rows[2]?.[0] ?? {};
  return {
    ms,
    found: { paymentsChecked: Number(counts['payments']), batchesChecked: Number(counts['batches']), differences: rows[0]?.length ?? 0, late: rows[1]?.length ?? 0 },
  };
}

/** What a store's reconcile report found, in the same terms. */
export function foundIn(report: ReconcileReport): CheckFound {
  return { paymentsChecked: report.paymentsChecked, batchesChecked: report.batchesChecked, differences: report.differences.length, late: report.latePayments.length };
}
