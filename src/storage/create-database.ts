/**
 * The one place that chooses a backend from configuration (guide phase 5):
 * `USE_MOCK_DATABASE=true` gives MockDatabase, `DATABASE_URL` gives PostgresDatabase, neither
 * gives the embedded PgliteDatabase in a local data directory. It builds the same public classes
 * a user would construct; callers get a {@link Database} and never branch on which one it is.
 * Tools that work below the contract (the migration and backup commands) get the chosen SQL
 * driver from {@link createDriver}, by the same choice. The SQL backends are loaded on demand, so
 * a PGlite user never loads `pg` and vice versa.
 */
import type { Database, SchemaManager } from './contract/database.js';
import { validationError } from './contract/errors.js';
import { MockDatabase } from './backends/memory/mock-database.js';
import type { PoolEnv } from './backends/postgres/pool-config.js';
import type { StorageLogger } from './backends/sql/logger.js';
import type { SqlDriver } from './backends/sql/driver.js';
import type { SqlDatabaseOptions } from './backends/sql/sql-database.js';

/** Where PGlite keeps its data when no directory is given (relative to the working directory). */
export const DEFAULT_PGLITE_DATA_DIR = './data/pglite';

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

/**
 * Reads the backend choice from the environment, and `COLD_CLAIM_FILTER_MAX_MB`: the most memory
 * the service's copy of the cold claims' filter may take (default 512; 0 turns the copy off).
 */
export function storeConfigFromEnv(env: PoolEnv = process.env): StoreConfig {
  const filterMb = env['COLD_CLAIM_FILTER_MAX_MB'];
  const config: StoreConfig = {
    useMock: env['USE_MOCK_DATABASE'] === 'true',
    databaseUrl: env['DATABASE_URL'] || undefined,
    dataDir: env['PGLITE_DATA_DIR'] || undefined,
    env,
  };
  if (filterMb === undefined || filterMb === '') return config;
  if (!/^\d{1,7}$/.test(filterMb) || Number(filterMb) > 1_048_576) throw validationError('COLD_CLAIM_FILTER_MAX_MB', 'must be an integer from 0 to 1048576 (MB)');
  return { ...config, sql: { payments: { coldClaimFilter: { maxBytes: Number(filterMb) * 1024 * 1024 } } } };
}

type Choice = { kind: 'memory' } | { kind: 'postgres'; url: string; env: PoolEnv } | { kind: 'pglite'; dataDir: string };

/** The choice itself: memory when asked for, PostgreSQL when a URL is given (option or `DATABASE_URL`), else PGlite. */
function choose(config: StoreConfig): Choice {
  if (config.useMock) return { kind: 'memory' };
  const env = config.env ?? process.env;
  const url = config.databaseUrl ?? (env['DATABASE_URL'] || undefined);
  if (url !== undefined) return { kind: 'postgres', url, env };
  return { kind: 'pglite', dataDir: config.dataDir ?? DEFAULT_PGLITE_DATA_DIR };
}

/** Creates (but does not connect) the configured backend. */
export async function createDatabase(config: StoreConfig = storeConfigFromEnv()): Promise<ConfiguredDatabase> {
  const choice = choose(config);
  const chosen = (db: Database, description: string): ConfiguredDatabase => ({ db, schema: db.schema, description });
  switch (choice.kind) {
    case 'memory':
      return chosen(new MockDatabase(), 'memory');
    case 'postgres': {
      const { PostgresDatabase } = await import('./backends/postgres/postgres-database.js');
      const options = { ...config.sql, env: choice.env, ...(config.logger ? { logger: config.logger } : {}) };
      return chosen(new PostgresDatabase(choice.url, options), 'postgres');
    }
    case 'pglite': {
      const { PgliteDatabase } = await import('./backends/pglite/pglite-database.js');
      return chosen(new PgliteDatabase(choice.dataDir, config.sql ?? {}), `pglite at ${choice.dataDir}`);
    }
  }
}

/** Creates (but does not open) the SQL driver the configuration chooses; memory has none. */
export async function createDriver(config: Omit<StoreConfig, 'useMock' | 'sql'> = storeConfigFromEnv()): Promise<SqlDriver> {
  const choice = choose(config);
  switch (choice.kind) {
    case 'memory':
      throw new Error('the in-memory backend has no SQL driver');
    case 'postgres': {
      const { createPgDriver } = await import('./backends/postgres/postgres-database.js');
      return createPgDriver(choice.url, { env: choice.env, ...(config.logger ? { logger: config.logger } : {}) });
    }
    case 'pglite': {
      const { PgliteDriver } = await import('./backends/pglite/driver.js');
      return new PgliteDriver(choice.dataDir);
    }
  }
}
