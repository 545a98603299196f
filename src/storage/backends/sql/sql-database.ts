/**
 * The core {@link Store} over the shared {@link SqlBackend}: what `PostgresDatabase` and
 * `PgliteDatabase` are, each with its own driver. Adds the migration runner.
 */
import { notConnectedError } from '../../contract/errors.js';
import { Store, type StoreOptions } from '../../core/store.js';
import type { SqlDriver } from './driver.js';
import type { Migrator, MigratorOptions } from './migrator.js';
import { SqlBackend, type SqlBackendOptions } from './sql-backend.js';

/** Options of the SQL stores. */
export interface SqlDatabaseOptions extends SqlBackendOptions, StoreOptions {}

/** The storage contract over a {@link SqlDriver}. A SQL store is single-use: after disconnect(), create a new one. */
export class SqlDatabase extends Store {
  private readonly sql: SqlBackend;

  constructor(
    protected readonly driver: SqlDriver,
    options: SqlDatabaseOptions = {},
  ) {
    const backend = new SqlBackend(driver, options);
    super(backend, options);
    this.sql = backend;
  }

  /** The migration runner of this store's schema (usable once connected). */
  migrator(options?: MigratorOptions): Migrator {
    if (!this.isConnected()) throw notConnectedError();
    return this.sql.migrator(options);
  }
}
