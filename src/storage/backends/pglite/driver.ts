/**
 * {@link SqlDriver} over PGlite, the embedded (WASM) PostgreSQL: the zero-setup backend. With
 * postgres-driver.ts, the only module that imports a database package.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { mkdir } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { PGlite, types, type Results, type Transaction } from '@electric-sql/pglite';
import { uuid_ossp } from '@electric-sql/pglite/contrib/uuid_ossp';
import type { Leadership } from '../../contract/chain.js';
import { StorageError, validationError } from '../../contract/errors.js';
import { LocalLeadership } from '../../core/local-leadership.js';
import type { PoolStats, SqlDriver, SqlExecutor, SqlResult } from '../sql/driver.js';
import { mapDriverError } from '../sql/map-driver-error.js';
import { acquireFileLock } from '../../../util/file-lock.js';

/**
 * Same row types as PgDriver: NUMERIC and INT8 as strings (PGlite would turn INT8 into a JS
 * number when it fits, and NUMERIC is already a string); TIMESTAMPTZ as Date and JSONB parsed
 * are PGlite's defaults.
 */
const PARSERS = {
  [types.NUMERIC]: (value: string) => value,
  [types.INT8]: (value: string) => value,
};

type Runner = Pick<Transaction, 'query' | 'exec'>;

async function run<R>(target: Runner, text: string, params?: readonly unknown[]): Promise<SqlResult<R>> {
  // Like pg: without parameters use the simple protocol (several statements allowed, the last
  // result reported); with parameters the extended protocol, one statement.
  const result: Results<R> | undefined =
    params === undefined || params.length === 0
      ? ((await target.exec(text)).at(-1) as Results<R> | undefined)
      : await target.query<R>(text, [...params]);
  const rows = result?.rows ?? [];
  return { rows, rowCount: result?.rowCount ?? result?.affectedRows ?? rows.length };
}

/** Options of a {@link PgliteDriver}. */
export interface PgliteDriverOptions {
  /** PGlite debug level 0-5 (default 0). */
  debug?: 0 | 1 | 2 | 3 | 4 | 5;
  /**
   * An in-memory database only: start from this copy of a data directory, as
   * {@link PgliteDriver.dumpDataDir} made it, instead of creating a new one. Creating one runs
   * PostgreSQL's initdb, which takes seconds; loading a copy takes about a third of that, so many
   * short-lived stores (tests, previews) start from one copy. The copy's schema is taken as it is:
   * migrations still run as for any store.
   */
  loadDataDir?: Blob;
}

/**
 * The embedded PostgreSQL connection layer. PGlite is one connection: PGlite itself queues a
 * `query()` issued while a transaction is open until that transaction ends, so statements never
 * interleave. Inside `transaction(fn)` use only the executor passed to `fn`; calling the driver
 * itself there would wait for the transaction that is waiting for it, so it is rejected instead.
 */
export class PgliteDriver implements SqlDriver {
  private readonly leaders = new LocalLeadership();
  /** Driver kind, for capability reporting. */
  readonly kind = 'pglite';
  /** Absolute data directory, or undefined for an in-memory database. */
  readonly dataDir: string | undefined;
  private readonly debug: 0 | 1 | 2 | 3 | 4 | 5;
  private readonly loadDataDir: Blob | undefined;
  private db: PGlite | undefined;
  private opening: Promise<void> | undefined;
  private closing: Promise<void> | undefined;
  private unlockDir: (() => Promise<void>) | undefined;
  private pending = 0;
  private lockTail: Promise<void> = Promise.resolve();
  private readonly inTransaction = new AsyncLocalStorage<true>();

  /**
   * `dataDir` undefined: in memory (lost on close); a path: persisted there (created if missing).
   * A `loadDataDir` copy with a `dataDir` is a `VALIDATION` error: a persisted directory is
   * created or opened where it is, never replaced from a copy.
   */
  constructor(dataDir?: string, options: PgliteDriverOptions = {}) {
    if (dataDir !== undefined && options.loadDataDir !== undefined) {
      throw validationError('loadDataDir', 'starts an in-memory database; a data directory is not loaded from a copy');
    }
    this.dataDir = dataDir === undefined ? undefined : resolve(dataDir);
    this.debug = options.debug ?? 0;
    this.loadDataDir = options.loadDataDir;
  }

  /** Starts PGlite (creating or opening the data directory) and checks it answers. */
  open(): Promise<void> {
    this.opening ??= this.start().catch((error: unknown) => {
      this.opening = undefined;
      throw mapDriverError(error, `cannot open PGlite${this.dataDir === undefined ? '' : ` at ${this.dataDir}`}`);
    });
    return this.opening;
  }

