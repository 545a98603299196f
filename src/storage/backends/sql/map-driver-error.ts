/**
 * The one place where errors of `pg`, PGlite and the network become {@link StorageError}s
 * (DESIGN.md, "Errors"). Both SQL drivers report PostgreSQL errors with the server's SQLSTATE in
 * `code`, so one table serves both.
 *
 * | Driver error                                                        | Code                | Retryable |
 * |---------------------------------------------------------------------|---------------------|-----------|
 * | 23505 unique_violation                                              | DUPLICATE           | no        |
 * | 23503 foreign_key_violation                                         | REFERENCE_NOT_FOUND | no        |
 * | 23514, 23502, 22P02, 22003, 22001, 22007, 22008                     | VALIDATION          | no        |
 * | 55P03 lock_not_available (lock_timeout)                             | TIMEOUT lock_timeout | yes      |
 * | 57014 query_canceled by statement_timeout                           | TIMEOUT statement_timeout | yes |
 * | 57014 query_canceled otherwise (pg_cancel_backend)                  | TIMEOUT query_canceled | yes    |
 * | 40001 serialization_failure, 40P01 deadlock_detected                | CONFLICT            | yes       |
 * | ECONNREFUSED, ENOTFOUND, ECONNRESET, ETIMEDOUT, EHOSTUNREACH, ...,  | CONNECTION          | yes       |
 * | 57P01-57P03, class 08, 53300, "Connection terminated...", connect   |                     |           |
 * | timeouts ("timeout exceeded when trying to connect")                |                     |           |
 * | 28000/28P01 (authentication), 3D000 (database does not exist),      | CONNECTION          | no        |
 * | TLS failures (certificate not verifiable, server without TLS)       |                     |           |
 * | a StorageError                                                      | unchanged           |           |
 * | anything else                                                       | INTERNAL            | no        |
 *
 * A connect timeout is CONNECTION, not TIMEOUT: the server was never reached, so the caller's
 * remedy is the same as for a refused connection (check the server, retry later), while TIMEOUT
 * means a statement or lock took too long on a live server. A TIMEOUT always carries its
 * `reason`; a full pool (`pool_exhausted`) is told apart from a connect timeout by the PostgreSQL
 * driver, which knows whether the call waited for a busy pool or for a new connection.
 */
import { StorageError, type StorageErrorCode, type StorageTimeoutReason } from '../../contract/errors.js';
import { scrubSecrets } from '../../../util/scrub-secrets.js';

const VALIDATION_STATES = new Set(['23514', '23502', '22P02', '22003', '22001', '22007', '22008']);
const CONFLICT_STATES = new Set(['40001', '40P01']);
// 57P0x: the server is shutting down or terminated us; 53300: too many connections right now.
const CONNECTION_STATES = new Set(['57P01', '57P02', '57P03', '53300']);
// Bad credentials or a missing database will not fix themselves by retrying.
const FATAL_CONNECTION_STATES = new Set(['28000', '28P01', '3D000']);
const CONNECTION_ERRNOS = new Set([
  'ECONNREFUSED',
  'ENOTFOUND',
  'ECONNRESET',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EAI_AGAIN',
  'EPIPE',
  'ECONNABORTED',
]);
// TLS failures (unverifiable certificate, server without TLS) are configuration problems.
const TLS_ERROR_CODES = new Set([
  'SELF_SIGNED_CERT_IN_CHAIN',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'CERT_HAS_EXPIRED',
  'CERT_NOT_YET_VALID',
]);
const TLS_MESSAGES = [/does not support SSL/i];
const CONNECTION_MESSAGES = [
  /connection terminated/i,
  /timeout exceeded when trying to connect/i,
  /not queryable/i,
  /server closed the connection unexpectedly/i,
];

/** Replaces the password of a PostgreSQL connection string with `***` (URL or keyword form). */
export function redactConnectionString(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password !== '') parsed.password = '***';
    for (const key of ['password', 'sslpassword']) {
      if (parsed.searchParams.has(key)) parsed.searchParams.set(key, '***');
    }
    return parsed.toString();
  } catch {
    return scrubSecrets(url);
  }
}

