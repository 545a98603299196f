/**
 * Compaction of closed day partitions of `x402_payments` (migration 009): a day that is over is
 * copied in the keyset index's order (lease_id, payment_timestamp, id) and the copy replaces the
 * partition, so a page of one lease's payments reads two or three heap pages instead of one page
 * per row (payments arrive in time order, every lease's interleaved), however old the day is and
 * whether or not it is still cached. docs/scale.md ("Compacted days") has the measurements.
 *
 * The steps, each its own transaction, so payments are never blocked for longer than the swap:
 *
 * 1. a trigger on the partition starts logging the ids of the rows changed from now on (late
 *    payments of the day, carried late payments) into `x402_payment_compaction_changes`;
 * 2. the copy: a new table filled from the partition in key order, the partition's indexes built
 *    on it, a CHECK of the day's bounds (so attaching it scans nothing), and its foreign keys added
 *    NOT VALID; payments of the day may still be written meanwhile;
 * 3. the foreign keys validated (a scan that holds no lock writers of leases wait for);
 * 4. the swap, under an ACCESS EXCLUSIVE lock of `x402_payments` taken before any lock a writer
 *    could be waiting for (so no deadlock with a writer of the day): the logged rows are copied
 *    again, the old partition is detached and dropped and the copy attached in its place, under
 *    its name and index names. A lock held elsewhere past `lockTimeoutMs` makes the swap retry;
 *    after `attempts` the compaction is abandoned (nothing changed) with a `TIMEOUT`.
 *
 * Any failure abandons the work (the copy and its log are removed, and the triggers unless a
 * reader holds the partition: then the next compaction of the day removes them first); the
 * partition is untouched until the swap commits, and the swap is one transaction. One process
 * compacts at a time per database (a leadership lock); another gets `CONFLICT`.
 */
import { heldElsewhereError, StorageError, validationError } from '../../contract/errors.js';
import type { PartitionCompaction } from '../../contract/schema.js';
import type { Row } from './codecs.js';
import type { SqlDriver, SqlExecutor } from './driver.js';
import { boundLockWaits, lockRetryOptions, withLockRetries, type LockRetryOptions } from './lock-retries.js';
import { longTransaction } from './long-transaction.js';
import { mapDriverError } from './map-driver-error.js';
import { dayBounds, partitionDay, partitionName, quotedPartition, utcDay } from './partitions.js';

/** Days already compacted (partition name, when, rows). */
export const COMPACTIONS = 'x402_payment_compactions';
/** Ids of rows changed in a partition while it is being compacted (NULL: truncated). */
export const COMPACTION_CHANGES = 'x402_payment_compaction_changes';

/**
 * Days before today the service leaves as they are (1: yesterday's partition, which late payments
 * and retries still reach, is compacted the day after).
 */
export const COMPACT_AFTER_DAYS = 1;

export type { PartitionCompaction };

/**
 * Options of {@link compactPartitions}. `lockTimeoutMs` (default 2000 ms) bounds each wait for a
 * lock: the swap's for the payment table (then it retries, up to `attempts`, default 5), the
 * trigger's creation and removal for the day's partition.
 */
export interface CompactionOptions extends LockRetryOptions {
  /** Called between steps (tests use it to write while a copy is in flight). */
  onStep?: (step: 'logging' | 'copied' | 'validated', partition: string) => Promise<void>;
}

const LEADERSHIP = 'payment-compaction';
const ORDER = 'lease_id, payment_timestamp, id';

/** The names a compaction of `name` works with. */
function workNames(name: string): { copy: string; bounds: string; index: (i: number) => string } {
  // Zero-padded, so the copy's indexes sort by name in the order they were built.
  return { copy: `${name}_compacting`, bounds: `${name}_compaction_bounds`, index: (i) => `${name}_compacting_${String(i).padStart(3, '0')}` };
}

interface PartitionIndex {
  name: string;
  /** `CREATE [UNIQUE] INDEX` without the name, table and everything before ` USING `. */
  using: string;
  unique: boolean;
  /** The primary key or unique constraint the index backs. */
  constraint: { name: string; kind: 'PRIMARY KEY' | 'UNIQUE' } | null;
}

