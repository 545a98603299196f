/**
 * `import --in <file>`: loads a snapshot into the configured store (DATABASE_URL /
 * --database-url, else the embedded store in --data-dir). The file is verified completely before
 * the first write; existing ids are skipped, so a repeated or resumed import adds only what is
 * missing. Exit codes as `migrate-data`.
 */
import type { Command } from 'commander';
import { reportFailure } from '../output.js';
import { addBackendOptions, openTarget, type BackendOptions } from '../store-options.js';
import { addMigrationRunOptions, runMigration, type MigrationRunOptions } from './migrate-data.js';

interface ImportOptions extends MigrationRunOptions, BackendOptions {
  in: string;
}

/** Adds the `import` command to `program`. */
export function registerImportCommand(program: Command): void {
  addMigrationRunOptions(
    addBackendOptions(program.command('import'))
      .description('load a snapshot file into the store, then verify counts, ids and sums')
      .requiredOption('--in <file>', 'snapshot file to read'),
  ).action(async (options: ImportOptions) => {
    try {
      process.exitCode = await runMigration(options.in, () => openTarget(options, options.applySchema === true), options);
    } catch (error) {
      process.exitCode = reportFailure(error);
    }
  });
}
