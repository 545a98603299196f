/**
 * Bounded waits for the payment table's ACCESS EXCLUSIVE lock. Maintenance that detaches a
 * partition (the compaction's swap, retention's drop) needs `x402_payments` to itself, and while
 * it waits in PostgreSQL's lock queue every later payment write and read waits behind it. Behind a
 * long reader (a report, a backup's `pg_dump`) that would hold the payment path for as long as the
 * reader runs, so each attempt sets `lock_timeout` and the whole step is tried again a few times,
 * letting the queue drain in between.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { validationError } from '../../contract/errors.js';
import type { SqlExecutor } from './driver.js';
import { mapDriverError } from './map-driver-error.js';

/** How long one attempt waits for a lock, and how many attempts are made. */
export interface LockRetryOptions {
  /** Longest wait for any one lock in an attempt (default 2000 ms). */
  lockTimeoutMs?: number;
  /** Attempts before giving up with `TIMEOUT` (default 5). */
  attempts?: number;
}

/** The options with their defaults, checked: a bad value is a `VALIDATION` error. */
export function lockRetryOptions(options: LockRetryOptions): Required<LockRetryOptions> {
  if (options.attempts !== undefined && !(Number.isSafeInteger(options.attempts) && options.attempts >= 1)) throw validationError('attempts', 'must be a positive integer');
  if (options.lockTimeoutMs !== undefined && !(options.lockTimeoutMs >= 1)) throw validationError('lockTimeoutMs', 'must be at least 1');
  return { lockTimeoutMs: Math.ceil(options.lockTimeoutMs ?? 2_000), attempts: options.attempts ?? 5 };
}

/** Bounds every lock wait of the rest of `tx`'s transaction. */
export async function boundLockWaits(tx: SqlExecutor, lockTimeoutMs: number): Promise<void> {
  await tx.query(`SET LOCAL lock_timeout = ${Math.ceil(lockTimeoutMs)}`);
}

/**
 * Runs `attempt` (one transaction that bounds its lock waits) until it succeeds, fails otherwise
 * than by a lock timeout, or has been tried `attempts` times; waits 200 ms times the attempt number
 * between attempts. Errors come back as `StorageError`s, described as `what`.
 */
export async function withLockRetries<T>(attempts: number, what: string, attempt: () => Promise<T>): Promise<T> {
  for (let n = 1; ; n++) {
    try {
      return await attempt();
    } catch (error) {
      const mapped = mapDriverError(error, what);
      if (mapped.code !== 'TIMEOUT' || n >= attempts) throw mapped;
      await sleep(200 * n);
    }
  }
}
