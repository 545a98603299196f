/**
 * `retention --older-than-days N [--execute] --snapshot <file>`: archives the payment partitions
 * of days older than N days (see src/migration/retention.ts). Without `--execute` it only prints
 * what it would do. Partitions with unsettled batches, uncarried late payments or reconcile
 * differences are kept and listed with the reason.
 * Exit codes: 0 done (or planned); 2 the command could not run or was refused (nothing dropped).
 */
import type { Command } from 'commander';
import { runRetention, type RetentionReport } from '../../migration/retention.js';
import { jsonWithAmounts, reportFailure } from '../output.js';
import { addBackendOptions, openDriver, positiveInt, type BackendOptions } from '../store-options.js';

interface RetentionCliOptions extends BackendOptions {
  olderThanDays: number;
  execute?: boolean;
  snapshot?: string;
  json?: boolean;
}

function printReport(report: RetentionReport): void {
  const write = (line: string) => process.stdout.write(`${line}\n`);
  write(`${report.executed ? 'retention' : 'retention (dry run: nothing is written; pass --execute)'}: day partitions ending by ${report.cutoff.toISOString()}`);
  for (const c of report.candidates) {
    const what = `${c.name}: ${c.payments} payments (${c.amountSum}), ${c.batches} batches`;
    if (c.refused.length > 0) write(`  keep    ${what}: ${c.refused.join('; ')}`);
    else write(`  ${report.executed ? 'dropped' : 'archive'} ${what}`);
  }
  if (report.candidates.length === 0) write('  no partition is old enough');
  if (report.snapshot) {
    write(`snapshot ${report.snapshot.path}: ${report.snapshot.trailer.records} records, sha256 ${report.snapshot.trailer.sha256}`);
    // The live store kept the newer days, so it is not expected to equal the snapshot.
    write(`to bring it back: leasing-store import --in ${report.snapshot.path} --merge`);
  }
}

/** Registers `retention`. */
export function registerRetentionCommand(program: Command): void {
  addBackendOptions(
    program
      .command('retention')
      .description('export settled, reconciled payment partitions older than N days to a snapshot, then drop them (dry run unless --execute)')
      .requiredOption('--older-than-days <n>', 'archive day partitions that ended at least N days ago', positiveInt)
      .option('--snapshot <file>', 'snapshot file to write the archived records to (required with --execute)')
      .option('--execute', 'export, verify and drop; without it only the plan is printed')
      .option('--json', 'print the report as JSON'),
  ).action(async (options: RetentionCliOptions) => {
    try {
      const driver = await openDriver(options);
      try {
        const report = await runRetention(driver, {
          olderThanDays: options.olderThanDays,
          execute: options.execute === true,
          ...(options.snapshot === undefined ? {} : { snapshot: options.snapshot }),
        });
        if (options.json) process.stdout.write(`${jsonWithAmounts(report)}\n`);
        else printReport(report);
      } finally {
        await driver.close();
      }
    } catch (error) {
      process.exitCode = reportFailure(error);
    }
  });
}
