/**
 * The embedded backend: the storage contract on PGlite (PostgreSQL compiled to WebAssembly,
 * in-process), so the service runs with no database server. Same SQL as PostgresDatabase.
 */
import { PgliteDriver } from './driver.js';
import { SqlDatabase, type SqlDatabaseOptions } from '../sql/sql-database.js';

/** The embedded PGlite backend. */
export class PgliteDatabase extends SqlDatabase {
  /** @param dataDir where data is kept; undefined keeps it in memory only. */
  constructor(dataDir?: string, options: SqlDatabaseOptions = {}) {
    super(new PgliteDriver(dataDir), options);
  }
}
