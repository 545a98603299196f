/**
 * {@link SqlDriver} over a node-postgres Pool. With pglite-driver.ts, the only module that
 * imports a database package.
 */
import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { Client, Pool, TypeOverrides, types, type PoolClient, type PoolConfig } from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import type { Leadership } from '../../contract/chain.js';
import { StorageError } from '../../contract/errors.js';
import type { BulkExecutor, PoolStats, QueryOptions, SqlDriver, SqlExecutor, SqlResult } from '../sql/driver.js';
import { defaultStorageLogger, type StorageLogger } from '../sql/logger.js';
import { mapDriverError } from '../sql/map-driver-error.js';

/**
 * Advisory lock key of the migrator: the first 8 bytes of sha256 of a fixed name, as a signed
 * int64 (decimal string), so it cannot collide by accident with small hand-picked keys.
 */
export const MIGRATION_LOCK_KEY = createHash('sha256')
  .update('asset-leasing-store:schema_migrations')
  .digest()
  .readBigInt64BE(0)
  .toString();

/**
 * Type parsers of this driver's pools only; the `pg` module-wide registry stays untouched, so
 * other code in the process keeps its own choices. NUMERIC and INT8 stay strings (the SQL layer
 * turns them into bigint / checked numbers); TIMESTAMPTZ (Date) and JSONB (parsed) keep pg's defaults.
 */
function driverTypes(): TypeOverrides {
  const overrides = new TypeOverrides(types);
  overrides.setTypeParser(types.builtins.NUMERIC, 'text', (value: string) => value);
  overrides.setTypeParser(types.builtins.INT8, 'text', (value: string) => value);
  return overrides;
}

type Queryable = Pick<PoolClient, 'query'>;

async function run<R>(target: Queryable, text: string, params?: readonly unknown[], options?: QueryOptions): Promise<SqlResult<R>> {
  // Without parameters pg uses the simple protocol, which allows several statements (a migration
  // file); it then returns one result per statement, and we report the last one.
  const raw: unknown =
    params === undefined || params.length === 0
      ? await target.query(text)
      : options?.name !== undefined
        ? await target.query({ name: options.name, text, values: [...params] })
        : await target.query(text, [...params]);
  const result = (Array.isArray(raw) ? raw.at(-1) : raw) as { rows?: R[]; rowCount?: number | null } | undefined;
  const rows = result?.rows ?? [];
  return { rows, rowCount: result?.rowCount ?? rows.length };
}

/** An executor bound to one checked-out client that refuses use after its scope ended. */
function scopedExecutor(client: PoolClient, scope: string): { executor: SqlExecutor; end(): void } {
  let ended = false;
  return {
    executor: {
      query<R = Record<string, unknown>>(text: string, params?: readonly unknown[], options?: QueryOptions): Promise<SqlResult<R>> {
        // A leaked executor would otherwise run on a client already given to someone else.
        if (ended) return Promise.reject(new Error(`${scope} executor used after its scope ended`));
        return run<R>(client, text, params, options);
      },
    },
    end: () => {
      ended = true;
    },
  };
}

const POOL_WAIT_EXPIRED = /timeout exceeded when trying to connect/i;

function asError(value: unknown): Error {
  return value instanceof Error ? value : new Error(String(value));
}

/** Options of a {@link PgDriver}. */
export interface PgDriverOptions {
  /** Where pool and client errors are reported (default: pino on stderr). */
  logger?: StorageLogger;
}

/** The PostgreSQL connection layer: one `pg.Pool` (see `poolConfigFromEnv` for its settings). */
export class PgDriver implements SqlDriver {
  /** Driver kind, for capability reporting. */
  readonly kind = 'postgres';
  private readonly pool: Pool;
  private readonly logger: StorageLogger;
  private readonly checkedOut = new WeakSet<object>();
  private readonly maxConnections: number;
  private readonly poolWaitMs: number;
  private ending: Promise<void> | undefined;
  private readonly config: PoolConfig;

  /**
   * Creates the pool (no connection is made until {@link open} or the first query). The `types`
   * field of `config` is replaced by this driver's parsers.
   */
  constructor(config: PoolConfig, options: PgDriverOptions = {}) {
    this.logger = options.logger ?? defaultStorageLogger();
    this.config = config;
    this.pool = new Pool({ ...config, types: driverTypes() });
    // pg-pool's defaults, when the config leaves them out.
    this.maxConnections = config.max ?? 10;
    this.poolWaitMs = config.connectionTimeoutMillis ?? 0;
    // Without a listener, an idle client whose server connection dies makes the Pool emit an
    // unhandled 'error' and the process exits; pg-pool has already discarded that client.
    this.pool.on('error', (error) => {
      this.logger.warn({ err: mapDriverError(error) }, 'idle PostgreSQL connection failed and was removed from the pool');
    });
    this.pool.on('connect', (client) => {
      // A checked-out client has no pool listener while no query is running (e.g. a pinned lock
      // session between polls); this one keeps its failure from crashing the process. The next
      // query on it fails and the client is destroyed on release.
      client.on('error', (error) => {
        if (this.checkedOut.has(client)) {
          this.logger.warn({ err: mapDriverError(error) }, 'checked-out PostgreSQL connection failed');
        }
      });
    });
    this.pool.on('acquire', (client) => this.checkedOut.add(client));
    this.pool.on('release', (_error, client) => this.checkedOut.delete(client));
  }

