/**
 * `migrate-data --from <snapshot file | postgres url> --to <postgres url>`: copies every table,
 * ids kept, in batches of one transaction each, then verifies counts, ids and sums per table.
 * Safe to re-run after an interruption: existing ids are skipped. Progress goes to stderr (a bar
 * on a terminal, JSON lines otherwise), the report to stdout.
 *
 * Exit codes: 0 verified; 1 differences found, snapshot refused or schema not current; 2 failed.
 */
import type { Command } from 'commander';
import { migrateData } from '../../migration/migrate-data.js';
import type { Database } from '../../storage/contract/database.js';
import { redactConnectionString } from '../../storage/backends/sql/map-driver-error.js';
import { progressPrinter, reportFailure, reportJson, reportText } from '../output.js';
import { isPostgresUrl, openStore, openTarget, positiveInt } from '../store-options.js';

/** Options shared by `migrate-data` and `import`. */
export interface MigrationRunOptions {
  dryRun?: boolean;
  batchSize: number;
  concurrency: number;
  validateFirst?: boolean;
  applySchema?: boolean;
  json?: boolean;
  merge?: boolean;
}

/** Adds the options of {@link MigrationRunOptions} to a command. */
export function addMigrationRunOptions(command: Command): Command {
  return command
    .option('--dry-run', 'read and verify the source only (every record validated); write nothing')
    .option('--batch-size <n>', 'records per transaction', positiveInt, 5_000)
    .option('--concurrency <n>', 'batches of one table written at the same time', positiveInt, 2)
    .option('--validate-first', 'snapshots: validate every record before writing any (slower)')
    .option('--apply-schema', 'apply pending schema migrations to the target first')
    .option('--merge', 'the target may hold other records (e.g. a retention snapshot imported back): verify that every source record is there and equal, and that the target grew by what was inserted')
    .option('--json', 'print the report as JSON');
}

/**
 * Runs one migration with progress and report output; returns the exit code. `target` is opened
 * only for a real run (a dry run reads the source alone).
 */
export async function runMigration(source: Database | string, openTarget: () => Promise<{ db: Database; close: () => Promise<void> }>, options: MigrationRunOptions): Promise<number> {
  const progress = progressPrinter();
  const target = options.dryRun ? undefined : await openTarget();
  try {
    const report = await migrateData(source, target?.db ?? nothing, {
      batchSize: options.batchSize,
      concurrency: options.concurrency,
      dryRun: options.dryRun === true,
      validateFirst: options.validateFirst === true,
      merge: options.merge === true,
      onProgress: progress,
    });
    progress.done();
    process.stdout.write(options.json ? `${reportJson(report)}\n` : reportText(report));
    return report.ok ? 0 : 1;
  } finally {
    progress.done();
    await target?.close();
  }
}

// A dry run never touches the target; this stands in for it and fails loudly if it ever did.
const nothing = new Proxy({} as Database, {
  get: () => {
    throw new Error('a dry run must not use the target');
  },
});

interface MigrateDataOptions extends MigrationRunOptions {
  from: string;
  to?: string;
}

/** Adds the `migrate-data` command to `program`. */
export function registerMigrateDataCommand(program: Command): void {
  addMigrationRunOptions(
    program
      .command('migrate-data')
      .description('copy every record from a snapshot or database into a PostgreSQL database, then verify counts, ids and sums')
      .requiredOption('--from <source>', 'snapshot file, or postgres:// URL of the source database')
      .option('--to <url>', 'postgres:// URL of the target database (not needed with --dry-run)'),
  ).action(async (options: MigrateDataOptions) => {
    try {
      if (!options.dryRun && (options.to === undefined || !isPostgresUrl(options.to))) throw new Error('--to must be a postgres:// URL');
      const source = isPostgresUrl(options.from) ? await openStore({ databaseUrl: options.from }) : undefined;
      try {
        if (source) process.stderr.write(`source: ${redactConnectionString(options.from)}\n`);
        const openTo = () => openTarget({ databaseUrl: options.to }, options.applySchema === true);
        process.exitCode = await runMigration(source?.db ?? options.from, openTo, options);
      } finally {
        await source?.db.disconnect();
      }
    } catch (error) {
      process.exitCode = reportFailure(error);
    }
  });
}