async function partitionIndexes(db: SqlExecutor, table: string): Promise<PartitionIndex[]> {
  const { rows } = await db.query<Row>(
    `SELECT c.relname AS name, pg_get_indexdef(i.indexrelid) AS def, i.indisunique AS is_unique, con.conname AS constraint_name, con.contype AS constraint_type
       FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
       LEFT JOIN pg_constraint con ON con.conindid = i.indexrelid AND con.conrelid = i.indrelid AND con.contype IN ('p', 'u')
      WHERE i.indrelid = $1::regclass ORDER BY c.relname`,
    [table],
  );
  return rows.map((r) => {
    const def = String(r['def']);
    const constraint = r['constraint_name'] === null || r['constraint_name'] === undefined ? null : { name: String(r['constraint_name']), kind: r['constraint_type'] === 'p' ? ('PRIMARY KEY' as const) : ('UNIQUE' as const) };
    return { name: String(r['name']), using: def.slice(def.indexOf(' USING ')), unique: r['is_unique'] === true, constraint };
  });
}

/** `ALTER TABLE … ADD CONSTRAINT` texts of the table's foreign keys. */
async function foreignKeys(db: SqlExecutor, table: string): Promise<Array<{ name: string; def: string }>> {
  const { rows } = await db.query<Row>(`SELECT conname AS name, pg_get_constraintdef(oid) AS def FROM pg_constraint WHERE conrelid = $1::regclass AND contype = 'f' ORDER BY conname`, [table]);
  return rows.map((r) => ({ name: String(r['name']), def: String(r['def']) }));
}

/** The payment table's column list, so copies never depend on a partition's column order. */
async function paymentColumns(db: SqlExecutor): Promise<string> {
  const { rows } = await db.query<Row>(
    `SELECT string_agg(quote_ident(attname), ', ' ORDER BY attnum) AS columns FROM pg_attribute WHERE attrelid = 'x402_payments'::regclass AND attnum > 0 AND NOT attisdropped`,
  );
  return String(rows[0]?.['columns']);
}

const quote = (identifier: string) => `"${identifier.replaceAll('"', '""')}"`;

/** Whether a table of that name exists. */
async function tableExists(db: SqlExecutor, name: string): Promise<boolean> {
  const { rows } = await db.query<Row>('SELECT to_regclass($1) IS NOT NULL AS present', [name]);
  return rows[0]?.['present'] === true;
}

/**
 * Removes what an unfinished compaction of `name` left: its copy, then its triggers and change
 * log. Dropping a trigger needs the partition to itself: while a reader holds the partition past
 * `lockTimeoutMs` the triggers stay (they only log ids) and the next compaction of the day
 * removes them first.
 */
async function abandon(driver: SqlDriver, name: string, lockTimeoutMs: number): Promise<void> {
  await driver.query(`DROP TABLE IF EXISTS ${quote(workNames(name).copy)}`);
  await driver.transaction(async (tx) => {
    await boundLockWaits(tx, lockTimeoutMs);
    if (await tableExists(tx, name)) {
      await tx.query(`DROP TRIGGER IF EXISTS x402_compaction_changes ON ${quote(name)}`);
      await tx.query(`DROP TRIGGER IF EXISTS x402_compaction_truncate ON ${quote(name)}`);
    }
    await tx.query(`DELETE FROM ${COMPACTION_CHANGES} WHERE partition_name = $1`, [name]);
  });
}

