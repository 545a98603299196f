/**
 * The migration runner against real PostgreSQL (one throwaway database per case) and PGlite.
 */
import { existsSync } from 'node:fs';
import { appendFile, copyFile, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { PgliteDriver } from '../src/storage/backends/pglite/driver.js';
import { poolConfigFromEnv } from '../src/storage/backends/postgres/pool-config.js';
import { PgDriver } from '../src/storage/backends/postgres/driver.js';
import type { SqlDriver } from '../src/storage/backends/sql/driver.js';
import { DEFAULT_MIGRATIONS_DIR, readMigrationFiles } from '../src/storage/backends/sql/migration-files.js';
import { Migrator } from '../src/storage/backends/sql/migrator.js';
import { createTestDatabase } from './support/pg.js';
import { recordingLogger } from './support/logger.js';

const repo = fileURLToPath(new URL('..', import.meta.url));
const cleanups: Array<() => Promise<void>> = [];
afterAll(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup();
});

/** The ```sql block of section 3.1 of the guide, read at test time. */
async function guideDdl(): Promise<string> {
  const candidates = [process.env.GUIDE_PATH, resolve(repo, 'test/fixtures/guide-schema-ddl.md')];
  const path = candidates.find((c): c is string => c !== undefined && existsSync(c));
  if (path === undefined) throw new Error('DATABASE_MIGRATION_GUIDE.md not found; set GUIDE_PATH');
  const guide = await readFile(path, 'utf8');
  const match = /### 3\.1[^\n]*\n[\s\S]*?```sql\n([\s\S]*?)```/.exec(guide);
  if (match?.[1] === undefined) throw new Error('no ```sql block in section 3.1 of the guide');
  return match[1];
}

async function pgDriver(url?: string): Promise<PgDriver> {
  const connectionString = url ?? (await newDatabase());
  const { logger } = recordingLogger();
  const driver = new PgDriver(poolConfigFromEnv({ NODE_ENV: 'test' }, { connectionString }, logger), { logger });
  cleanups.push(() => driver.close());
  await driver.open();
  return driver;
}

async function newDatabase(): Promise<string> {
  const db = await createTestDatabase();
  cleanups.push(() => db.drop());
  return db.url;
}

/** A temp copy of the migrations directory, optionally only the first `count` files. */
async function migrationsCopy(count?: number): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'migrations-'));
  cleanups.push(() => rm(dir, { recursive: true, force: true }));
  const files = await readMigrationFiles(DEFAULT_MIGRATIONS_DIR);
  for (const file of files.slice(0, count)) await copyFile(join(DEFAULT_MIGRATIONS_DIR, file.fileName), join(dir, file.fileName));
  return dir;
}

/** Every schema object outside the ledger, as catalog rows that compare with toEqual. */
async function schemaOf(driver: SqlDriver): Promise<Record<string, unknown[]>> {
  const rows = async (sql: string) => (await driver.query(sql)).rows;
  return {
    extensions: await rows(`SELECT extname FROM pg_extension ORDER BY 1`),
    tables: await rows(`SELECT tablename FROM pg_tables WHERE schemaname = 'public' AND tablename <> 'schema_migrations' ORDER BY 1`),
    columns: await rows(
      `SELECT c.relname AS table, a.attnum, a.attname AS column, format_type(a.atttypid, a.atttypmod) AS type,
              a.attnotnull AS not_null, pg_get_expr(d.adbin, d.adrelid) AS default_value
         FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid JOIN pg_namespace n ON n.oid = c.relnamespace
         LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
        WHERE n.nspname = 'public' AND c.relkind = 'r' AND a.attnum > 0 AND NOT a.attisdropped AND c.relname <> 'schema_migrations'
        ORDER BY 1, 2`,
    ),
    constraints: await rows(
      `SELECT conrelid::regclass::text AS table, conname, contype, pg_get_constraintdef(oid) AS definition
         FROM pg_constraint WHERE connamespace = 'public'::regnamespace AND conrelid::regclass::text <> 'schema_migrations'
        ORDER BY 1, 2`,
    ),
    indexes: await rows(`SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = 'public' AND tablename <> 'schema_migrations' ORDER BY 1`),
    triggers: await rows(`SELECT tgname, pg_get_triggerdef(oid) AS definition FROM pg_trigger WHERE NOT tgisinternal ORDER BY 1`),
    functions: await rows(
      `SELECT p.proname, pg_get_function_identity_arguments(p.oid) AS args, pg_get_functiondef(p.oid) AS definition
         FROM pg_proc p WHERE p.pronamespace = 'public'::regnamespace AND p.prokind = 'f' ORDER BY 1, 2`,
    ),
  };
}

