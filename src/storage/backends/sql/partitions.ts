/**
 * The daily partitions of `x402_payments` (migration 007): creating them ahead of time, listing
 * them, and what retention needs to judge, export and drop one. Partition `x402_payments_pYYYYMMDD`
 * holds the payments whose payment_timestamp falls on that UTC day, so it also holds every payment
 * of that day's hourly batches; `x402_payments_default` catches anything outside every day made.
 */
import { StorageError, validationError } from '../../contract/errors.js';
import type { PaymentPartition } from '../../contract/schema.js';
import { DAY_MS } from '../../core/time.js';
import { toBigInt, toSafeInt, type Row } from './codecs.js';
import type { SqlDriver, SqlExecutor } from './driver.js';
import { inLockBoundTransaction, lockRetryOptions, type LockRetryOptions } from './lock-retries.js';
import { mapDriverError } from './map-driver-error.js';

export type { PaymentPartition };

const PARTITION_NAME = /^x402_payments_p(\d{4})(\d{2})(\d{2})$/;
/** The DEFAULT partition's name. */
export const DEFAULT_PARTITION = 'x402_payments_default';

/** `YYYY-MM-DD` of the UTC day `offset` days after `now`. */
export function utcDay(now: Date, offset = 0): string {
  return new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate()) + offset * DAY_MS).toISOString().slice(0, 10);
}

/** The partition name of a `YYYY-MM-DD` day. */
export function partitionName(day: string): string {
  return `x402_payments_p${day.replaceAll('-', '')}`;
}

/** The day of a daily partition's name, undefined for any other name. */
export function partitionDay(name: string): string | undefined {
  const m = PARTITION_NAME.exec(name);
  return m ? `${m[1]}-${m[2]}-${m[3]}` : undefined;
}

/**
 * Makes sure each `YYYY-MM-DD` day has its partition (rows of those days waiting in the DEFAULT
 * partition move in); returns the days that were created.
 */
export async function ensurePaymentPartitions(db: SqlExecutor, days: readonly string[]): Promise<string[]> {
  for (const day of days) if (!/^\d{4}-\d{2}-\d{2}$/.test(day)) throw validationError('day', `expected YYYY-MM-DD, got ${day}`);
  if (days.length === 0) return [];
  try {
    const { rows } = await db.query<Row>(
      'SELECT d::text AS day FROM unnest($1::date[]) AS d WHERE x402_ensure_payment_partition(d)',
      [[...new Set(days)].sort()],
    );
    return rows.map((r) => String(r['day']));
  } catch (error) {
    throw mapDriverError(error, 'ensure payment partitions');
  }
}

/**
 * Makes sure today (UTC) and the next `daysAhead` days have partitions; returns the days created.
 * Attaching a new day checks the DEFAULT partition under an ACCESS EXCLUSIVE lock, and every read
 * of payments that does not prune the DEFAULT partition queues behind that lock request: behind a
 * long reader (a backup's `pg_dump`) it would wait as long as the reader runs. So each attempt
 * waits at most `lockTimeoutMs` (default 500 ms) for a lock, up to `attempts` times (default 3),
 * then gives up with `TIMEOUT`; the days are made ahead, so the next upkeep has time to try again.
 */
export async function ensurePartitionsAhead(driver: SqlDriver, daysAhead: number, now = new Date(), options: LockRetryOptions = {}): Promise<string[]> {
  if (!Number.isSafeInteger(daysAhead) || daysAhead < 0 || daysAhead > 3660) throw validationError('daysAhead', 'must be an integer from 0 to 3660');
  const locks = lockRetryOptions(options, { lockTimeoutMs: 500, attempts: 3 });
  const days = Array.from({ length: daysAhead + 1 }, (_, i) => utcDay(now, i));
  return inLockBoundTransaction(driver, locks, 'ensure payment partitions', (tx) => ensurePaymentPartitions(tx, days));
}

/**
 * Gives the rows waiting in the DEFAULT partition with a payment time before `before` their day
 * partitions (a day the service never prepared, e.g. while it was down, or a late payment for a
 * day retention already archived), so retention can judge and archive them; returns the days
 * created.
 */
export async function adoptDefaultRows(db: SqlExecutor, before: Date): Promise<string[]> {
  try {
    const { rows } = await db.query<Row>(
      `SELECT DISTINCT ((payment_timestamp AT TIME ZONE 'UTC')::date)::text AS day FROM ${DEFAULT_PARTITION} WHERE payment_timestamp < $1`,
      [before],
    );
    return await ensurePaymentPartitions(db, rows.map((r) => String(r['day'])));
  } catch (error) {
    throw mapDriverError(error, 'adopt rows of the DEFAULT partition');
  }
}

