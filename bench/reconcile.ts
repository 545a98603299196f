/**
 * `reconcile.*`: reconcile at the payment density of production, every lease paying every second
 * (3,600 payments per lease and hour; the scale bench loads about 28), on PostgreSQL:
 * `BENCH_RECONCILE_LEASES` leases (default 100) over `BENCH_RECONCILE_DAYS` closed days (default
 * 2), each hour's batch matching its payments, loaded in SQL. Then:
 * - `statementMs`: the baseline, the whole-ledger statements reconcile ran before migration 013
 *   (support/whole-ledger.ts);
 * - `fullMs`: `reconcile({ full: true })`, every day read and its result kept (a store's first check);
 * - `keptMs`: the next checks, from the kept results (median of 5);
 * - `keptShare`: keptMs / statementMs.
 * Each time carries what the check found, so the three can be seen to agree.
 */
import { ensurePaymentPartitions, utcDay } from '../src/storage/backends/sql/partitions.js';
import { newAsset, newLease } from './support/fixtures.js';
import { info, round, type BenchOptions } from './support/report.js';
import { driverOf, openPostgres } from './support/sql.js';
import { foundIn, wholeLedgerCheck } from './support/whole-ledger.js';

const LEASES = Number(process.env['BENCH_RECONCILE_LEASES'] ?? 100);
const DAYS = Number(process.env['BENCH_RECONCILE_DAYS'] ?? 2);
const KEPT_RUNS = 5;

/** Every figure this module prints. */
export const names: readonly string[] = ['reconcile.statementMs', 'reconcile.fullMs', 'reconcile.keptMs', 'reconcile.keptShare'];

/** One lease's payments of one day, one per second, and nothing else (claims are not read by reconcile). */
const DAY_OF_PAYMENTS = `INSERT INTO x402_payments (lease_id, mode, interval_seconds, amount_minor_units, payer, payment_timestamp, facilitator_tx_hash, bucket_slot)
  SELECT $1::text, 'second', 1, 1000 + s % 7, $2::text, t, '0x' || md5($1::text || t::text) || md5(t::text || $1::text), date_trunc('hour', t)
    FROM generate_series(0, 86399) AS s, LATERAL (SELECT $3::timestamptz + s * interval '1 second' AS t) AS at`;

/** The reconcile benchmark (see the file comment). */
export async function benchReconcile({ report }: BenchOptions): Promise<void> {
  if (!(Number.isSafeInteger(LEASES) && LEASES > 0 && Number.isSafeInteger(DAYS) && DAYS > 0)) throw new Error('BENCH_RECONCILE_LEASES and BENCH_RECONCILE_DAYS must be positive integers');
  const b = await openPostgres();
  try {
    const base = { leases: LEASES, days: DAYS, payments: LEASES * DAYS * 86_400 };
    const leases: { leaseId: string; payer: string }[] = [];
    for (let i = 0; i < LEASES; i++) {
      const asset = await b.db.saveAsset(newAsset(i));
      const lease = await b.db.saveLease(newLease(i, LEASES));
      if (asset.assetId !== lease.assetId) throw new Error('fixture lease not on its asset');
      leases.push({ leaseId: lease.leaseId, payer: lease.lessee });
    }
    // Closed days: two days ago and before, so none is within the hour after its end.
    const days = Array.from({ length: DAYS }, (_, i) => utcDay(new Date(), -(i + 2)));
    await ensurePaymentPartitions(driverOf(b.db), days);
    await b.raw('SET synchronous_commit = off');
    const loadStarted = performance.now();
    for (const day of days) for (const l of leases) await b.raw(DAY_OF_PAYMENTS, [l.leaseId, l.payer, `${day}T00:00:00Z`]);
    await b.raw(`INSERT INTO x402_batches (lease_id, hour_bucket, total_amount_minor_units, payment_count, started_at, closed_at)
                 SELECT lease_id, bucket_slot, SUM(amount_minor_units), COUNT(*), bucket_slot, bucket_slot + interval '1 hour' FROM x402_payments GROUP BY 1, 2`);
    await b.raw('VACUUM ANALYZE x402_payments');
    await b.raw('VACUUM ANALYZE x402_batches');
    info(`reconcile: ${base.payments} payments of ${LEASES} leases over ${DAYS} days loaded in ${round((performance.now() - loadStarted) / 1000, 1)} s`);

    const statement = await wholeLedgerCheck((text) => b.raw(text).then((rows) => ({ rows })));
    report('reconcile.statementMs', statement.ms, 'ms', { ...base, ...statement.found });
    let started = performance.now();
    const full = await b.db.reconcile({ full: true });
    report('reconcile.fullMs', round(performance.now() - started, 0), 'ms', { ...base, ...foundIn(full) });
    const runs: number[] = [];
    let kept = full;
    for (let i = 0; i < KEPT_RUNS; i++) {
      started = performance.now();
      kept = await b.db.reconcile();
      runs.push(round(performance.now() - started, 1));
    }
    const median = [...runs].sort((x, y) => x - y)[Math.floor(KEPT_RUNS / 2)] as number;
    report('reconcile.keptMs', median, 'ms', { ...base, runs, ...foundIn(kept) });
    report('reconcile.keptShare', round(median / statement.ms, 4), 'ratio', { ...base, goal: 'kept check against the whole-ledger statements, same run' });
  } finally {
    await b.close();
  }
}
