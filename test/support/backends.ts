/**
 * The one list of backends every backend-parameterized test uses (conformance, API, migration).
 * Each builds the public classes a user would (`MockDatabase`, `PostgresDatabase`,
 * `PgliteDatabase`), migrated through `db.schema`. Adding a backend is one entry in
 * {@link BACKENDS}.
 *
 * Two shapes of use:
 * - `conformance()`: one store per test file, and a new unconnected Database over it per test
 *   (the suite connects and clears it). PostgreSQL gets a throwaway database; PGlite one
 *   in-memory instance shared through a driver whose close() leaves it open, because booting and
 *   migrating PGlite for every test would dominate the suite's time.
 * - `open()`: a new, isolated store, connected and migrated, for one API or migration test.
 *
 * Every in-memory PGlite here starts from one copy of a new data directory (pglite-template.ts).
 */
import type { Database } from '../../src/storage/contract/database.js';
import { MockDatabase } from '../../src/storage/backends/memory/mock-database.js';
import type { PgliteDriver } from '../../src/storage/backends/pglite/driver.js';
import { createPgDriver, PostgresDatabase, type PostgresDatabaseOptions } from '../../src/storage/backends/postgres/postgres-database.js';
import type { SqlDriver } from '../../src/storage/backends/sql/driver.js';
import { SqlDatabase, type SqlDatabaseOptions } from '../../src/storage/backends/sql/sql-database.js';
import type { ConformanceBackend } from '../conformance/fixtures.js';
import { createTestDatabase, type TestDatabase } from './pg.js';
import { pgliteDatabase, pgliteDriver } from './pglite-template.js';

/** The backend names. */
export type BackendName = 'memory' | 'postgres' | 'pglite';

/** An isolated, connected and migrated store. */
export interface OpenBackend {
  name: BackendName;
  db: Database;
  /** The connection string (PostgreSQL only). */
  url?: string;
  /** Disconnects and removes the store. */
  dispose(): Promise<void>;
}

/** Options for the stores a backend builds (SQL options are ignored by memory). */
export type BackendOptions = SqlDatabaseOptions & Pick<PostgresDatabaseOptions, 'logger'>;

/** One backend of the list. */
export interface TestBackend {
  name: BackendName;
  conformance(options?: BackendOptions): ConformanceBackend;
  open(options?: BackendOptions): Promise<OpenBackend>;
}

async function migrated<D extends Database>(db: D): Promise<D> {
  await db.connect();
  const result = await db.schema.up();
  if (result.error) throw result.error;
  return db;
}

const memory: TestBackend = {
  name: 'memory',
  conformance: () => ({ name: 'memory', skip: new Set(), create: async (store = {}) => new MockDatabase(store) }),
  async open() {
    const db = await migrated(new MockDatabase());
    return { name: 'memory', db, dispose: () => db.disconnect() };
  },
};

const postgres: TestBackend = {
  name: 'postgres',
  conformance(options = {}) {
    let database: Promise<TestDatabase> | undefined;
    const url = async () => {
      database ??= (async () => {
        const created = await createTestDatabase();
        await (await migrated(new PostgresDatabase(created.url, options))).disconnect();
        return created;
      })();
      return (await database).url;
    };
    return {
      name: 'postgres',
      skip: new Set(),
      create: async (store = {}) => new PostgresDatabase(await url(), { ...options, ...store }),
      teardown: async () => {
        if (database) await (await database).drop();
      },
    };
  },
  open: openPostgres,
};

/** A new PostgreSQL database of its own, migrated; its URL is always known. */
export async function openPostgres(options: BackendOptions = {}): Promise<OpenBackend & { url: string }> {
  const created = await createTestDatabase();
  const db = await migrated(new PostgresDatabase(created.url, options));
  return {
    name: 'postgres',
    db,
    url: created.url,
    dispose: async () => {
      await db.disconnect();
      await created.drop();
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
    tryLeadership: (name) => driver.tryLeadership(name),
  };
}

const pglite: TestBackend = {
  name: 'pglite',
  conformance(options = {}) {
    let shared: Promise<PgliteDriver> | undefined;
    const driver = async () => {
      shared ??= (async () => {
        const d = await pgliteDriver();
        await migrated(new SqlDatabase(borrowed(d)));
        return d;
      })();
      return shared;
    };
    return {
      name: 'pglite',
      skip: new Set(),
      create: async (store = {}) => new SqlDatabase(borrowed(await driver()), { ...options, ...store }),
      teardown: async () => {
        if (shared) await (await shared).close();
      },
    };
  },
  async open(options = {}) {
    const db = await migrated(await pgliteDatabase(options));
    return { name: 'pglite', db, dispose: () => db.disconnect() };
  },
};

/** Every backend, in the order test names show them. */
export const BACKENDS: readonly TestBackend[] = [memory, postgres, pglite];

/** The backend of that name. */
export function backend(name: BackendName): TestBackend {
  const found = BACKENDS.find((b) => b.name === name);
  if (!found) throw new Error(`no test backend ${name}`);
  return found;
}

/** A SQL store with its raw driver beside it, for tests that also read the tables directly. */
export interface OpenSqlStore {
  driver: SqlDriver;
  db: SqlDatabase;
  /** The connection string (PostgreSQL only). */
  url?: string;
  /** Disconnects and removes the store. */
  dispose(): Promise<void>;
}

/**
 * A new, isolated, connected SqlDatabase over PostgreSQL (a throwaway database) or an in-memory
 * PGlite, migrated unless `migrate` is false, and its driver (the store and the raw queries share
 * one connection layer; PGlite has only one connection).
 */
export async function openSqlStore(kind: 'postgres' | 'pglite', { migrate = true } = {}): Promise<OpenSqlStore> {
  let t: TestDatabase | undefined;
  let driver: SqlDriver;
  if (kind === 'postgres') {
    t = await createTestDatabase();
    driver = createPgDriver(t.url);
  } else {
    driver = await pgliteDriver();
  }
  const db = new SqlDatabase(driver);
  await db.connect();
  if (migrate) {
    const result = await db.migrator().up();
    if (result.error) throw result.error;
  }
  return {
    driver,
    db,
    ...(t === undefined ? {} : { url: t.url }),
    dispose: async () => {
      await db.disconnect();
      await t?.drop();
    },
  };
}
