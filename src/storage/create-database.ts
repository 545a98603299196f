/**
 * The one place that chooses a backend from configuration (guide phase 5):
 * `USE_MOCK_DATABASE=true` gives MockDatabase, `DATABASE_URL` gives PostgresDatabase, neither
 * gives the embedded PgliteDatabase in a local data directory. It builds the same public classes
 * a user would construct; callers get a {@link Database} and never branch on which one it is.
 * The SQL backends are loaded on demand, so a PGlite user never loads `pg` and vice versa.
 */
import type { Database, SchemaManager } from './contract/database.js';
import { MockDatabase } from './backends/memory/mock-database.js';
import type { PoolEnv } from './backends/postgres/pool-config.js';
import type { StorageLogger } from './backends/sql/logger.js';
import type { SqlDatabaseOptions } from './backends/sql/sql-database.js';
import { DEFAULT_PGLITE_DATA_DIR } from './create-driver.js';

/** What a backend is chosen from. */
export interface StoreConfig {
  /** In-memory MockDatabase (`USE_MOCK_DATABASE=true`). */
  useMock?: boolean;
  /** PostgreSQL connection string (`DATABASE_URL`). */
  databaseUrl?: string | undefined;
  /** Embedded data directory (`PGLITE_DATA_DIR`, default `./data/pglite`). */
  dataDir?: string | undefined;
  /** Environment for pool settings (default `process.env`). */
  env?: PoolEnv;
  logger?: StorageLogger;
  /** Options of the SQL backends (payment group commit, clock). */
  sql?: SqlDatabaseOptions;
}

/** A chosen backend and its schema manager. */
export interface ConfiguredDatabase {
  db: Database;
  /** The same as `db.schema`: pending migrations are applied with `schema.up()`. */
  schema: SchemaManager;
  /** Human-readable description without secrets ("postgres", "pglite at ./data/pglite", "memory"). */
  description: string;
}

/** Reads the backend choice from the environment. */
export function storeConfigFromEnv(env: PoolEnv = process.env): StoreConfig {
  return {
    useMock: env['USE_MOCK_DATABASE'] === 'true',
    databaseUrl: env['DATABASE_URL'] || undefined,
    dataDir: env['PGLITE_DATA_DIR'] || undefined,
    env,
  };
}

/** Creates (but does not connect) the configured backend. */
export async function createDatabase(config: StoreConfig = storeConfigFromEnv()): Promise<ConfiguredDatabase> {
  const chosen = (db: Database, description: string): ConfiguredDatabase => ({ db, schema: db.schema, description });
  if (config.useMock) return chosen(new MockDatabase(), 'memory');
  const databaseUrl = config.databaseUrl ?? ((config.env ?? process.env)['DATABASE_URL'] || undefined);
  if (databaseUrl !== undefined) {
    const { PostgresDatabase } = await import('./backends/postgres/postgres-database.js');
    const options = { ...config.sql, ...(config.env ? { env: config.env } : {}), ...(config.logger ? { logger: config.logger } : {}) };
    return chosen(new PostgresDatabase(databaseUrl, options), 'postgres');
  }
  const dataDir = config.dataDir ?? DEFAULT_PGLITE_DATA_DIR;
  const { PgliteDatabase } = await import('./backends/pglite/pglite-database.js');
  return chosen(new PgliteDatabase(dataDir, config.sql ?? {}), `pglite at ${dataDir}`);
}
