/**
 * Retention of payment partitions: day partitions wholly older than N days whose batches are all
 * settled and reconciled (and whose late payments are all carried) are exported to a snapshot
 * (the usual format, so `import` brings them back), the file is verified, and only then are the
 * partitions detached and dropped, with their days' batches, in one transaction that first locks
 * them and checks that nothing changed since the export. Settlement hashes are kept, so a replay
 * of an archived payment is still refused. Without `execute` nothing is written (a plan only).
 *
 * The audits and the lookup of what the days refer to scan whole days, so they run without the
 * pool's statement timeout (long-transaction.ts): an audit took 1 s for a day of 2 M payments
 * here, so a production day (86 M payments at 1,000 leases paying every second) needs about
 * 45 s, more than the 30 s the pool allows a statement.
 *
 * The detach needs the payment table to itself, and waiting for it in the lock queue would hold
 * every payment behind it (behind a backup's `pg_dump`, for as long as the dump runs). So the drop
 * waits at most `lockTimeoutMs` for any lock and is tried again up to `attempts` times
 * (lock-retries.ts); when it gives up, nothing was dropped and the snapshot it wrote is removed.
 */
import { rm } from 'node:fs/promises';
import { StorageError, validationError } from '../storage/contract/errors.js';
import { DAY_MS } from '../storage/core/time.js';
import type { SqlDriver, SqlExecutor } from '../storage/backends/sql/driver.js';
import { boundLockWaits, lockRetryOptions, withLockRetries, type LockRetryOptions } from '../storage/backends/sql/lock-retries.js';
import { longTransaction } from '../storage/backends/sql/long-transaction.js';
import { auditPartition, dropPartition, listPaymentPartitions, refusals, type PartitionAudit } from '../storage/backends/sql/partitions.js';
import { PartitionRecords } from '../storage/backends/sql/retention-reads.js';
import type { SnapshotTrailer } from './snapshot-format.js';
import { verifySnapshot } from './snapshot-reader.js';
import { SnapshotWriter } from './snapshot-writer.js';

/**
 * Options of {@link runRetention}. `lockTimeoutMs` (default 2000 ms) bounds each lock wait of the
 * drop, which is tried up to `attempts` times (default 5) before it fails with `TIMEOUT`.
 */
export interface RetentionOptions extends LockRetryOptions {
  /** Partitions whose whole day ended at least this many days before `now` are candidates (>= 1). */
  olderThanDays: number;
  /** Export, verify and drop; without it only the plan is made. */
  execute?: boolean;
  /** Snapshot file to write (required with `execute`; must not exist). */
  snapshot?: string;
  /** The clock (default now). */
  now?: Date;
}

/** One candidate partition and the verdict on it. */
export interface RetentionCandidate extends PartitionAudit {
  /** Why it is kept; empty when it is archived (or would be, in a dry run). */
  refused: string[];
}

/** What {@link runRetention} did or would do. */
export interface RetentionReport {
  executed: boolean;
  /** Day partitions ending on or before this instant were considered. */
  cutoff: Date;
  candidates: RetentionCandidate[];
  /** Partitions dropped (executed) or that would be (dry run). */
  archived: string[];
  /** The snapshot's trailer, when one was written. */
  snapshot?: { path: string; trailer: SnapshotTrailer };
}

const PAGE = 5_000;

