/**
 * `reconcile`: checks every hourly batch's total and count against its payments, and lists the
 * settled payments the service could not record yet (its pending-payments file) and the
 * settlements of its journal whose money moved without a ledger row, or whose outcome is unknown.
 * Exit codes: 0 clean; 1 differences, pending payments or such settlements found; 2 the command
 * could not run.
 */
import type { Command } from 'commander';
import { readPendingFile } from '../../ledger/pending-payments-file.js';
import type { PendingPayment } from '../../ledger/pending-payments.js';
import { dataFileFromEnv, pendingPaymentsFileFromEnv } from '../../config.js';
import { readJournalFile } from '../../ledger/settlement-journal-file.js';
import { moneyOutsideLedger, type SettlementIntent } from '../../ledger/settlement-journal.js';
import type { ReconcileReport } from '../../storage/contract/ledger-queries.js';
import { jsonWithAmounts, reportFailure } from '../output.js';
import { addBackendOptions, openStore, type BackendOptions } from '../store-options.js';

/** Renders a report as JSON with amounts as decimal strings. */
export function reconcileReportJson(report: ReconcileReport & { pendingPayments: PendingPayment[]; unresolvedSettlements: SettlementIntent[] }): string {
  return jsonWithAmounts(report);
}

/** Registers `reconcile`. */
export function registerReconcileCommand(program: Command): void {
  addBackendOptions(
    program
      .command('reconcile')
      .description('check every batch total and count against its payments; exit 1 on any difference')
      .option('--json', 'print the report as JSON')
      .option('--pending-file <path>', 'pending-payments file of the service', pendingPaymentsFileFromEnv())
      .option('--journal-file <path>', 'settlement journal of the service', dataFileFromEnv(process.env, 'SETTLEMENT_JOURNAL_FILE', 'settlement-journal.jsonl')),
  ).action(async (options: BackendOptions & { json?: boolean; pendingFile: string; journalFile: string }) => {
    try {
      const { db } = await openStore(options);
      try {
        const report = await db.reconcile();
        const pendingPayments = await readPendingFile(options.pendingFile);
        const unresolvedSettlements = (await readJournalFile(options.journalFile)).unresolved;
        const outside = moneyOutsideLedger(unresolvedSettlements);
        if (options.json) process.stdout.write(`${reconcileReportJson({ ...report, pendingPayments, unresolvedSettlements })}\n`);
        else {
          process.stdout.write(`checked ${report.batchesChecked} batches and ${report.paymentsChecked} payments\n`);
          for (const d of report.differences) {
            process.stdout.write(
              `  lease ${d.leaseId} hour ${d.hourBucket}: batch ${d.storedTotal}/${d.storedCount}, payments ${d.paymentsTotal}/${d.paymentsCount}\n`,
            );
          }
          for (const l of report.latePayments) {
            const carried = l.carriedToBatchId === null ? 'waiting for the lease\'s next settlement' : `carried by batch ${l.carriedToBatchId}`;
            process.stdout.write(`  late: lease ${l.leaseId} hour ${l.hourBucket} settlement ${l.facilitatorTxHash} ${l.amountMinorUnits}: ${carried}\n`);
          }
          for (const p of pendingPayments) {
            process.stdout.write(`  pending: lease ${p.leaseId} settlement ${p.facilitatorTxHash} (${p.attempts} attempts): ${p.error}\n`);
          }
          for (const i of outside) {
            const what = i.state === 'settled' ? `settled as ${i.transaction ?? '?'}, not recorded` : `settlement unknown: ${i.reason ?? 'no answer'}`;
            process.stdout.write(`  journal ${i.id}: lease ${i.leaseId} ${i.amount} from ${i.payer}, nonce ${i.nonce}: ${what}\n`);
          }
          const problems = report.differences.length + pendingPayments.length + outside.length;
          process.stdout.write(
            problems === 0
              ? 'clean\n'
              : `${report.differences.length} difference(s), ${pendingPayments.length} pending payment(s), ${outside.length} settlement(s) outside the ledger\n`,
          );
        }
        if (report.differences.length > 0 || pendingPayments.length > 0 || outside.length > 0) process.exitCode = 1;
      } finally {
        await db.disconnect();
      }
    } catch (error) {
      process.exitCode = reportFailure(error);
    }
  });
}