/** The partitions of `x402_payments` (`c`, in pg_class), by name. */
const PAYMENT_PARTITIONS = `FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
  WHERE i.inhparent = 'x402_payments'::regclass ORDER BY c.relname`;

/**
 * The days (YYYY-MM-DD) that have a partition of `x402_payments`, in order: the catalog's names
 * only, for readers that run often (the payments page's span, once a minute). Sizing every
 * partition, as {@link listPaymentPartitions} does for operators, costs a file lookup per
 * partition, thousands after a few years of days.
 */
export async function listPaymentPartitionDays(db: SqlExecutor): Promise<string[]> {
  try {
    const { rows } = await db.query<Row>(
      `SELECT c.relname AS name ${PAYMENT_PARTITIONS}`,
    );
    return rows.flatMap((r) => partitionDay(r['name'] as string) ?? []);
  } catch (error) {
    throw mapDriverError(error, 'list payment partition days');
  }
}

/** Every partition of `x402_payments`, days in order, the DEFAULT partition last. */
export async function listPaymentPartitions(db: SqlExecutor): Promise<PaymentPartition[]> {
  try {
    const { rows } = await db.query<Row>(
      `SELECT c.relname AS name, GREATEST(c.reltuples, 0)::bigint AS estimated_rows, pg_total_relation_size(c.oid) AS bytes ${PAYMENT_PARTITIONS}`,
    );
    const parts = rows.map((r): PaymentPartition => {
      const name = r['name'] as string;
      const day = partitionDay(name);
      return {
        name,
        day: day ?? null,
        from: day === undefined ? null : new Date(`${day}T00:00:00Z`),
        to: day === undefined ? null : new Date(Date.parse(`${day}T00:00:00Z`) + DAY_MS),
        estimatedRows: toSafeInt(r['estimated_rows'], 'estimated_rows'),
        bytes: toSafeInt(r['bytes'], 'bytes'),
      };
    });
    return [...parts.filter((p) => p.day !== null), ...parts.filter((p) => p.day === null)];
  } catch (error) {
    throw mapDriverError(error, 'list payment partitions');
  }
}

/** What retention needs to know about one day partition before archiving it. */
export interface PartitionAudit {
  name: string;
  day: string;
  payments: number;
  amountSum: bigint;
  /** Batches whose hour lies in the day. */
  batches: number;
  batchTotal: bigint;
  /** Batches of the day without a settlement transaction. */
  unsettledBatches: number;
  /** Late payments of the day not yet carried by a settlement. */
  uncarriedLatePayments: number;
  /** Hours of the day whose batch disagrees with its on-time payments (or has none). */
  reconcileDifferences: number;
  /** Payments of other days carried by a batch of this day (dropping it would orphan them). */
  carriedFromOtherDays: number;
}

/** Why a partition may not be archived, empty when it may. */
export function refusals(audit: PartitionAudit): string[] {
  const out: string[] = [];
  if (audit.unsettledBatches > 0) out.push(`${audit.unsettledBatches} unsettled batch(es)`);
  if (audit.uncarriedLatePayments > 0) out.push(`${audit.uncarriedLatePayments} late payment(s) not yet carried by a settlement`);
  if (audit.reconcileDifferences > 0) out.push(`${audit.reconcileDifferences} hour(s) whose batch disagrees with its payments`);
  if (audit.carriedFromOtherDays > 0) out.push(`${audit.carriedFromOtherDays} late payment(s) of other days carried by its batches`);
  return out;
}

/** The `YYYY-MM-DD` day's [from, to) bounds as ISO instants. */
export function dayBounds(day: string): [string, string] {
  const from = Date.parse(`${day}T00:00:00Z`);
  return [new Date(from).toISOString(), new Date(from + DAY_MS).toISOString()];
}

/** Quotes a partition name taken from the catalog (only daily names are ever archived). */
export function quotedPartition(name: string): string {
  if (!PARTITION_NAME.test(name)) throw new StorageError('VALIDATION', `${name} is not a daily payment partition`, { field: 'partition' });
  return `"${name}"`;
}

