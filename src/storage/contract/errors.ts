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
}

/** A storage failure with a stable {@link StorageErrorCode}. */
export class StorageError extends Error {
  override readonly name = 'StorageError';
  readonly code: StorageErrorCode;
  readonly retryable: boolean;
  readonly field: string | undefined;
  readonly details: Record<string, unknown> | undefined;

  constructor(code: StorageErrorCode, message: string, options: StorageErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.retryable = options.retryable ?? RETRYABLE_BY_DEFAULT.has(code);
    this.field = options.field;
    this.details = options.details;
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

/** The error every call gets outside connect()/disconnect(). */
export function notConnectedError(): StorageError {
  return new StorageError('NOT_CONNECTED', 'database is not connected; call connect() first');
}
