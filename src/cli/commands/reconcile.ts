/**
 * `reconcile`: checks every hourly batch's total and count against its payments, and lists the
 * settled payments the service could not record yet (its pending-payments file) and the lines of
 * that file that could not be read (kept aside in `<file>.damaged`).
 * Exit codes: 0 clean; 1 differences, pending payments or damaged lines found; 2 the command could not run.
 */
import type { Command } from 'commander';
import { readPendingFile } from '../../ledger/pending-payments-file.js';
import type { DamagedLine, PendingPayment } from '../../ledger/pending-payments.js';
import { pendingPaymentsFileFromEnv } from '../../config.js';
import type { ReconcileReport } from '../../storage/contract/ledger-queries.js';
import { jsonWithAmounts, reportFailure } from '../output.js';
import { addBackendOptions, openStore, type BackendOptions } from '../store-options.js';

/** Renders a report as JSON with amounts as decimal strings. */
export function reconcileReportJson(report: ReconcileReport & { pendingPayments: PendingPayment[]; damagedPendingLines: DamagedLine[] }): string {
  return jsonWithAmounts(report);
}

/** Registers `reconcile`. */
export function registerReconcileCommand(program: Command): void {
  addBackendOptions(
    program
      .command('reconcile')
      .description('check every batch total and count against its payments, and the pending payments; exit 1 on any difference')
      .option('--json', 'print the report as JSON')
      .option('--pending-file <path>', 'pending-payments file of the service', pendingPaymentsFileFromEnv()),
  ).action(async (options: BackendOptions & { json?: boolean; pendingFile: string }) => {
    try {
      const { db } = await openStore(options);
      try {
        const report = await db.reconcile();
        const { pending: pendingPayments, damaged: damagedPendingLines } = await readPendingFile(options.pendingFile);
        if (options.json) process.stdout.write(`${reconcileReportJson({ ...report, pendingPayments, damagedPendingLines })}\n`);
        else {
          process.stdout.write(`checked ${report.batchesChecked} batches and ${report.paymentsChecked} payments\n`);
          for (const d of report.differences) {
            process.stdout.write(
              `  lease ${d.leaseId} hour ${d.hourBucket}: batch ${d.storedTotal}/${d.storedCount}, payments ${d.paymentsTotal}/${d.paymentsCount}\n`,
            );
          }
          for (const p of pendingPayments) {
            process.stdout.write(`  pending: lease ${p.leaseId} settlement ${p.facilitatorTxHash} (${p.attempts} attempts): ${p.error}\n`);
          }
          for (const d of damagedPendingLines) {
            process.stdout.write(`  damaged: ${d.file} line ${d.line} (${d.reason})${d.setAsideAt === null ? '' : `, kept aside ${d.setAsideAt}`}: ${d.text}\n`);
          }
          const problems = report.differences.length + pendingPayments.length + damagedPendingLines.length;
          process.stdout.write(
            problems === 0
              ? 'clean\n'
              : `${report.differences.length} difference(s), ${pendingPayments.length} pending payment(s), ${damagedPendingLines.length} damaged pending line(s)\n`,
          );
        }
        if (report.differences.length > 0 || pendingPayments.length > 0 || damagedPendingLines.length > 0) process.exitCode = 1;
      } finally {
        await db.disconnect();
      }
    } catch (error) {
      process.exitCode = reportFailure(error);
    }
  });
}
