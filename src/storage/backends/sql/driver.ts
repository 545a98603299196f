/**
 * The connection layer under the shared SQL implementation. PostgreSQL (pg Pool) and PGlite each
 * provide one; everything above speaks only this interface, so both run the same SQL.
 */
import type { Leadership, PoolStats } from '../../contract/database.js';

export type { PoolStats };

/** The result of one statement. */
export interface SqlResult<R> {
  rows: R[];
  rowCount: number;
}

/** How one statement is run. */
export interface QueryOptions {
  /**
   * Prepare the statement under this name once per connection and reuse it (PostgreSQL skips
   * parsing and planning it again). One name must always go with the same text. Drivers without
   * named statements ignore it.
   */
  name?: string;
}

/** Something that runs parameterized statements: the pool, a transaction or a pinned session. */
export interface SqlExecutor {
  query<R = Record<string, unknown>>(text: string, params?: readonly unknown[], options?: QueryOptions): Promise<SqlResult<R>>;
}

/** A transaction's executor that can also stream rows in with COPY. */
export interface BulkExecutor extends SqlExecutor {
  /**
   * `COPY table (columns) FROM STDIN` with `rows` in COPY's text format (one line per row, UTF-8):
   * one buffer, or buffers sent as they come (each ending at a row's end), in one COPY.
   */
  copyIn(table: string, columns: readonly string[], rows: Uint8Array | AsyncIterable<Uint8Array>): Promise<void>;
}

/** A connection layer. Errors it throws are driver errors; callers map them with `mapDriverError`. */
export interface SqlDriver extends SqlExecutor {
  /** "postgres" or "pglite". */
  readonly kind: string;
  /** Opens the connection (checks the server answers). */
  open(): Promise<void>;
  /** Closes every connection; idempotent. */
  close(): Promise<void>;
  /** Runs `fn` in one transaction on one connection: COMMIT on success, ROLLBACK on throw. */
  transaction<T>(fn: (tx: SqlExecutor) => Promise<T>): Promise<T>;
  /** Like {@link transaction}, with COPY; absent when the driver has no COPY (PGlite). */
  bulkTransaction?<T>(fn: (tx: BulkExecutor) => Promise<T>): Promise<T>;
  /**
   * Runs `fn` holding the migration lock, so concurrent migrators apply each file once.
   * PostgreSQL: a session advisory lock (`pg_try_advisory_lock` polled until `timeoutMs`).
   */
  withMigrationLock<T>(timeoutMs: number, fn: (session: SqlExecutor) => Promise<T>): Promise<T>;
  /** Current pool statistics. */
  poolStats(): PoolStats;
  /**
   * Tries to take the named leadership without waiting: PostgreSQL holds a session advisory lock
   * on a dedicated connection (so the server frees it the moment the holder's process dies);
   * PGlite, owned by one process, grants it within the process.
   */
  tryLeadership(name: string): Promise<Leadership | null>;
}
