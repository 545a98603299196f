/**
 * Reconcile's kept results of closed days (migration 013): a closed day partition is read once,
 * and read again only after something wrote to it.
 *
 * Why a kept result is exact:
 * 1. The watch step makes the day's triggers in a transaction of its own. CREATE TRIGGER waits for
 *    the transactions then writing the partition to end, and every writer after it fires the
 *    trigger, which adds one to the day's `changes` in the writer's own transaction.
 * 2. The check step reads `changes` and the partition's rows in one statement, so in one snapshot,
 *    and stores that `changes` as `checked_changes` with the sums. A writer that commits after
 *    that snapshot has moved `changes` past it, whatever order the commits come in, so the kept
 *    result is not used again.
 * 3. The report (reconcile.ts) tests that in its own snapshot, and reads a day whose kept result
 *    no longer holds from its partition within the same statement, so a write between this step
 *    and the report is never missed.
 */
import type { StorageError } from '../../contract/errors.js';
import type { Row } from './codecs.js';
import type { SqlDriver, SqlExecutor } from './driver.js';
import { boundLockWaits, inLockBoundTransaction } from './lock-retries.js';
import { longTransaction } from './long-transaction.js';
import { mapDriverError } from './map-driver-error.js';
import { closedDayParams, KEPT_DAYS_SQL, quotedSource, WATCH_TRIGGERS, watchedSql, type PaymentSource } from './reconcile-sources.js';

/**
 * How long either step waits for a lock: the watch step for the day's writers, the check step
 * for a writer holding the day's row (each writer adds to its `changes`), or for a compaction's
 * swap. A day just over still gets its last payments, an import may write a day for minutes, and
 * a closed day not kept this time is simply read in the report instead.
 */
const KEEP_LOCK_TIMEOUT_MS = 500;

/** The closed days whose kept result does not hold now; `watched` when their triggers are in place. */
async function staleDays(db: SqlExecutor, sources: readonly PaymentSource[]): Promise<{ source: PaymentSource; watched: boolean }[]> {
  const [days, oids] = closedDayParams(sources);
  const { rows } = await db.query<Row>(
    `SELECT c.day::text AS day,
            EXISTS (SELECT 1 FROM x402_reconcile_days d WHERE d.day = c.day AND d.partition_oid = c.oid)
              AND ${watchedSql('c.oid')} AS watched
       FROM unnest($1::date[], $2::oid[]) AS c(day, oid)
      WHERE c.day NOT IN (${KEPT_DAYS_SQL})`,
    [days, oids],
  );
  const byDay = new Map(sources.map((s) => [s.closedDay, s]));
  return rows.map((r) => ({ source: byDay.get(r['day'] as string) as PaymentSource, watched: r['watched'] === true }));
}

/** Step 1: the day's triggers, made again from scratch (one may have been disabled), and its row. */
async function watchDay(driver: SqlDriver, source: PaymentSource): Promise<void> {
  const table = quotedSource(source.name);
  const arg = `'${(source.closedDay as string).replaceAll('-', '')}'`;
  await inLockBoundTransaction(driver, { lockTimeoutMs: KEEP_LOCK_TIMEOUT_MS, attempts: 1 }, `reconcile: watch ${source.name}`, async (tx) => {
    for (const name of WATCH_TRIGGERS) await tx.query(`DROP TRIGGER IF EXISTS ${name} ON ${table}`);
    await tx.query(`CREATE TRIGGER ${WATCH_TRIGGERS[0]} AFTER INSERT OR UPDATE OR DELETE ON ${table} FOR EACH ROW EXECUTE FUNCTION x402_reconcile_day_changed(${arg})`);
    await tx.query(`CREATE TRIGGER ${WATCH_TRIGGERS[1]} AFTER TRUNCATE ON ${table} FOR EACH STATEMENT EXECUTE FUNCTION x402_reconcile_day_changed(${arg})`);
    await tx.query(
      `INSERT INTO x402_reconcile_days (day, partition_oid) VALUES ($1, $2)
       ON CONFLICT (day) DO UPDATE SET partition_oid = EXCLUDED.partition_oid, checked_changes = NULL`,
      [source.closedDay, source.oid],
    );
  });
}

/**
 * Step 2: reads the day and keeps what the report needs of it. Runs without the statement
 * timeout (a production day is tens of millions of rows). Two checks of the same day at once
 * would write the same keys, so the second one leaves it to the first (and returns false).
 */