  /** Checks that the server answers (`SELECT 1`); failures are mapped {@link StorageError}s. */
  async open(): Promise<void> {
    try {
      await this.pool.query('SELECT 1');
    } catch (error) {
      throw mapDriverError(error, 'cannot connect to PostgreSQL');
    }
  }

  /** Ends the pool once; later calls wait for the same end. */
  close(): Promise<void> {
    this.ending ??= this.pool.end();
    return this.ending;
  }

  /** Whether a checkout now would queue behind busy connections rather than open a new one. */
  private poolIsBusy(): boolean {
    return this.pool.totalCount >= this.maxConnections && this.pool.idleCount === 0;
  }

  /**
   * pg-pool reports a full pool and an unreachable server alike ("timeout exceeded when trying to
   * connect"). A call that queued behind busy connections gets a TIMEOUT `pool_exhausted` instead,
   * so nobody goes looking for a network fault when the database is up and merely saturated.
   */
  private checkoutFailure(error: unknown, queued: boolean): unknown {
    if (!queued || !(error instanceof Error) || !POOL_WAIT_EXPIRED.test(error.message)) return error;
    return new StorageError('TIMEOUT', `every pooled connection (${this.maxConnections}) stayed busy for the whole pool wait of ${this.poolWaitMs} ms`, {
      reason: 'pool_exhausted',
      cause: error,
      details: { poolMax: this.maxConnections, poolWaitMs: this.poolWaitMs, waiting: this.pool.waitingCount },
    });
  }

  /** Runs one statement on any pooled connection (several statements when `params` is empty). */
  async query<R = Record<string, unknown>>(text: string, params?: readonly unknown[], options?: QueryOptions): Promise<SqlResult<R>> {
    const queued = this.poolIsBusy();
    try {
      return await run<R>(this.pool, text, params, options);
    } catch (error) {
      throw this.checkoutFailure(error, queued);
    }
  }

  private async checkout(): Promise<PoolClient> {
    const queued = this.poolIsBusy();
    try {
      return await this.pool.connect();
    } catch (error) {
      throw this.checkoutFailure(error, queued);
    }
  }

  /** BEGIN/COMMIT on one client; ROLLBACK on throw, and a failed ROLLBACK destroys the client. */
  transaction<T>(fn: (tx: SqlExecutor) => Promise<T>): Promise<T> {
    return this.onClient((_client, executor) => fn(executor));
  }

  /** {@link transaction} whose executor can also COPY rows in (pg-copy-streams). */
  bulkTransaction<T>(fn: (tx: BulkExecutor) => Promise<T>): Promise<T> {
    return this.onClient((client, executor) =>
      fn({
        query: executor.query,
        copyIn: async (table, columns, rows) => {
          // Two buffers read ahead at most: a source of many is pulled as the server takes them.
          const source = Readable.from(rows instanceof Uint8Array ? [rows] : rows, { highWaterMark: 2 });
          await pipeline(source, client.query(copyFrom(`COPY ${table} (${columns.join(', ')}) FROM STDIN`)));
        },
      }),
    );
  }

  private async onClient<T>(fn: (client: PoolClient, tx: SqlExecutor) => Promise<T>): Promise<T> {
    const client = await this.checkout();
    const scope = scopedExecutor(client, 'transaction');
    let broken: Error | undefined;
    try {
      await client.query('BEGIN');
      const result = await fn(client, scope.executor);
      const commit = await client.query('COMMIT');
      // After a failed statement whose error `fn` swallowed, COMMIT "succeeds" as ROLLBACK; report
      // it as PGlite does (TransactionAbortedError) instead of claiming the writes were kept.
      if (commit.command === 'ROLLBACK') {
        throw new StorageError('INTERNAL', 'transaction was rolled back at COMMIT: a statement in it failed and its error was caught');
      }
      return result;
    } catch (error) {
      try {
        await client.query('ROLLBACK');
      } catch (rollbackError) {
        // The original error is what the caller needs; the rollback failure is only logged.
        broken = asError(rollbackError);
        this.logger.warn({ err: mapDriverError(rollbackError) }, 'ROLLBACK failed; discarding the connection');
      }
      throw error;
    } finally {
      scope.end();
      client.release(broken);
    }
  }

