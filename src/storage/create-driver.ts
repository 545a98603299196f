/**
 * Chooses the SQL connection layer from configuration: PostgreSQL when a connection string is
 * given (option or `DATABASE_URL`), else the embedded PGlite in a data directory. The backend
 * modules are loaded on demand, so a PGlite user never loads `pg` and vice versa.
 */
import type { SqlDriver } from './backends/sql/driver.js';
import type { StorageLogger } from './backends/sql/logger.js';
import type { PoolEnv } from './backends/postgres/pool-config.js';

/** Where PGlite keeps its data when no directory is given (relative to the working directory). */
export const DEFAULT_PGLITE_DATA_DIR = './data/pglite';

/** What {@link createDriver} chooses from. */
export interface DriverSelection {
  /** PostgreSQL connection string; wins over `env.DATABASE_URL`. */
  databaseUrl?: string | undefined;
  /** PGlite data directory when no URL is set (default {@link DEFAULT_PGLITE_DATA_DIR}). */
  dataDir?: string | undefined;
  /** Environment for `DATABASE_URL` and the pool settings (default `process.env`). */
  env?: PoolEnv;
  /** Logger for pool events and configuration warnings. */
  logger?: StorageLogger;
}

/** Creates (but does not open) the driver selected by `selection`. */
export async function createDriver(selection: DriverSelection = {}): Promise<SqlDriver> {
  const env = selection.env ?? process.env;
  const url = selection.databaseUrl ?? (env.DATABASE_URL === '' ? undefined : env.DATABASE_URL);
  if (url !== undefined) {
    const [{ PgDriver }, { poolConfigFromEnv }] = await Promise.all([import('./backends/postgres/driver.js'), import('./backends/postgres/pool-config.js')]);
    const config = poolConfigFromEnv(env, { connectionString: url }, selection.logger);
    return new PgDriver(config, selection.logger === undefined ? {} : { logger: selection.logger });
  }
  const { PgliteDriver } = await import('./backends/pglite/driver.js');
  return new PgliteDriver(selection.dataDir ?? DEFAULT_PGLITE_DATA_DIR);
}