async function checkDay(driver: SqlDriver, source: PaymentSource): Promise<boolean> {
  const table = quotedSource(source.name);
  const day = source.closedDay as string;
  return longTransaction(driver, async (tx) => {
    await boundLockWaits(tx, KEEP_LOCK_TIMEOUT_MS);
    const { rows } = await tx.query<Row>(`SELECT pg_try_advisory_xact_lock(hashtext('x402_reconcile_day'), ($1::date - DATE '1970-01-01')) AS mine`, [day]);
    if (rows[0]?.['mine'] !== true) return false;
    await tx.query('DELETE FROM x402_reconcile_hours WHERE day = $1', [day]);
    await tx.query('DELETE FROM x402_reconcile_late WHERE day = $1', [day]);
    await tx.query(
      `WITH seen AS (SELECT changes FROM x402_reconcile_days WHERE day = $1 AND partition_oid = $2),
            hours AS (SELECT lease_id, bucket_slot, SUM(amount_minor_units) FILTER (WHERE NOT late) AS total,
                             COUNT(*) FILTER (WHERE NOT late) AS on_time, COUNT(*) AS payments
                        FROM ${table} GROUP BY lease_id, bucket_slot),
            kept_hours AS (INSERT INTO x402_reconcile_hours (day, lease_id, bucket_slot, total, payment_count)
                           SELECT $1, lease_id, bucket_slot, total, on_time FROM hours WHERE on_time > 0),
            kept_late AS (INSERT INTO x402_reconcile_late (day, lease_id, bucket_slot, facilitator_tx_hash, amount_minor_units, carried_to_batch_id)
                          SELECT $1, lease_id, bucket_slot, facilitator_tx_hash, amount_minor_units, carried_to_batch_id FROM ${table} WHERE late)
       UPDATE x402_reconcile_days d
          SET checked_changes = seen.changes, checked_filenode = pg_relation_filenode(d.partition_oid),
              payments = (SELECT COALESCE(SUM(payments), 0) FROM hours), checked_at = now()
         FROM seen WHERE d.day = $1`,
      [day, source.oid],
    );
    return true;
  });
}

/**
 * Whether a failure to keep a day leaves it to the report instead of failing reconcile: a lock
 * wait past its bound, a server that does not allow the watch trigger (SQLSTATE 0A000: Citus
 * refuses triggers on distributed tables unless `citus.enable_unsafe_triggers` is on), or one
 * that allows no writes (25006: a read replica, a read-only role), where the report, which only
 * reads, still runs.
 */
function leftToReport(error: StorageError): boolean {
  const cause = error.cause as { code?: unknown } | undefined;
  return error.reason === 'lock_timeout' || cause?.code === '0A000' || cause?.code === '25006';
}

/**
 * Makes the kept result of every closed day of `sources` hold, reading each day whose result
 * does not (all of them with `full`), and returns the days read. A day {@link leftToReport} is
 * read by the report from its partition instead. Forgets the kept results of days that have no
 * partition any more (archived by retention outside `dropPartition`, or restored elsewhere).
 */
export async function keepClosedDays(driver: SqlDriver, sources: readonly PaymentSource[], full: boolean): Promise<string[]> {
  // The unpartitioned table (the scale bench's other layout) keeps nothing, and has no migration 013.
  if (sources.every((s) => s.name === 'x402_payments')) return [];
  const [days] = closedDayParams(sources);
  try {
    await driver.query('DELETE FROM x402_reconcile_days WHERE day <> ALL($1::date[])', [days]);
    if (days.length === 0) return [];
    const stale = await staleDays(driver, sources);
    // With `full` every closed day is read again; one whose result holds is watched already.
    const watched = new Map(stale.map((s) => [s.source, s.watched]));
    const redo = full ? sources.filter((s) => s.closedDay !== null).map((source) => ({ source, watched: watched.get(source) ?? true })) : stale;
    const read: string[] = [];
    for (const { source, watched } of redo) {
      try {
        if (!watched) await watchDay(driver, source);
        if (await checkDay(driver, source)) read.push(source.closedDay as string);
      } catch (error) {
        if (!leftToReport(mapDriverError(error, `reconcile: keep ${source.name}`))) throw error;
      }
    }
    return read;
  } catch (error) {
    const mapped = mapDriverError(error, 'reconcile: keep closed days');
    if (leftToReport(mapped)) return [];
    throw mapped;
  }
}
