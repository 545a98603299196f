/**
 * `backup --out <file>`: pg_dump of the PostgreSQL database (DATABASE_URL / --database-url) as
 * plain SQL (`.sql`), gzipped SQL (`.sql.gz`) or pg_dump's custom format (`.dump`, restored with
 * pg_restore); the format follows the file name unless --format says otherwise. The password
 * reaches pg_dump through its environment, never its command line.
 *
 * Exit codes: 0 written; 2 failed (nothing is left under the file name).
 */
import { existsSync } from 'node:fs';
import { InvalidArgumentError, type Command } from 'commander';
import { BACKUP_FORMATS, backupDatabase, formatOfPath, type BackupFormat } from '../../migration/backup.js';
import { reportFailure } from '../output.js';
import { databaseUrlOf, databaseUrlOption } from '../store-options.js';

/** Commander parser of `--format`. */
export function backupFormat(value: string): BackupFormat {
  if (!(BACKUP_FORMATS as readonly string[]).includes(value)) throw new InvalidArgumentError(`expected one of ${BACKUP_FORMATS.join(', ')}`);
  return value as BackupFormat;
}

interface BackupOptions {
  out: string;
  format?: BackupFormat;
  databaseUrl?: string;
  pgBinDir?: string;
  force?: boolean;
}

/** Adds the `backup` command to `program`. */
export function registerBackupCommand(program: Command): void {
  program
    .command('backup')
    .description('dump the PostgreSQL database with pg_dump (plain .sql, gzip .sql.gz, or custom .dump)')
    .requiredOption('--out <file>', 'backup file to write, e.g. backup_20260225.sql.gz')
    .option('--format <format>', `one of ${BACKUP_FORMATS.join(', ')} (default: from the file name)`, backupFormat)
    .addOption(databaseUrlOption())
    .option('--pg-bin-dir <dir>', 'directory of pg_dump (default: PATH)')
    .option('--force', 'overwrite an existing file')
    .action(async (options: BackupOptions) => {
      try {
        const databaseUrl = databaseUrlOf(options);
        if (databaseUrl === undefined) throw new Error('backup needs a PostgreSQL database (--database-url or DATABASE_URL); for the embedded store use `export`');
        if (existsSync(options.out) && !options.force) throw new Error(`${options.out} exists; pass --force to overwrite it`);
        const format = options.format ?? formatOfPath(options.out);
        const result = await backupDatabase({ databaseUrl, binDir: options.pgBinDir }, options.out, format);
        process.stdout.write(`wrote ${result.format} backup ${result.path} (${result.bytes} bytes) in ${(result.durationMs / 1000).toFixed(1)} s\n`);
      } catch (error) {
        process.exitCode = reportFailure(error);
      }
    });
}