/** Plans, and with `execute` performs, the retention of old payment partitions (see the module comment). */
export async function runRetention(driver: SqlDriver, options: RetentionOptions): Promise<RetentionReport> {
  const { olderThanDays } = options;
  if (!Number.isSafeInteger(olderThanDays) || olderThanDays < 1) throw validationError('olderThanDays', 'must be a positive integer');
  const { lockTimeoutMs, attempts } = lockRetryOptions(options);
  if (options.execute && !options.snapshot) throw validationError('snapshot', 'is required to execute retention: the partitions are exported there first');
  const now = options.now ?? new Date();
  const today = Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate());
  const cutoff = new Date(today - olderThanDays * DAY_MS);

  const partitions = (await listPaymentPartitions(driver)).filter((p) => p.to !== null && p.to.getTime() <= cutoff.getTime());
  const candidates: RetentionCandidate[] = [];
  for (const p of partitions) {
    const audit = await longTransaction(driver, (tx) => auditPartition(tx, p.name));
    candidates.push({ ...audit, refused: refusals(audit) });
  }
  const chosen = candidates.filter((c) => c.refused.length === 0);
  const report: RetentionReport = { executed: false, cutoff, candidates, archived: chosen.map((c) => c.name) };
  if (!options.execute || chosen.length === 0) return report;

  const path = options.snapshot as string;
  const trailer = await exportPartitions(driver, chosen, path);
  await checkSnapshot(path, chosen);
  // Set once the last statement has run: an error after it is the commit's, whose outcome is not
  // known, so the snapshot is kept; any error before it rolled everything back.
  let committing = false;
  const drop = async (tx: SqlExecutor) => {
    await boundLockWaits(tx, lockTimeoutMs);
    for (const before of chosen) {
      const now = await auditPartition(tx, before.name, true);
      if (refusals(now).length > 0 || now.payments !== before.payments || now.amountSum !== before.amountSum || now.batches !== before.batches || now.batchTotal !== before.batchTotal) {
        throw new StorageError('CONFLICT', `partition ${before.name} changed after it was exported; nothing was dropped, run retention again`, {
          retryable: true,
          details: { partition: before.name },
        });
      }
    }
    for (const c of chosen) await dropPartition(tx, c.name);
    committing = true;
  };
  try {
    await withLockRetries(attempts, 'drop the archived payment partitions', () => longTransaction(driver, drop));
  } catch (error) {
    // Nothing was dropped: the file holds days the store still has, and is not an archive.
    if (!committing) await rm(path, { force: true });
    throw error;
  }
  return { ...report, executed: true, snapshot: { path, trailer } };
}

async function exportPartitions(driver: SqlDriver, chosen: readonly RetentionCandidate[], path: string): Promise<SnapshotTrailer> {
  const names = chosen.map((c) => c.name);
  const records = new PartitionRecords(driver, names);
  let writer: SnapshotWriter;
  try {
    writer = await SnapshotWriter.create(path, driver.kind);
  } catch (error) {
    throw validationError('snapshot', `cannot create ${path}.partial: ${error instanceof Error ? error.message : String(error)}`);
  }
  try {
    // Which leases and assets the days refer to is a scan of the days.
    const [assets, leases] = await longTransaction(driver, async (tx) => {
      const referred = new PartitionRecords(tx, names);
      return [await referred.assets(), await referred.leases()] as const;
    });
    await writer.write('assets', assets);
    await writer.write('leases', leases);
    for await (const page of records.paymentPages(PAGE)) await writer.write('x402_payments', page);
    for await (const page of records.batchPages(PAGE)) await writer.write('x402_batches', page);
    return await writer.finish();
  } catch (error) {
    await writer.abort();
    throw error;
  }
}

/** Reads the written file back in full and checks it holds exactly what the audits counted. */
async function checkSnapshot(path: string, chosen: readonly RetentionCandidate[]): Promise<void> {
  const info = await verifySnapshot(path, { validate: true });
  const sum = (f: (c: RetentionCandidate) => bigint) => chosen.reduce((n, c) => n + f(c), 0n);
  const payments = info.tables.x402_payments;
  const batches = info.tables.x402_batches;
  const expected = {
    payments: chosen.reduce((n, c) => n + c.payments, 0),
    amount: sum((c) => c.amountSum),
    batches: chosen.reduce((n, c) => n + c.batches, 0),
    total: sum((c) => c.batchTotal),
  };
  if (payments.count !== expected.payments || payments.amountSum !== expected.amount || batches.count !== expected.batches || batches.amountSum !== expected.total) {
    await rm(path, { force: true });
    throw new StorageError('CONFLICT', 'the retention snapshot does not hold what the partitions held (they changed during the export); nothing was dropped', {
      retryable: true,
      details: { expected: { ...expected, amount: expected.amount.toString(), total: expected.total.toString() } },
    });
  }
}
