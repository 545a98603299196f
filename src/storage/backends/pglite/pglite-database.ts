/**
 * The embedded backend: the storage contract on PGlite (PostgreSQL compiled to WebAssembly,
 * in-process), so the service runs with no database server. Same SQL as PostgresDatabase.
 */
import { PgliteDriver, type PgliteDriverOptions } from './driver.js';
import { SqlDatabase, type SqlDatabaseOptions } from '../sql/sql-database.js';

/** Options of a {@link PgliteDatabase}: the store's, and PGlite's own (`debug`, `loadDataDir`). */
export interface PgliteDatabaseOptions extends SqlDatabaseOptions, PgliteDriverOptions {}

/** The embedded PGlite backend. */
export class PgliteDatabase extends SqlDatabase {
  // The store's own driver, seen as the PGlite driver it is (no field of its own).
  declare protected readonly driver: PgliteDriver;

  /** @param dataDir where data is kept; undefined keeps it in memory only. */
  constructor(dataDir?: string, options: PgliteDatabaseOptions = {}) {
    // The driver reads its own options (debug, loadDataDir); the store gets the rest.
    const { debug: _debug, loadDataDir: _loadDataDir, ...storeOptions } = options;
    super(new PgliteDriver(dataDir, options), storeOptions);
  }

  /**
   * A copy of the store's whole data directory, for a new in-memory store to start from
   * (`new PgliteDatabase(undefined, { loadDataDir })`); `NOT_CONNECTED` before connect().
   */
  dumpDataDir(): Promise<Blob> {
    return this.driver.dumpDataDir();
  }
}