interface ErrorFacts {
  code: string | undefined;
  message: string;
  constraint: string | undefined;
  table: string | undefined;
  column: string | undefined;
}

function stringField(value: unknown, key: string): string | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const field = (value as Record<string, unknown>)[key];
  return typeof field === 'string' && field !== '' ? field : undefined;
}

function factsOf(error: unknown): ErrorFacts {
  let code = stringField(error, 'code');
  // Node reports a failed multi-address connect as an AggregateError whose parts carry the code.
  if (code === undefined && error instanceof AggregateError) {
    code = error.errors.map((e) => stringField(e, 'code')).find((c) => c !== undefined);
  }
  let message = error instanceof Error ? error.message : String(error);
  if (message === '' && error instanceof AggregateError) {
    message = error.errors.map((e) => (e instanceof Error ? e.message : String(e))).join('; ');
  }
  return {
    code,
    message: message === '' ? (code ?? 'unknown driver error') : message,
    constraint: stringField(error, 'constraint'),
    table: stringField(error, 'table'),
    column: stringField(error, 'column'),
  };
}

function classify(facts: ErrorFacts): { code: StorageErrorCode; retryable: boolean; reason?: StorageTimeoutReason } {
  const state = facts.code;
  if (state !== undefined) {
    if (state === '55P03') return { code: 'TIMEOUT', retryable: true, reason: 'lock_timeout' };
    if (state === '57014') {
      // The server's message is the only place that tells a statement timeout from a cancel.
      return { code: 'TIMEOUT', retryable: true, reason: /statement timeout/i.test(facts.message) ? 'statement_timeout' : 'query_canceled' };
    }
    if (state === '23505') return { code: 'DUPLICATE', retryable: false };
    if (state === '23503') return { code: 'REFERENCE_NOT_FOUND', retryable: false };
    if (VALIDATION_STATES.has(state)) return { code: 'VALIDATION', retryable: false };
    if (CONFLICT_STATES.has(state)) return { code: 'CONFLICT', retryable: true };
    if (FATAL_CONNECTION_STATES.has(state)) return { code: 'CONNECTION', retryable: false };
    if (CONNECTION_STATES.has(state) || state.startsWith('08') || CONNECTION_ERRNOS.has(state)) {
      return { code: 'CONNECTION', retryable: true };
    }
  }
  if ((state !== undefined && (TLS_ERROR_CODES.has(state) || state.startsWith('ERR_TLS_') || state.startsWith('ERR_SSL_'))) || TLS_MESSAGES.some((p) => p.test(facts.message))) {
    return { code: 'CONNECTION', retryable: false };
  }
  if (CONNECTION_MESSAGES.some((pattern) => pattern.test(facts.message))) {
    return { code: 'CONNECTION', retryable: true };
  }
  return { code: 'INTERNAL', retryable: false };
}

/**
 * Turns any error thrown by a driver into a {@link StorageError} (see the table above). The
 * driver error is kept as `cause`; the message is scrubbed of passwords and prefixed by
 * `context` (e.g. "saveAsset"). A StorageError is returned unchanged.
 */
export function mapDriverError(error: unknown, context?: string): StorageError {
  if (error instanceof StorageError) return error;
  const facts = factsOf(error);
  const { code, retryable, reason } = classify(facts);
  const details: Record<string, unknown> = {};
  if (facts.code !== undefined) details.driverCode = facts.code;
  if (facts.constraint !== undefined) details.constraint = facts.constraint;
  if (facts.table !== undefined) details.table = facts.table;
  if (facts.column !== undefined) details.column = facts.column;
  const message = scrubSecrets(context === undefined ? facts.message : `${context}: ${facts.message}`);
  return new StorageError(code, message, {
    cause: error,
    retryable,
    details,
    ...(reason === undefined ? {} : { reason }),
    ...(code === 'VALIDATION' && facts.column !== undefined ? { field: facts.column } : {}),
  });
}