/** Steps 1-3 of the file comment: returns the rows copied. */
async function copyInKeyOrder(driver: SqlDriver, name: string, day: string, lockTimeoutMs: number, options: CompactionOptions): Promise<number> {
  const table = quotedPartition(name);
  const { copy, bounds, index } = workNames(name);
  await driver.transaction(async (tx) => {
    // Waits for the day's writers in flight, and makes new ones wait, for no longer than this.
    await boundLockWaits(tx, lockTimeoutMs);
    await tx.query(`CREATE TRIGGER x402_compaction_changes AFTER INSERT OR UPDATE OR DELETE ON ${table} FOR EACH ROW EXECUTE FUNCTION x402_log_compaction_change()`);
    await tx.query(`CREATE TRIGGER x402_compaction_truncate AFTER TRUNCATE ON ${table} FOR EACH STATEMENT EXECUTE FUNCTION x402_log_compaction_change()`);
  });
  await options.onStep?.('logging', name);
  const keys = await foreignKeys(driver, name);
  const copied = await longTransaction(driver, async (tx) => {
    // Memory for the sort and the index builds of one day (the server's defaults spill to disk).
    await tx.query(`SET LOCAL work_mem = '64MB'`);
    await tx.query(`SET LOCAL maintenance_work_mem = '256MB'`);
    const columns = await paymentColumns(tx);
    await tx.query(`CREATE TABLE ${quote(copy)} (LIKE x402_payments INCLUDING DEFAULTS INCLUDING CONSTRAINTS)`);
    const { rowCount } = await tx.query(`INSERT INTO ${quote(copy)} (${columns}) SELECT ${columns} FROM ${table} ORDER BY ${ORDER}`);
    const indexes = await partitionIndexes(tx, name);
    for (const [i, ix] of indexes.entries()) {
      await tx.query(`CREATE ${ix.unique ? 'UNIQUE ' : ''}INDEX ${quote(index(i))} ON ${quote(copy)}${ix.using}`);
      // ATTACH only takes an index for the parent's primary key if a constraint of the same kind uses it.
      if (ix.constraint !== null) await tx.query(`ALTER TABLE ${quote(copy)} ADD CONSTRAINT ${quote(index(i))} ${ix.constraint.kind} USING INDEX ${quote(index(i))}`);
    }
    const [from, to] = dayBounds(day);
    await tx.query(`ALTER TABLE ${quote(copy)} ADD CONSTRAINT ${quote(bounds)} CHECK (payment_timestamp >= '${from}' AND payment_timestamp < '${to}')`);
    for (const key of keys) await tx.query(`ALTER TABLE ${quote(copy)} ADD CONSTRAINT ${quote(key.name)} ${key.def} NOT VALID`);
    return rowCount;
  });
  await options.onStep?.('copied', name);
  for (const key of keys) await longTransaction(driver, (tx) => tx.query(`ALTER TABLE ${quote(copy)} VALIDATE CONSTRAINT ${quote(key.name)}`));
  await options.onStep?.('validated', name);
  return copied;
}

/** Step 4 of the file comment, one attempt: returns the rows copied again. */
async function swap(tx: SqlExecutor, name: string, day: string, copied: number, lockTimeoutMs: number): Promise<{ changed: number; payments: number }> {
  const table = quotedPartition(name);
  const { copy, bounds } = workNames(name);
  await boundLockWaits(tx, lockTimeoutMs);
  await tx.query('LOCK TABLE x402_payments IN ACCESS EXCLUSIVE MODE');
  const { rows: truncated } = await tx.query<Row>(`SELECT 1 FROM ${COMPACTION_CHANGES} WHERE partition_name = $1 AND payment_id IS NULL LIMIT 1`, [name]);
  if (truncated.length > 0) throw new StorageError('CONFLICT', `${name} was truncated while it was being compacted`, { details: { partition: name } });
  const changedIds = `SELECT DISTINCT payment_id FROM ${COMPACTION_CHANGES} WHERE partition_name = $1`;
  const columns = await paymentColumns(tx);
  const { rowCount: stale } = await tx.query(`DELETE FROM ${quote(copy)} WHERE id IN (${changedIds})`, [name]);
  const { rowCount: changed } = await tx.query(`INSERT INTO ${quote(copy)} (${columns}) SELECT ${columns} FROM ${table} WHERE id IN (${changedIds})`, [name]);
  const oldIndexes = await partitionIndexes(tx, name);
  const newIndexes = await partitionIndexes(tx, copy);
  const [from, to] = dayBounds(day);
  await tx.query(`ALTER TABLE x402_payments DETACH PARTITION ${table}`);
  await tx.query(`DROP TABLE ${table}`);
  await tx.query(`ALTER TABLE ${quote(copy)} RENAME TO ${quote(name)}`);
  await tx.query(`ALTER TABLE x402_payments ATTACH PARTITION ${table} FOR VALUES FROM ('${from}') TO ('${to}')`);
  await tx.query(`ALTER TABLE ${table} DROP CONSTRAINT ${quote(bounds)}`);
  // The copy's indexes were built in the same order as the partition's (by name), so index i of
  // one is index i of the other; they take the old names back.
  for (const [i, ix] of newIndexes.entries()) {
    const old = oldIndexes[i];
    if (old === undefined) continue;
    if (ix.constraint !== null && old.constraint !== null) await tx.query(`ALTER TABLE ${table} RENAME CONSTRAINT ${quote(ix.constraint.name)} TO ${quote(old.constraint.name)}`);
    else await tx.query(`ALTER INDEX ${quote(ix.name)} RENAME TO ${quote(old.name)}`);
  }
  await tx.query(`DELETE FROM ${COMPACTION_CHANGES} WHERE partition_name = $1`, [name]);
  const payments = copied - stale + changed;
  await tx.query(
    `INSERT INTO ${COMPACTIONS} (partition_name, compacted_at, payments) VALUES ($1, now(), $2)
     ON CONFLICT (partition_name) DO UPDATE SET compacted_at = EXCLUDED.compacted_at, payments = EXCLUDED.payments`,
    [name, payments],
  );
  return { changed, payments };
}

