/**
 * `restore --in <file>`: restores a backup made by `backup` (or pg_dump) into the PostgreSQL
 * database (DATABASE_URL / --database-url) in one transaction: psql for `.sql` / `.sql.gz`,
 * pg_restore for `.dump`. The target must be empty (no user tables) unless --force, which
 * replaces the dumped objects. Prints the restored tables' counts and sums for comparison with
 * the source.
 *
 * Exit codes: 0 restored; 1 refused (target not empty); 2 failed (nothing restored).
 */
import type { Command } from 'commander';
import { BACKUP_FORMATS, restoreDatabase, type BackupFormat } from '../../migration/backup.js';
import { TABLES } from '../../storage/contract/transfer.js';
import { reportFailure } from '../output.js';
import { databaseUrlOf, databaseUrlOption, openStore } from '../store-options.js';
import { backupFormat } from './backup.js';

interface RestoreOptions {
  in: string;
  format?: BackupFormat;
  databaseUrl?: string;
  pgBinDir?: string;
  force?: boolean;
}

/** Adds the `restore` command to `program`. */
export function registerRestoreCommand(program: Command): void {
  program
    .command('restore')
    .description('restore a backup into an empty PostgreSQL database (psql for .sql/.sql.gz, pg_restore for .dump)')
    .requiredOption('--in <file>', 'backup file to restore')
    .option('--format <format>', `one of ${BACKUP_FORMATS.join(', ')} (default: from the file name)`, backupFormat)
    .addOption(databaseUrlOption())
    .option('--pg-bin-dir <dir>', 'directory of psql and pg_restore (default: PATH)')
    .option('--force', 'restore into a database that already has tables, replacing the dumped objects')
    .action(async (options: RestoreOptions) => {
      try {
        const databaseUrl = databaseUrlOf(options);
        if (databaseUrl === undefined) throw new Error('restore needs a PostgreSQL database (--database-url or DATABASE_URL)');
        const result = await restoreDatabase({ databaseUrl, binDir: options.pgBinDir }, options.in, {
          ...(options.format === undefined ? {} : { format: options.format }),
          force: options.force === true,
        });
        process.stdout.write(`restored ${options.in} in ${(result.durationMs / 1000).toFixed(1)} s\n`);
        const store = await openStore({ databaseUrl });
        try {
          for (const table of TABLES) {
            const s = await store.db.summarizeTable(table);
            process.stdout.write(`${table.padEnd(14)} ${String(s.count).padStart(10)} rows  amount sum ${s.amountSum}\n`);
          }
        } finally {
          await store.db.disconnect();
        }
      } catch (error) {
        process.exitCode = reportFailure(error);
      }
    });
}
