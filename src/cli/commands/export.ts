/**
 * `export --out <file>`: writes a snapshot of the configured store (DATABASE_URL /
 * --database-url, else the embedded store in --data-dir). Exit codes: 0 written; 2 failed.
 */
import { existsSync } from 'node:fs';
import type { Command } from 'commander';
import { exportSnapshot } from '../../migration/snapshot-writer.js';
import { reportFailure } from '../output.js';
import { addBackendOptions, openStore, positiveInt, type BackendOptions } from '../store-options.js';

interface ExportOptions extends BackendOptions {
  out: string;
  pageSize: number;
  force?: boolean;
}

/** Adds the `export` command to `program`. */
export function registerExportCommand(program: Command): void {
  addBackendOptions(program.command('export'))
    .description('write every record of the store to a snapshot file (JSON Lines, verified on import)')
    .requiredOption('--out <file>', 'snapshot file to write')
    .option('--page-size <n>', 'records read per query (1-10000)', positiveInt, 5_000)
    .option('--force', 'overwrite an existing file')
    .action(async (options: ExportOptions) => {
      try {
        if (existsSync(options.out) && !options.force) throw new Error(`${options.out} exists; pass --force to overwrite it`);
        const store = await openStore(options);
        try {
          const trailer = await exportSnapshot(store.db, options.out, { pageSize: Math.min(options.pageSize, 10_000) });
          const counts = Object.entries(trailer.tables).map(([t, d]) => `${t} ${d.count}`).join(', ');
          process.stdout.write(`wrote ${trailer.records} records (${counts}) from ${store.description} to ${options.out}\n`);
        } finally {
          await store.db.disconnect();
        }
      } catch (error) {
        process.exitCode = reportFailure(error);
      }
    });
}