async function ledgerCount(driver: SqlDriver): Promise<number> {
  const { rows } = await driver.query<{ n: number }>('SELECT count(*)::int AS n FROM schema_migrations');
  return rows[0]?.n ?? -1;
}

describe('migration 001', () => {
  it('is the guide DDL, statement for statement', async () => {
    const [ddl, file] = await Promise.all([guideDdl(), readFile(join(DEFAULT_MIGRATIONS_DIR, '001_initial_schema.sql'), 'utf8')]);
    // Only a header of `--` comment lines may precede the guide's text.
    const header = file.slice(0, file.length - ddl.length);
    expect(file.endsWith(ddl)).toBe(true);
    expect(header.split('\n').every((line) => line === '' || line.startsWith('--'))).toBe(true);
  });

  it('creates exactly the schema of the guide DDL applied by hand', async () => {
    const [byHand, migrated] = await Promise.all([pgDriver(), pgDriver()]);
    await byHand.query(await guideDdl());
    const outcome = await new Migrator(migrated, { dir: await migrationsCopy(1) }).up();
    expect(outcome.error).toBeUndefined();
    const [expected, actual] = [await schemaOf(byHand), await schemaOf(migrated)];
    expect(expected.tables).toHaveLength(5);
    expect(expected.triggers).toHaveLength(2);
    expect(actual).toEqual(expected);
  });
});

