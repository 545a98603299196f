/**
 * Bounded lock waits for storage upkeep. Some upkeep steps need a lock that payments or their
 * reads also take: the compaction's swap and retention's drop need `x402_payments` to itself,
 * attaching a new day needs the DEFAULT partition to itself, the claims move's barrier needs the
 * hot claims without writers. While such a request waits in PostgreSQL's lock queue, every later
 * statement that needs a conflicting lock waits behind it; behind a long transaction (a report, a
 * backup's `pg_dump`, an import) that would hold them for as long as it runs. So each attempt sets
 * its own `lock_timeout` (whatever the pool's is, which may be none) and the step is tried again a
 * few times, letting the queue drain in between.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { validationError } from '../../contract/errors.js';
import type { SqlDriver, SqlExecutor } from './driver.js';
import { mapDriverError } from './map-driver-error.js';

/** How long one attempt waits for a lock, and how many attempts are made. */
export interface LockRetryOptions {
  /** Longest wait for any one lock in an attempt (default 2000 ms). */
  lockTimeoutMs?: number;
  /** Attempts before giving up with `TIMEOUT` (default 5). */
  attempts?: number;
}

/**
 * The options, checked (a bad value is a `VALIDATION` error), with `defaults` for those not given
 * (2000 ms and 5 attempts unless the step says otherwise).
 */
export function lockRetryOptions(options: LockRetryOptions, defaults: Required<LockRetryOptions> = { lockTimeoutMs: 2_000, attempts: 5 }): Required<LockRetryOptions> {
  if (options.attempts !== undefined && !(Number.isSafeInteger(options.attempts) && options.attempts >= 1)) throw validationError('attempts', 'must be a positive integer');
  if (options.lockTimeoutMs !== undefined && !(options.lockTimeoutMs >= 1)) throw validationError('lockTimeoutMs', 'must be at least 1');
  return { lockTimeoutMs: Math.ceil(options.lockTimeoutMs ?? defaults.lockTimeoutMs), attempts: options.attempts ?? defaults.attempts };
}

/** Bounds every lock wait of the rest of `tx`'s transaction. */
export async function boundLockWaits(tx: SqlExecutor, lockTimeoutMs: number): Promise<void> {
  await tx.query(`SET LOCAL lock_timeout = ${Math.ceil(lockTimeoutMs)}`);
}

/**
 * Runs `attempt` (one transaction that bounds its lock waits) until it succeeds, fails otherwise
 * than by a lock timeout (`TIMEOUT` with reason `lock_timeout`), or has been tried `attempts` times; waits 200 ms times the attempt number
 * between attempts. Errors come back as `StorageError`s, described as `what`.
 */
export async function withLockRetries<T>(attempts: number, what: string, attempt: () => Promise<T>): Promise<T> {
  for (let n = 1; ; n++) {
    try {
      return await attempt();
    } catch (error) {
      const mapped = mapDriverError(error, what);
      // Only a lock wait is worth another attempt: a statement that ran out of time, or was
      // cancelled, would do the same again.
      if (mapped.reason !== 'lock_timeout' || n >= attempts) throw mapped;
      await sleep(200 * n);
    }
  }
}

/**
 * `work` in a transaction whose lock waits are bounded by `lockTimeoutMs`, tried `attempts` times
 * ({@link withLockRetries}): for a short upkeep step whose only long wait is for a lock.
 */
export function inLockBoundTransaction<T>(driver: SqlDriver, { lockTimeoutMs, attempts }: Required<LockRetryOptions>, what: string, work: (tx: SqlExecutor) => Promise<T>): Promise<T> {
  return withLockRetries(attempts, what, () =>
    driver.transaction(async (tx) => {
      await boundLockWaits(tx, lockTimeoutMs);
      return work(tx);
    }),
  );
}
