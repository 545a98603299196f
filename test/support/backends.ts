/**
 * Conformance harnesses for the SQL backends. PostgreSQL: one throwaway database per test file,
 * a new PostgresDatabase (own pool) per test. PGlite: one in-memory instance per test file, shared
 * by a new PgliteDatabase per test through a driver whose close() leaves it open, because booting
 * PGlite and migrating it for every test would dominate the suite's time.
 */
import type { ConformanceBackend } from '../conformance/fixtures.js';
import { PgliteDriver } from '../../src/storage/backends/pglite/driver.js';
import { PostgresDatabase } from '../../src/storage/backends/postgres/postgres-database.js';
import type { SqlDriver } from '../../src/storage/backends/sql/driver.js';
import { SqlDatabase, type SqlDatabaseOptions } from '../../src/storage/backends/sql/sql-database.js';
import { createTestDatabase, type TestDatabase } from './pg.js';

/** A PostgreSQL backend over a database created for this file (dropped by teardown). */
export function postgresBackend(options: SqlDatabaseOptions = {}): ConformanceBackend & { url(): Promise<string> } {
  let database: Promise<TestDatabase> | undefined;
  const url = async () => {
    database ??= (async () => {
      const created = await createTestDatabase();
      const db = new PostgresDatabase(created.url);
      await db.connect();
      const result = await db.migrator().up();
      await db.disconnect();
      if (result.error) throw result.error;
      return created;
    })();
    return (await database).url;
  };
  return {
    name: 'postgres',
    url,
    create: async () => new PostgresDatabase(await url(), options),
    teardown: async () => {
      if (database) await (await database).drop();
    },
  };
}

/** Delegates to a shared driver but never closes it; the harness closes it in teardown. */
function borrowed(driver: SqlDriver): SqlDriver {
  return {
    kind: driver.kind,
    open: () => driver.open(),
    close: async () => undefined,
    query: (text, params) => driver.query(text, params),
    transaction: (fn) => driver.transaction(fn),
    withMigrationLock: (timeoutMs, fn) => driver.withMigrationLock(timeoutMs, fn),
    poolStats: () => driver.poolStats(),
  };
}

/** A PGlite backend: one migrated in-memory instance for the whole file. */
export function pgliteBackend(options: SqlDatabaseOptions = {}): ConformanceBackend {
  let shared: Promise<PgliteDriver> | undefined;
  const driver = async () => {
    shared ??= (async () => {
      const d = new PgliteDriver();
      const db = new SqlDatabase(borrowed(d));
      await db.connect();
      const result = await db.migrator().up();
      if (result.error) throw result.error;
      return d;
    })();
    return shared;
  };
  return {
    name: 'pglite',
    create: async () => new SqlDatabase(borrowed(await driver()), options),
    teardown: async () => {
      if (shared) await (await shared).close();
    },
  };
}
