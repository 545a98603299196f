/**
 * PostgresDatabase: the storage contract on a PostgreSQL server through a node-postgres Pool
 * (guide phase 2). The SQL is the shared implementation; this file only builds the pool from the
 * guide's section 5 settings (see `poolConfigFromEnv`) and exposes pool monitoring.
 */
import type { PoolConfig } from 'pg';
import { validationError } from '../../contract/errors.js';
import { PgDriver } from './driver.js';
import { poolConfigFromEnv, type PoolEnv } from './pool-config.js';
import type { StorageLogger } from '../sql/logger.js';
import { SqlDatabase, type SqlDatabaseOptions } from '../sql/sql-database.js';

/** Options of {@link PostgresDatabase}. */
export interface PostgresDatabaseOptions extends SqlDatabaseOptions {
  /** Environment for the pool settings (default `process.env`). */
  env?: PoolEnv;
  /** Pool settings that win over the environment. */
  pool?: PoolConfig;
  /** Where pool events and warnings go. */
  logger?: StorageLogger;
}

/** The pool driver for `connectionString` with the guide's section 5 settings (environment, then `options.pool`). */
export function createPgDriver(connectionString: string, options: Pick<PostgresDatabaseOptions, 'env' | 'pool' | 'logger'> = {}): PgDriver {
  const config = poolConfigFromEnv(options.env ?? process.env, { ...options.pool, connectionString }, options.logger);
  return new PgDriver(config, options.logger === undefined ? {} : { logger: options.logger });
}

/** The PostgreSQL backend. */
export class PostgresDatabase extends SqlDatabase {
  private readonly pg: PgDriver;

  /**
   * @param connectionString e.g. `postgres://user@host:5432/asset_leasing`; typically
   * `process.env.DATABASE_URL` as in the guide, so a missing one is a `VALIDATION` error that says so.
   */
  constructor(connectionString: string | undefined, options: PostgresDatabaseOptions = {}) {
    if (typeof connectionString !== 'string' || connectionString.trim() === '') {
      throw validationError('connectionString', 'is required: set DATABASE_URL, e.g. postgres://user@host:5432/asset_leasing');
    }
    const driver = createPgDriver(connectionString, options);
    super(driver, options);
    this.pg = driver;
  }

  /** Logs pool statistics every `intervalMs`; returns a function that stops it. */
  startPoolStatsLogging(intervalMs = 60_000, logger?: StorageLogger): () => void {
    return this.pg.startStatsLogging(intervalMs, logger);
  }
}