/** Audits one day partition (see {@link PartitionAudit}); `lock` takes the row locks retention holds while it drops. */
export async function auditPartition(db: SqlExecutor, name: string, lock = false): Promise<PartitionAudit> {
  const day = partitionDay(name);
  if (day === undefined) throw new StorageError('VALIDATION', `${name} is not a daily payment partition`, { field: 'partition' });
  const table = quotedPartition(name);
  const [from, to] = dayBounds(day);
  try {
    if (lock) {
      // No payment can be added to the day, and no batch of it changed, until the drop commits.
      await db.query(`LOCK TABLE ${table} IN SHARE ROW EXCLUSIVE MODE`);
      await db.query('SELECT id FROM x402_batches WHERE hour_bucket >= $1 AND hour_bucket < $2 FOR UPDATE', [from, to]);
    }
    const { rows } = await db.query<Row>(
      `WITH day_batches AS (SELECT * FROM x402_batches WHERE hour_bucket >= $1 AND hour_bucket < $2),
            sums AS (SELECT lease_id, bucket_slot, SUM(amount_minor_units) AS total, COUNT(*) AS n FROM ${table} WHERE NOT late GROUP BY 1, 2)
       SELECT (SELECT COUNT(*) FROM ${table}) AS payments,
              (SELECT COALESCE(SUM(amount_minor_units), 0)::text FROM ${table}) AS amount_sum,
              (SELECT COUNT(*) FROM day_batches) AS batches,
              (SELECT COALESCE(SUM(total_amount_minor_units), 0)::text FROM day_batches) AS batch_total,
              (SELECT COUNT(*) FROM day_batches WHERE settlement_tx_hash IS NULL) AS unsettled,
              (SELECT COUNT(*) FROM ${table} WHERE late AND carried_to_batch_id IS NULL) AS uncarried,
              (SELECT COUNT(*) FROM day_batches b FULL OUTER JOIN sums s ON s.lease_id = b.lease_id AND s.bucket_slot = b.hour_bucket
                WHERE b.id IS NULL OR COALESCE(s.total, 0) <> b.total_amount_minor_units OR COALESCE(s.n, 0) <> b.payment_count) AS differences,
              (SELECT COUNT(*) FROM x402_payments p JOIN day_batches b ON p.carried_to_batch_id = b.id
                WHERE p.late AND (p.payment_timestamp < $1 OR p.payment_timestamp >= $2)) AS carried_in`,
      [from, to],
    );
    const r = rows[0] ?? {};
    return {
      name,
      day,
      payments: toSafeInt(r['payments'], 'payments'),
      amountSum: toBigInt(r['amount_sum'], 'amount_sum'),
      batches: toSafeInt(r['batches'], 'batches'),
      batchTotal: toBigInt(r['batch_total'], 'batch_total'),
      unsettledBatches: toSafeInt(r['unsettled'], 'unsettled'),
      uncarriedLatePayments: toSafeInt(r['uncarried'], 'uncarried'),
      reconcileDifferences: toSafeInt(r['differences'], 'differences'),
      carriedFromOtherDays: toSafeInt(r['carried_in'], 'carried_in'),
    };
  } catch (error) {
    throw mapDriverError(error, `audit partition ${name}`);
  }
}

/** The SQL text of the payments of `names` (daily partitions), for keyset export by id. */
export function partitionPaymentsSql(names: readonly string[]): string {
  return names.map((n) => `SELECT * FROM ${quotedPartition(n)}`).join(' UNION ALL ');
}

/** The SQL condition selecting the batches of `names`' days (hour_bucket bounds as literals of validated days). */
export function partitionBatchesCondition(names: readonly string[]): string {
  return names
    .map((n) => {
      const [from, to] = dayBounds(partitionDay(n) as string);
      return `(hour_bucket >= '${from}' AND hour_bucket < '${to}')`;
    })
    .join(' OR ');
}

/**
 * Detaches and drops a day partition and deletes that day's batches, its compaction record (a
 * day made again later is compacted again) and its kept reconcile result, inside the caller's
 * transaction (which should hold {@link auditPartition}'s locks). The settlement hashes stay.
 */
export async function dropPartition(tx: SqlExecutor, name: string): Promise<void> {
  const table = quotedPartition(name);
  const [from, to] = dayBounds(partitionDay(name) as string);
  try {
    await tx.query(`ALTER TABLE x402_payments DETACH PARTITION ${table}`);
    await tx.query(`DROP TABLE ${table}`);
    await tx.query('DELETE FROM x402_batches WHERE hour_bucket >= $1 AND hour_bucket < $2', [from, to]);
    await tx.query('DELETE FROM x402_payment_compactions WHERE partition_name = $1', [name]);
    await tx.query('DELETE FROM x402_reconcile_days WHERE day = $1', [partitionDay(name)]);
  } catch (error) {
    throw mapDriverError(error, `drop partition ${name}`);
  }
}
