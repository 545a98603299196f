/**
 * The store a command works on, shared by every command that touches one: the backend options
 * (`--database-url`, `--data-dir`) and the PostgreSQL URL they give, opening the driver (schema
 * commands) or the store (data commands), and checking the schema before data is written.
 */
import { InvalidArgumentError, Option, type Command } from 'commander';
import { DEFAULT_PGLITE_DATA_DIR, createDatabase, createDriver, type ConfiguredDatabase } from '../storage/create-database.js';
import type { SqlDriver } from '../storage/backends/sql/driver.js';

/** Parsed values of {@link addBackendOptions}. */
export interface BackendOptions {
  databaseUrl?: string;
  dataDir: string;
}

/** `--database-url <url>` (default `DATABASE_URL`), alone for the commands that need PostgreSQL. */
export function databaseUrlOption(): Option {
  return new Option('--database-url <url>', 'PostgreSQL connection string (default: $DATABASE_URL)');
}

/**
 * Adds `--database-url <url>` (default `DATABASE_URL`; PostgreSQL) and `--data-dir <dir>` (the
 * embedded PGlite used when no URL is set; default `PGLITE_DATA_DIR`, else `./data/pglite`). Options of a group command are also accepted after
 * its subcommands (`migrate up --database-url ...`).
 */
export function addBackendOptions(command: Command): Command {
  return command
    .addOption(databaseUrlOption())
    .option(
      '--data-dir <dir>',
      'embedded PGlite data directory, used when no database URL is set ($PGLITE_DATA_DIR sets the default)',
      process.env.PGLITE_DATA_DIR || DEFAULT_PGLITE_DATA_DIR,
    );
}

/** Commander parser of a positive integer option. */
export function positiveInt(value: string): number {
  if (!/^[1-9][0-9]*$/.test(value) || !Number.isSafeInteger(Number(value))) throw new InvalidArgumentError('expected a positive integer');
  return Number(value);
}

/** The PostgreSQL URL of the options or `DATABASE_URL`, if any. */
export function databaseUrlOf(options: { databaseUrl?: string | undefined }): string | undefined {
  return options.databaseUrl || process.env['DATABASE_URL'] || undefined;
}

/** True for a `postgres://` or `postgresql://` connection string. */
export function isPostgresUrl(value: string): boolean {
  return /^postgres(ql)?:\/\//i.test(value);
}

/** Creates and opens the driver chosen by the options; the caller closes it. */
export async function openDriver(options: BackendOptions): Promise<SqlDriver> {
  const driver = await createDriver({ databaseUrl: options.databaseUrl, dataDir: options.dataDir });
  try {
    await driver.open();
  } catch (error) {
    await driver.close().catch(() => undefined);
    throw error;
  }
  return driver;
}

/** Opens the store the options select: PostgreSQL from a URL, else PGlite in the data directory. */
export async function openStore(options: { databaseUrl?: string | undefined; dataDir?: string | undefined }): Promise<ConfiguredDatabase> {
  const databaseUrl = databaseUrlOf(options);
  const store = await createDatabase({ databaseUrl, dataDir: options.dataDir, env: process.env });
  await store.db.connect();
  return store;
}

/**
 * Makes sure the store's schema is current before data is written: applies pending migrations
 * when `apply` is set, otherwise refuses with the command to run, because a data command that
 * silently changed a production schema would surprise its operator.
 */
export async function ensureSchema(store: ConfiguredDatabase, apply: boolean): Promise<void> {
  if (!store.db.capabilities.sql) return;
  const statuses = await store.schema.status();
  const behind = statuses.filter((s) => s.state !== 'applied');
  if (statuses.length > 0 && behind.length === 0) return;
  if (!apply) {
    const names = behind.map((s) => `${String(s.version).padStart(3, '0')}_${s.name} (${s.state})`).join(', ');
    throw new SchemaNotReadyError(`the target schema is not current (${names || 'no migrations'}); run \`leasing-store migrate up\` first or pass --apply-schema`);
  }
  const result = await store.schema.up();
  if (result.error) throw result.error;
}

/** The target's schema needs migrations first. */
export class SchemaNotReadyError extends Error {
  override readonly name = 'SchemaNotReadyError';
}

/** Opens a store to write into, with its schema checked (see {@link ensureSchema}). */
export async function openTarget(
  options: { databaseUrl?: string | undefined; dataDir?: string | undefined },
  applySchema: boolean,
): Promise<{ db: ConfiguredDatabase['db']; close: () => Promise<void> }> {
  const store = await openStore(options);
  try {
    await ensureSchema(store, applySchema);
  } catch (error) {
    await store.db.disconnect();
    throw error;
  }
  return { db: store.db, close: () => store.db.disconnect() };
}
