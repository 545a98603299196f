/**
 * In-memory PGlite stores for tests, each started from one copy of a new database instead of its
 * own initdb: creating a PGlite database took 2.8-4.6 s alone and 5-12 s beside the rest of the
 * suite, 20 times in a run; loading the copy takes 1.1-1.4 s alone. The copy is made once per
 * test worker (a worker runs its files in one process, vitest.config.ts) by a plain
 * `new PgliteDriver()` and holds no schema, so every store still runs the migrations itself. The
 * tests of a first start (test/pglite-driver.test.ts, test/migrations.test.ts, and every service
 * or CLI started on a data directory) keep starting from nothing. It is kept in memory only: a
 * copy on disk would need removing when the worker ends, which vitest does not announce.
 */
import { PgliteDriver } from '../../src/storage/backends/pglite/driver.js';
import { PgliteDatabase } from '../../src/storage/backends/pglite/pglite-database.js';
import type { SqlDatabaseOptions } from '../../src/storage/backends/sql/sql-database.js';

let template: Promise<Blob> | undefined;

/** A copy (a tar) of the data directory of a new, empty PGlite database, made on first use in this process. */
export function pgliteTemplate(): Promise<Blob> {
  if (template === undefined) {
    template = (async () => {
      const driver = new PgliteDriver();
      await driver.open();
      try {
        return await driver.dumpDataDir();
      } finally {
        await driver.close();
      }
    })();
    // A failed copy is made again by the next caller rather than failing every later test.
    template.catch(() => (template = undefined));
  }
  return template;
}

/** A new in-memory PGlite driver, started from {@link pgliteTemplate}. */
export async function pgliteDriver(): Promise<PgliteDriver> {
  return new PgliteDriver(undefined, { loadDataDir: await pgliteTemplate() });
}

/** A new in-memory PgliteDatabase, started from {@link pgliteTemplate}. */
export async function pgliteDatabase(options: SqlDatabaseOptions = {}): Promise<PgliteDatabase> {
  return new PgliteDatabase(undefined, { ...options, loadDataDir: await pgliteTemplate() });
}
