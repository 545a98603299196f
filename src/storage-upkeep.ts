/**
 * Storage upkeep of SQL stores, at start and every hour after: payment partitions are made
 * {@link PARTITION_DAYS_AHEAD} days ahead, so a payment never waits for one (the DEFAULT partition
 * catches the rest), settlement-hash claims older than the store's hot window move to the cold
 * claims table, and day partitions that are over are compacted in lease order (their old pages read
 * fast; PAYMENT_COMPACTION=off leaves them, e.g. on Citus: docs/scale.md), and the reconcile
 * results of days that are over are kept (the route's check then reads only today).
 *
 * A failure is logged and retried at the next tick: payments still land (in the DEFAULT partition),
 * claims that stay hot are checked all the same, an uncompacted day only reads slower, and a day not
 * kept is read by the next check. A job another process of the same database is doing (several
 * service instances share one database: the claims move and the compaction run in one of them at a
 * time) is not a failure, and is logged at info. A run still going when the next tick comes (a long
 * compaction) is not started twice.
 */
import type { Logger } from 'pino';
import { describeError } from './error-text.js';
import { isHeldElsewhere } from './storage/contract/errors.js';
import type { SchemaManager } from './storage/contract/schema.js';

/** Days of payment partitions kept ready ahead of today. */
export const PARTITION_DAYS_AHEAD = 7;
/** How often storage upkeep runs. */
export const STORAGE_UPKEEP_INTERVAL_MS = 3_600_000;

/** The upkeep started by {@link keepStorageUpkeep}. */
export interface StorageUpkeep {
  /** Settles when the run made at start is over (its failures logged, never thrown). */
  firstRun: Promise<void>;
  /** Stops the timer (a run in progress finishes). */
  stop(): void;
}

/**
 * Runs the upkeep (see the module comment) now and every {@link STORAGE_UPKEEP_INTERVAL_MS}.
 * `compactPayments` false leaves the compaction out.
 */
export function keepStorageUpkeep(schema: SchemaManager, logger: Logger, compactPayments: boolean): StorageUpkeep {
  const ensure = schema.ensurePartitions?.bind(schema);
  const moveClaims = schema.moveClaimsToCold?.bind(schema);
  const compact = compactPayments ? schema.compactPartitions?.bind(schema) : undefined;
  const keepReconcile = schema.keepReconcileResults?.bind(schema);
  if (!ensure && !moveClaims && !compact && !keepReconcile) return { firstRun: Promise.resolve(), stop: () => undefined };
  // `doing` names the job as its log lines do: "<doing> failed".
  const failed = (doing: string) => (error: unknown) => {
    if (isHeldElsewhere(error)) logger.info({ reason: describeError(error) }, `${doing}: left to the process that holds its lock`);
    else logger.error({ reason: describeError(error) }, `${doing} failed`);
  };
  let running = false;
  const run = async () => {
    if (running) return;
    running = true;
    try {
      await ensure?.(PARTITION_DAYS_AHEAD).then((created) => created.length > 0 && logger.info({ created }, 'payment partitions created'), failed('creating payment partitions'));
      await moveClaims?.().then(
        (moved) => moved > 0 && logger.info({ moved }, 'settlement-hash claims moved to the cold table'),
        failed('moving settlement-hash claims to the cold table'),
      );
      await compact?.().then((done) => done.length > 0 && logger.info({ compacted: done }, 'payment partitions compacted in lease order'), failed('compacting payment partitions'));
      // After the compaction, whose swap makes a day's kept result stale: each day is read here
      // once (and once more after its compaction), not in a reconcile request.
      await keepReconcile?.().then((days) => days.length > 0 && logger.info({ days }, 'reconcile results kept for days that are over'), failed('keeping reconcile results'));
    } finally {
      running = false;
    }
  };
  const firstRun = run();
  const timer = setInterval(() => void run(), STORAGE_UPKEEP_INTERVAL_MS);
  timer.unref();
  return { firstRun, stop: () => clearInterval(timer) };
}
