/**
 * The one error type of the storage layer. Callers switch on `code`, which is stable; `retryable`
 * says whether the same call may succeed later; the driver's error, if any, is the `cause`.
 */

/** Stable error codes (DESIGN.md, "Errors"). */
export const STORAGE_ERROR_CODES = [
  'VALIDATION',
  'DUPLICATE',
  'REFERENCE_NOT_FOUND',
  'NOT_FOUND',
  'CONFLICT',
  'NOT_CONNECTED',
  'CONNECTION',
  'TIMEOUT',
  'INTERNAL',
] as const;
export type StorageErrorCode = (typeof STORAGE_ERROR_CODES)[number];

/**
 * Why a `TIMEOUT` happened, so a caller (and an operator reading the error) can tell a locked
 * table from a full pool from a runaway query; none of them means "cannot connect" (that is
 * `CONNECTION`).
 *
 * - `lock_timeout`: a row or table lock was held longer than the session's `lock_timeout`.
 * - `statement_timeout`: the statement ran longer than the session's `statement_timeout`.
 * - `pool_exhausted`: every pooled connection was busy for the whole bounded pool wait.
 * - `query_canceled`: the server canceled the statement for another reason (an operator).
 * - `migration_lock`: another migrator held the migration lock past the wait.
 */
export const STORAGE_TIMEOUT_REASONS = ['lock_timeout', 'statement_timeout', 'pool_exhausted', 'query_canceled', 'migration_lock'] as const;
/** One of {@link STORAGE_TIMEOUT_REASONS}. */
export type StorageTimeoutReason = (typeof STORAGE_TIMEOUT_REASONS)[number];

const RETRYABLE_BY_DEFAULT: ReadonlySet<StorageErrorCode> = new Set(['CONNECTION', 'TIMEOUT']);

/** Options of a {@link StorageError}. */
export interface StorageErrorOptions {
  /** The offending input field, for `VALIDATION` (a dotted path such as "metadata.size"). */
  field?: string;
  /** Overrides the code's default retryability. */
  retryable?: boolean;
  /** The underlying driver error. */
  cause?: unknown;
  /** Extra facts safe to show a caller (never secrets). */
  details?: Record<string, unknown>;
  /** For `TIMEOUT`: what ran out of time (also copied into `details.reason`). */
  reason?: StorageTimeoutReason;
}

/** A storage failure with a stable {@link StorageErrorCode}. */
export class StorageError extends Error {
  override readonly name = 'StorageError';
  readonly code: StorageErrorCode;
  readonly retryable: boolean;
  readonly field: string | undefined;
  readonly details: Record<string, unknown> | undefined;
  /** For `TIMEOUT`: what ran out of time; undefined for every other code. */
  readonly reason: StorageTimeoutReason | undefined;

  constructor(code: StorageErrorCode, message: string, options: StorageErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.retryable = options.retryable ?? RETRYABLE_BY_DEFAULT.has(code);
    this.field = options.field;
    this.reason = options.reason;
    this.details = options.reason === undefined ? options.details : { ...options.details, reason: options.reason };
  }
}

/** True when `error` is a {@link StorageError}, optionally with the given code. */
export function isStorageError(error: unknown, code?: StorageErrorCode): error is StorageError {
  return error instanceof StorageError && (code === undefined || error.code === code);
}

/** A `VALIDATION` error naming the field. */
export function validationError(field: string, reason: string): StorageError {
  return new StorageError('VALIDATION', `${field}: ${reason}`, { field, details: { field, reason } });
}

/**
 * The `CONFLICT` of a maintenance job (the claims move, the compaction) whose lock another
 * process holds: nothing failed, that process is doing the job. `doing` completes "another process
 * is ...". Marked by `details.heldElsewhere` ({@link isHeldElsewhere}).
 */
export function heldElsewhereError(doing: string): StorageError {
  return new StorageError('CONFLICT', `another process is ${doing}`, { retryable: true, details: { heldElsewhere: true } });
}

/** True for a {@link heldElsewhereError}. */
export function isHeldElsewhere(error: unknown): boolean {
  return isStorageError(error, 'CONFLICT') && error.details?.['heldElsewhere'] === true;
}

/** The error every call gets outside connect()/disconnect(). */
export function notConnectedError(): StorageError {
  return new StorageError('NOT_CONNECTED', 'database is not connected; call connect() first');
}