describe('Migrator on PostgreSQL', () => {
  it('reports every migration pending on a fresh database, without creating the ledger', async () => {
    const driver = await pgDriver();
    const files = await readMigrationFiles(DEFAULT_MIGRATIONS_DIR);
    const statuses = await new Migrator(driver).status();
    expect(statuses.map((s) => [s.version, s.state])).toEqual(files.map((f) => [f.version, 'pending']));
    const { rows } = await driver.query(`SELECT to_regclass('schema_migrations') AS t`);
    expect(rows[0]).toEqual({ t: null });
  });

  it('applies each migration exactly once when two migrators race', async () => {
    const url = await newDatabase();
    const [a, b] = await Promise.all([pgDriver(url), pgDriver(url)]);
    const files = await readMigrationFiles(DEFAULT_MIGRATIONS_DIR);
    const [ra, rb] = await Promise.all([new Migrator(a).up(), new Migrator(b).up()]);
    expect(ra.error).toBeUndefined();
    expect(rb.error).toBeUndefined();
    const applied = [...ra.applied, ...rb.applied].map((m) => m.version).sort((x, y) => x - y);
    expect(applied).toEqual(files.map((f) => f.version));
    expect(await ledgerCount(a)).toBe(files.length);
    expect((await new Migrator(a).status()).every((s) => s.state === 'applied')).toBe(true);
    expect(await new Migrator(b).up()).toEqual({ applied: [], results: [] });
  });

  it('refuses to run anything once an applied file changed, and reports drifted / missing', async () => {
    const driver = await pgDriver();
    const dir = await migrationsCopy(1);
    expect((await new Migrator(driver, { dir }).up()).error).toBeUndefined();
    await appendFile(join(dir, '001_initial_schema.sql'), '\n-- edited after release\n');
    await writeFile(join(dir, '900_probe.sql'), 'CREATE TABLE probe (id INTEGER);\n');
    const migrator = new Migrator(driver, { dir });
    expect((await migrator.status()).map((s) => [s.version, s.state])).toEqual([
      [1, 'drifted'],
      [900, 'pending'],
    ]);
    const outcome = await migrator.up();
    expect(outcome.error?.code).toBe('CONFLICT');
    expect(outcome.error?.message).toContain('001_initial_schema (drifted)');
    expect(outcome.results).toEqual([{ version: 900, name: 'probe', status: 'NotExecuted' }]);
    expect((await driver.query(`SELECT to_regclass('probe') AS t`)).rows[0]).toEqual({ t: null });

    await rm(join(dir, '001_initial_schema.sql'));
    expect((await migrator.status()).map((s) => [s.version, s.state])).toEqual([
      [1, 'missing'],
      [900, 'pending'],
    ]);
    expect((await migrator.up()).error?.code).toBe('CONFLICT');
  });

  it('stops at a failing migration, leaving it and later ones unapplied', async () => {
    const driver = await pgDriver();
    const dir = await migrationsCopy(1);
    await writeFile(join(dir, '800_bad.sql'), 'CREATE TABLE half (id INTEGER);\nSELECT * FROM no_such_table;\n');
    await writeFile(join(dir, '801_after.sql'), 'CREATE TABLE after_bad (id INTEGER);\n');
    const outcome = await new Migrator(driver, { dir }).up();
    expect(outcome.results.map((r) => r.status)).toEqual(['Success', 'Error', 'NotExecuted']);
    expect(outcome.error?.message).toContain('800_bad.sql');
    expect(outcome.applied).toEqual([{ version: 1, name: 'initial_schema' }]);
    // The failed file's first statement was rolled back with it.
    expect((await driver.query(`SELECT to_regclass('half') AS t`)).rows[0]).toEqual({ t: null });
    expect(await ledgerCount(driver)).toBe(1);
  });

  it('baselines a database made by hand from the guide, then applies only later migrations', async () => {
    const driver = await pgDriver();
    await driver.query(await guideDdl());
    const migrator = new Migrator(driver);
    expect(await migrator.baseline()).toEqual({ version: 1, name: 'initial_schema' });
    const files = await readMigrationFiles(DEFAULT_MIGRATIONS_DIR);
    const outcome = await migrator.up();
    expect(outcome.error).toBeUndefined();
    expect(outcome.applied.map((m) => m.version)).toEqual(files.slice(1).map((f) => f.version));
    await expect(migrator.baseline()).rejects.toMatchObject({ code: 'CONFLICT', message: expect.stringContaining('history') });
  });

  it('refuses to baseline a database that lacks the schema', async () => {
    const driver = await pgDriver();
    await driver.query(await guideDdl());
    await driver.query('DROP TABLE x402_batches');
    await expect(new Migrator(driver).baseline()).rejects.toMatchObject({
      code: 'CONFLICT',
      details: { missing: ['table x402_batches'] },
    });
    expect((await driver.query(`SELECT to_regclass('schema_migrations') AS t`)).rows[0]).toEqual({ t: null });
  });
});

describe('Migrator on PGlite', () => {
  it('applies every migration in memory and reports them applied', async () => {
    const driver = new PgliteDriver();
    cleanups.push(() => driver.close());
    await driver.open();
    const files = await readMigrationFiles(DEFAULT_MIGRATIONS_DIR);
    const migrator = new Migrator(driver);
    expect((await migrator.status()).every((s) => s.state === 'pending')).toBe(true);
    const outcome = await migrator.up();
    expect(outcome.error).toBeUndefined();
    expect(outcome.applied.map((m) => m.version)).toEqual(files.map((f) => f.version));
    const statuses = await migrator.status();
    expect(statuses.map((s) => s.state)).toEqual(files.map(() => 'applied'));
    expect(statuses[0]?.appliedAt).toBeInstanceOf(Date);
    expect(await migrator.up()).toEqual({ applied: [], results: [] });
  });
});
