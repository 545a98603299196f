/**
 * `reconcile`: checks every hourly batch's total and count against its payments.
 * Exit codes: 0 clean; 1 differences found; 2 the command could not run.
 */
import type { Command } from 'commander';
import type { ReconcileReport } from '../../storage/ledger-queries.js';
import { addBackendOptions, openStore, reportCommandError, type BackendOptions } from '../backend-options.js';

/** Renders a report as JSON with amounts as decimal strings. */
export function reconcileReportJson(report: ReconcileReport): string {
  return JSON.stringify(report, (_key, value: unknown) => (typeof value === 'bigint' ? value.toString() : value));
}

/** Registers `reconcile`. */
export function registerReconcileCommand(program: Command): void {
  addBackendOptions(
    program
      .command('reconcile')
      .description('check every batch total and count against its payments; exit 1 on any difference')
      .option('--json', 'print the report as JSON'),
  ).action(async (options: BackendOptions & { json?: boolean }) => {
    try {
      const { db } = await openStore(options);
      try {
        const report = await db.reconcile();
        if (options.json) process.stdout.write(`${reconcileReportJson(report)}\n`);
        else {
          process.stdout.write(`checked ${report.batchesChecked} batches and ${report.paymentsChecked} payments\n`);
          for (const d of report.differences) {
            process.stdout.write(
              `  lease ${d.leaseId} hour ${d.hourBucket}: batch ${d.storedTotal}/${d.storedCount}, payments ${d.paymentsTotal}/${d.paymentsCount}\n`,
            );
          }
          process.stdout.write(report.differences.length === 0 ? 'clean\n' : `${report.differences.length} difference(s)\n`);
        }
        if (report.differences.length > 0) process.exitCode = 1;
      } finally {
        await db.disconnect();
      }
    } catch (error) {
      reportCommandError(error);
    }
  });
}
