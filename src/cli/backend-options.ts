/**
 * The backend options every command that touches the store shares, and the driver they select.
 */
import type { Command } from 'commander';
import { createDriver, DEFAULT_PGLITE_DATA_DIR } from '../storage/create-driver.js';
import { isStorageError } from '../storage/errors.js';
import type { SqlDriver } from '../storage/sql/driver.js';
import { scrubSecrets } from '../shared/scrub-secrets.js';

/** Parsed values of {@link addBackendOptions}. */
export interface BackendOptions {
  databaseUrl?: string;
  dataDir: string;
}

/**
 * Adds `--database-url <url>` (default `DATABASE_URL`; PostgreSQL) and `--data-dir <dir>` (the
 * embedded PGlite used when no URL is set; default `PGLITE_DATA_DIR`, else `./data/pglite`). Options of a group command are also accepted after
 * its subcommands (`migrate up --database-url ...`).
 */
export function addBackendOptions(command: Command): Command {
  return command
    .option('--database-url <url>', 'PostgreSQL connection string (default: $DATABASE_URL)')
    .option(
      '--data-dir <dir>',
      'embedded PGlite data directory, used when no database URL is set ($PGLITE_DATA_DIR sets the default)',
      process.env.PGLITE_DATA_DIR || DEFAULT_PGLITE_DATA_DIR,
    );
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

/** Prints an error without secrets and sets exit code 2 (1 is kept for "not up to date" answers). */
export function reportCommandError(error: unknown): void {
  const text = isStorageError(error) ? `${error.code}: ${error.message}` : error instanceof Error ? error.message : String(error);
  process.stderr.write(`error: ${scrubSecrets(text)}\n`);
  process.exitCode = 2;
}
