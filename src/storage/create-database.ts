/**
 * The one place that chooses a backend from configuration (guide phase 5):
 * `USE_MOCK_DATABASE=true` gives MockDatabase, `DATABASE_URL` gives PostgreSQL, neither gives the
 * embedded PGlite in a local data directory. Callers get the backend and its schema manager and
 * never branch on which backend they hold.
 */
import type { Database } from './database.js';
import { MockDatabase } from './mock-database.js';
import type { PoolEnv } from './postgres-pool-config.js';
import type { StorageLogger } from './sql/logger.js';
import type { MigrateUpResult, MigrationStatus } from './sql/migrator.js';
import { SqlDatabase, type SqlDatabaseOptions } from './sql/sql-database.js';
import { DEFAULT_PGLITE_DATA_DIR, createDriver } from './create-driver.js';

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
  /** Options of the SQL backends (payment group commit). */
  sql?: SqlDatabaseOptions;
}

/** Applies and reports schema migrations; a no-op for the in-memory backend. */
export interface SchemaManager {
  status(): Promise<MigrationStatus[]>;
  up(): Promise<MigrateUpResult>;
}

/** A chosen backend and its schema manager. */
export interface Store {
  db: Database;
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

const NO_SCHEMA: SchemaManager = {
  status: async () => [],
  up: async () => ({ applied: [], results: [] }),
};

function sqlSchema(db: SqlDatabase): SchemaManager {
  return { status: () => db.migrator().status(), up: () => db.migrator().up() };
}

/** Creates (but does not connect) the configured backend. */
export async function createDatabase(config: StoreConfig = storeConfigFromEnv()): Promise<Store> {
  if (config.useMock) return { db: new MockDatabase(), schema: NO_SCHEMA, description: 'memory' };
  // PostgreSQL or PGlite: createDriver picks the connection layer, the SQL above it is shared.
  const dataDir = config.dataDir ?? DEFAULT_PGLITE_DATA_DIR;
  const driver = await createDriver({
    databaseUrl: config.databaseUrl,
    dataDir,
    ...(config.env ? { env: config.env } : {}),
    ...(config.logger ? { logger: config.logger } : {}),
  });
  const db = new SqlDatabase(driver, config.sql ?? {});
  return { db, schema: sqlSchema(db), description: driver.kind === 'pglite' ? `pglite at ${dataDir}` : driver.kind };
}