  /**
   * Holds a session advisory lock ({@link MIGRATION_LOCK_KEY}) on one pinned client while `fn`
   * runs, polling `pg_try_advisory_lock` every 50-100 ms; after `timeoutMs` it throws a TIMEOUT
   * {@link StorageError}. The lock is always released (or the session destroyed) afterwards.
   */
  async withMigrationLock<T>(timeoutMs: number, fn: (session: SqlExecutor) => Promise<T>): Promise<T> {
    const client = await this.checkout();
    const scope = scopedExecutor(client, 'migration lock');
    let locked = false;
    let broken: Error | undefined;
    try {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const { rows } = await run<{ locked: boolean }>(client, 'SELECT pg_try_advisory_lock($1::bigint) AS locked', [MIGRATION_LOCK_KEY]);
        if (rows[0]?.locked === true) break;
        const remaining = deadline - Date.now();
        if (remaining <= 0) {
          throw new StorageError('TIMEOUT', `could not acquire the migration lock within ${timeoutMs} ms (another migrator is running)`, {
            retryable: true,
            reason: 'migration_lock',
            details: { lockKey: MIGRATION_LOCK_KEY, timeoutMs },
          });
        }
        // Jitter keeps several waiting migrators from polling in lockstep.
        await sleep(Math.min(remaining, 50 + Math.floor(Math.random() * 50)));
      }
      locked = true;
      return await fn(scope.executor);
    } finally {
      scope.end();
      if (locked) {
        try {
          await client.query('SELECT pg_advisory_unlock($1::bigint)', [MIGRATION_LOCK_KEY]);
        } catch (unlockError) {
          // Destroying the session releases its advisory locks on the server side.
          broken = asError(unlockError);
          this.logger.warn({ err: mapDriverError(unlockError) }, 'advisory unlock failed; discarding the connection');
        }
      }
      client.release(broken);
    }
  }

  /**
   * Takes `pg_try_advisory_lock` on a dedicated connection outside the pool and keeps it open. A
   * heartbeat every `heartbeatMs` notices a dead connection (the server has then released the lock
   * and a standby may already hold it), so the holder learns through `lost` that it must stop.
   */
  async tryLeadership(name: string, heartbeatMs = 1000): Promise<Leadership | null> {
    const key = createHash('sha256').update(`asset-leasing-store:leader:${name}`).digest().readBigInt64BE(0).toString();
    const client = new Client({ ...this.config, types: driverTypes() });
    client.on('error', (error) => this.logger.warn({ err: mapDriverError(error) }, 'leadership connection failed'));
    try {
      await client.connect();
      const { rows } = await client.query<{ locked: boolean }>('SELECT pg_try_advisory_lock($1::bigint) AS locked', [key]);
      if (rows[0]?.locked !== true) {
        await client.end();
        return null;
      }
    } catch (error) {
      await client.end().catch(() => undefined);
      throw mapDriverError(error, 'tryLeadership');
    }
    let holding = true;
    let signalLost!: () => void;
    const lost = new Promise<void>((resolve) => {
      signalLost = resolve;
    });
    const drop = () => {
      if (!holding) return;
      holding = false;
      clearInterval(timer);
      signalLost();
    };
    const timer = setInterval(() => {
      client.query('SELECT 1').catch((error: unknown) => {
        this.logger.warn({ err: mapDriverError(error) }, 'leadership connection lost; giving leadership up');
        drop();
        void client.end().catch(() => undefined);
      });
    }, heartbeatMs);
    timer.unref();
    client.on('end', drop);
    return {
      lost,
      isHeld: () => holding,
      release: async () => {
        if (!holding) return;
        drop();
        // Ending the session frees its advisory locks; no unlock round trip needed.
        await client.end().catch(() => undefined);
      },
    };
  }

  /** Connections in the pool, idle ones, and callers waiting for one. */
  poolStats(): PoolStats {
    return { total: this.pool.totalCount, idle: this.pool.idleCount, waiting: this.pool.waitingCount, max: this.pool.options.max ?? 10 };
  }

  /**
   * Logs {@link poolStats} every `intervalMs` (guide section 5, "Pool Monitoring"). The timer is
   * unref'd so it never keeps the process alive. Returns the function that stops it.
   */
  startStatsLogging(intervalMs: number, logger: StorageLogger = this.logger): () => void {
    const timer = setInterval(() => logger.info({ pool: this.poolStats() }, 'PostgreSQL pool stats'), intervalMs);
    timer.unref();
    return () => clearInterval(timer);
  }
}
