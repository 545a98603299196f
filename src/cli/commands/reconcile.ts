/**
 * `reconcile`: checks every hourly batch's total and count against its payments, lists late
 * payments, and reports the money outside the ledger: the settled payments the service could not
 * record yet (its pending-payments file), the lines of that file that could not be read (kept
 * aside in `<file>.damaged`), and the settlements of its journal whose money moved without a
 * ledger row or whose outcome is unknown.
 * Exit codes: 0 clean; 1 differences, pending payments, damaged lines or such settlements found;
 * 2 the command could not run.
 */
import type { Command } from 'commander';
import { dataFileFromEnv, pendingPaymentsFileFromEnv } from '../../config.js';
import { readPendingFile } from '../../ledger/pending-payments-file.js';
import type { DamagedLine, PendingPayment } from '../../ledger/pending-payments.js';
import { readJournalFile } from '../../ledger/settlement-journal-file.js';
import { moneyOutsideLedger, type SettlementIntent } from '../../ledger/settlement-journal.js';
import type { ReconcileReport } from '../../storage/contract/ledger-queries.js';
import { jsonWithAmounts, reportFailure } from '../output.js';
import { addBackendOptions, openStore, type BackendOptions } from '../store-options.js';

/** What the command reports. */
type Report = ReconcileReport & {
  pendingPayments: PendingPayment[];
  damagedPendingLines: DamagedLine[];
  unresolvedSettlements: SettlementIntent[];
  damagedJournalLines: DamagedLine[];
};

/** Renders a report as JSON with amounts as decimal strings. */
export function reconcileReportJson(report: Report): string {
  return jsonWithAmounts(report);
}

function printReport(report: Report): void {
  const write = (line: string) => process.stdout.write(`${line}\n`);
  write(`checked ${report.batchesChecked} batches and ${report.paymentsChecked} payments`);
  for (const d of report.differences) {
    write(`  lease ${d.leaseId} hour ${d.hourBucket}: batch ${d.storedTotal}/${d.storedCount}, payments ${d.paymentsTotal}/${d.paymentsCount}`);
  }
  for (const l of report.latePayments) {
    const carried = l.carriedToBatchId === null ? "waiting for the lease's next settlement" : `carried by batch ${l.carriedToBatchId}`;
    write(`  late: lease ${l.leaseId} hour ${l.hourBucket} settlement ${l.facilitatorTxHash} ${l.amountMinorUnits}: ${carried}`);
  }
  for (const p of report.pendingPayments) write(`  pending: lease ${p.leaseId} settlement ${p.facilitatorTxHash} (${p.attempts} attempts): ${p.error}`);
  for (const d of [...report.damagedPendingLines, ...report.damagedJournalLines]) {
    write(`  damaged: ${d.file} line ${d.line} (${d.reason})${d.setAsideAt === null ? '' : `, kept aside ${d.setAsideAt}`}: ${d.text}`);
  }
  for (const i of moneyOutsideLedger(report.unresolvedSettlements)) {
    const what = i.state === 'settled' ? `settled as ${i.transaction ?? '?'}, not recorded` : `settlement unknown: ${i.reason ?? 'no answer'}`;
    write(`  journal ${i.id}: lease ${i.leaseId} ${i.amount} from ${i.payer}, nonce ${i.nonce}: ${what}`);
  }
  write(problemCount(report) === 0 ? 'clean' : `${report.differences.length} difference(s), ${report.pendingPayments.length} pending payment(s), ${report.damagedPendingLines.length} damaged pending line(s), ${moneyOutsideLedger(report.unresolvedSettlements).length} settlement(s) outside the ledger, ${report.damagedJournalLines.length} damaged journal line(s)`);
}

function problemCount(report: Report): number {
  return (
    report.differences.length +
    report.pendingPayments.length +
    report.damagedPendingLines.length +
    moneyOutsideLedger(report.unresolvedSettlements).length +
    report.damagedJournalLines.length
  );
}

/** Registers `reconcile`. */
export function registerReconcileCommand(program: Command): void {
  addBackendOptions(
    program
      .command('reconcile')
      .description('check every batch total and count against its payments, and the money outside the ledger; exit 1 on any difference')
      .option('--json', 'print the report as JSON')
      .option('--full', 'read every day of payments again, ignoring the results kept for days that are over (SQL stores)')
      .option('--pending-file <path>', 'pending-payments file of the service', pendingPaymentsFileFromEnv())
      .option('--journal-file <path>', 'settlement journal of the service', dataFileFromEnv(process.env, 'SETTLEMENT_JOURNAL_FILE', 'settlement-journal.jsonl')),
  ).action(async (options: BackendOptions & { json?: boolean; full?: boolean; pendingFile: string; journalFile: string }) => {
    try {
      const { db } = await openStore(options);
      try {
        const { pending: pendingPayments, damaged: damagedPendingLines } = await readPendingFile(options.pendingFile);
        const journal = await readJournalFile(options.journalFile);
        const report: Report = {
          ...(await db.reconcile({ full: options.full === true })),
          pendingPayments,
          damagedPendingLines,
          unresolvedSettlements: journal.unresolved,
          damagedJournalLines: journal.damaged,
        };
        if (options.json) process.stdout.write(`${reconcileReportJson(report)}\n`);
        else printReport(report);
        if (problemCount(report) > 0) process.exitCode = 1;
      } finally {
        await db.disconnect();
      }
    } catch (error) {
      process.exitCode = reportFailure(error);
    }
  });
}