  private async start(): Promise<void> {
    const options = { extensions: { uuid_ossp }, parsers: PARSERS, debug: this.debug };
    if (this.dataDir === undefined) {
      this.db = await PGlite.create(this.loadDataDir === undefined ? options : { ...options, loadDataDir: this.loadDataDir });
    } else {
      await mkdir(dirname(this.dataDir), { recursive: true });
      this.unlockDir = await acquireFileLock(this.dataDir, (c) => new StorageError('CONFLICT', c.describe('PGlite data directory'), { details: { dataDir: this.dataDir, ...c.details } }));
      try {
        await mkdir(this.dataDir, { recursive: true });
        this.db = await PGlite.create(this.dataDir, options);
      } catch (error) {
        await this.unlockDir();
        this.unlockDir = undefined;
        throw error;
      }
    }
    await this.db.query('SELECT 1');
  }

  /**
   * A copy of the whole data directory as it is now (an uncompressed tar), for
   * {@link PgliteDriverOptions.loadDataDir}. Waits for the statements queued before it.
   */
  async dumpDataDir(): Promise<Blob> {
    const db = this.connection('dumpDataDir');
    return this.track(() => db.dumpDataDir('none'));
  }

  /** Closes PGlite (flushing a persisted database) and releases the data directory; idempotent. */
  close(): Promise<void> {
    this.closing ??= (async () => {
      await this.opening?.catch(() => undefined);
      const db = this.db;
      this.db = undefined;
      if (db !== undefined && !db.closed) await db.close();
      await this.unlockDir?.();
      this.unlockDir = undefined;
    })();
    return this.closing;
  }

  private connection(operation: string): PGlite {
    if (this.inTransaction.getStore() === true) {
      throw new StorageError('INTERNAL', `${operation}() called inside transaction(): use the executor passed to the callback (PGlite has one connection; this would deadlock)`);
    }
    if (this.db === undefined) {
      throw new StorageError('NOT_CONNECTED', 'PGlite driver is not open; call open() first');
    }
    return this.db;
  }

  private async track<T>(work: () => Promise<T>): Promise<T> {
    this.pending += 1;
    try {
      return await work();
    } finally {
      this.pending -= 1;
    }
  }

  /** Runs one statement (several when `params` is empty), queued behind any open transaction. */
  async query<R = Record<string, unknown>>(text: string, params?: readonly unknown[]): Promise<SqlResult<R>> {
    const db = this.connection('query');
    return this.track(() => run<R>(db, text, params));
  }

  /** PGlite's `transaction()`: BEGIN/COMMIT, ROLLBACK on throw; other callers wait meanwhile. */
  async transaction<T>(fn: (tx: SqlExecutor) => Promise<T>): Promise<T> {
    const db = this.connection('transaction');
    return this.track(() =>
      db.transaction(async (tx) => {
        let ended = false;
        const executor: SqlExecutor = {
          query: <R>(text: string, params?: readonly unknown[]) =>
            ended ? Promise.reject(new Error('transaction executor used after the transaction ended')) : run<R>(tx, text, params),
        };
        try {
          return await this.inTransaction.run(true, () => fn(executor));
        } finally {
          ended = true;
        }
      }),
    );
  }

  /**
   * An in-process mutex instead of an advisory lock: PGlite is one connection owned by this
   * process (the data directory lock keeps other processes out), so mutual exclusion between the
   * migrators of this process is all that is needed. An advisory lock would also work but would
   * add nothing. Waits at most `timeoutMs`, then throws a TIMEOUT {@link StorageError}.
   */
  async withMigrationLock<T>(timeoutMs: number, fn: (session: SqlExecutor) => Promise<T>): Promise<T> {
    let release!: () => void;
    const mine = new Promise<void>((resolveMine) => (release = resolveMine));
    const previous = this.lockTail;
    // Later callers queue behind us whether or not we time out: they also wait for `previous`.
    this.lockTail = previous.then(() => mine);
    let timer: NodeJS.Timeout | undefined;
    const acquired = await Promise.race([
      previous.then(() => true),
      new Promise<false>((resolveTimeout) => (timer = setTimeout(() => resolveTimeout(false), timeoutMs))),
    ]);
    clearTimeout(timer);
    if (!acquired) {
      release();
      throw new StorageError('TIMEOUT', `could not acquire the migration lock within ${timeoutMs} ms (another migrator is running)`, {
        retryable: true,
        reason: 'migration_lock',
        details: { timeoutMs },
      });
    }
    try {
      return await fn({ query: (text, params) => this.query(text, params) });
    } finally {
      release();
    }
  }

  /** One process owns the data directory (it is file-locked), so leadership is in-process. */
  async tryLeadership(name: string): Promise<Leadership | null> {
    return this.leaders.tryAcquire(name);
  }

  /** One connection: busy (idle 0) while a call runs; `waiting` counts the calls queued behind it. */
  poolStats(): PoolStats {
    if (this.db === undefined) return { total: 0, idle: 0, waiting: 0, max: 1 };
    return { total: 1, idle: this.pending === 0 ? 1 : 0, waiting: Math.max(0, this.pending - 1), max: 1 };
  }
}
