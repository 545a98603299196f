/**
 * PGlite databases for tests, each started from one copy of a new database instead of its own
 * initdb: creating a PGlite database took 4.5 s alone and 5-14 s beside the rest of the suite, 28
 * times in a run (20 in memory, 8 in a data directory); loading an in-memory copy takes about a
 * third of that, and copying a data directory a fraction of a second. Each copy is made once per
 * test worker (a worker runs its files in one process, vitest.config.ts) by a plain `PgliteDriver`
 * and holds no schema, so every store still runs the migrations itself. The tests of a first
 * start (test/pglite-driver.test.ts, test/migrations.test.ts, the embedded default of
 * test/api/main.test.ts, the packed service of test/pack.test.ts) keep starting from nothing.
 */
import { rmSync } from 'node:fs';
import { cp, mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PgliteDriver } from '../../src/storage/backends/pglite/driver.js';
import { PgliteDatabase } from '../../src/storage/backends/pglite/pglite-database.js';
import type { SqlDatabaseOptions } from '../../src/storage/backends/sql/sql-database.js';

let template: Promise<Blob> | undefined;

/** The data directory of a new, empty PGlite database, made on first use in this process. */
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

let templateDir: Promise<string> | undefined;

/**
 * Makes `dir` (which must not exist) the data directory of a new, empty PGlite database, copied
 * from one made on first use in this process (removed when the process exits); returns `dir`.
 */
export async function seededPgliteDir(dir: string): Promise<string> {
  if (templateDir === undefined) {
    templateDir = (async () => {
      const root = await mkdtemp(join(tmpdir(), 'pglite-template-'));
      process.once('exit', () => rmSync(root, { recursive: true, force: true }));
      const made = join(root, 'pglite');
      const driver = new PgliteDriver(made);
      await driver.open();
      await driver.close();
      return made;
    })();
    templateDir.catch(() => (templateDir = undefined));
  }
  await cp(await templateDir, dir, { recursive: true, errorOnExist: true, force: false });
  return dir;
}