/** Compacts one partition whose name {@link compactPartitions} has checked. */
async function compactOne(driver: SqlDriver, name: string, options: CompactionOptions): Promise<PartitionCompaction> {
  const day = partitionDay(name) as string;
  if (!(await tableExists(driver, name))) throw new StorageError('NOT_FOUND', `payment partition ${name} does not exist`, { details: { partition: name } });
  const { attempts, lockTimeoutMs } = lockRetryOptions(options);
  await abandon(driver, name, lockTimeoutMs);
  try {
    const copied = await copyInKeyOrder(driver, name, day, lockTimeoutMs, options);
    const done = await withLockRetries(attempts, `swap the compacted copy of ${name} in`, () => driver.transaction((tx) => swap(tx, name, day, copied, lockTimeoutMs)));
    // A new table has no statistics until autovacuum comes by (which it will, should this fail).
    await longTransaction(driver, (tx) => tx.query(`ANALYZE ${quotedPartition(name)}`)).catch(() => undefined);
    return { partition: name, day, ...done };
  } catch (error) {
    await abandon(driver, name, lockTimeoutMs).catch(() => undefined);
    throw mapDriverError(error, `compact payment partition ${name}`);
  }
}

/**
 * Compacts the named day partitions, in order, one process at a time per database (a second
 * caller fails with `CONFLICT`). Each must be a day before today (UTC): a day still being written
 * would be copied again mostly at the swap. See the file comment for the steps and guarantees.
 */
export async function compactPartitions(driver: SqlDriver, names: readonly string[], options: CompactionOptions = {}, now = new Date()): Promise<PartitionCompaction[]> {
  const today = utcDay(now);
  for (const name of names) {
    const day = partitionDay(name);
    if (day === undefined) throw validationError('partition', `${name} is not a daily payment partition`);
    if (day >= today) throw validationError('partition', `${name} holds ${day}, which is not over yet (UTC)`);
  }
  lockRetryOptions(options);
  if (names.length === 0) return [];
  const leadership = await driver.tryLeadership(LEADERSHIP);
  if (leadership === null) throw heldElsewhereError('compacting payment partitions');
  try {
    const done: PartitionCompaction[] = [];
    for (const name of names) {
      if (!leadership.isHeld()) throw new StorageError('CONFLICT', 'the compaction lock was lost', { retryable: true });
      done.push(await compactOne(driver, name, options));
    }
    return done;
  } finally {
    await leadership.release();
  }
}

/**
 * The day partitions before the UTC day `keepDays` days before `now` that hold payments and were
 * never compacted, oldest first.
 */
export async function uncompactedPartitions(db: SqlExecutor, keepDays: number, now = new Date()): Promise<string[]> {
  if (!Number.isSafeInteger(keepDays) || keepDays < 1 || keepDays > 3660) throw validationError('keepDays', 'must be an integer from 1 to 3660');
  try {
    const { rows } = await db.query<Row>(
      `SELECT c.relname AS name FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
        WHERE i.inhparent = 'x402_payments'::regclass AND c.relname ~ '^x402_payments_p[0-9]{8}$' AND c.relname < $1
          AND NOT EXISTS (SELECT 1 FROM ${COMPACTIONS} k WHERE k.partition_name = c.relname)
        ORDER BY c.relname`,
      [partitionName(utcDay(now, -keepDays))],
    );
    const names = rows.map((r) => String(r['name']));
    const nonEmpty: string[] = [];
    for (const name of names) {
      const { rows: found } = await db.query<Row>(`SELECT EXISTS (SELECT 1 FROM ${quotedPartition(name)}) AS has_rows`);
      if (found[0]?.['has_rows'] === true) nonEmpty.push(name);
    }
    return nonEmpty;
  } catch (error) {
    throw mapDriverError(error, 'list payment partitions to compact');
  }
}

/** {@link compactPartitions} of every {@link uncompactedPartitions} partition. */
export async function compactClosedPartitions(driver: SqlDriver, keepDays: number, options: CompactionOptions = {}, now = new Date()): Promise<PartitionCompaction[]> {
  return compactPartitions(driver, await uncompactedPartitions(driver, keepDays, now), options, now);
}
