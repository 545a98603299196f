/**
 * Resolving the settlement journal: at startup and on a timer, every intent whose outcome is not
 * in the ledger yet is finished. A settled one is recorded (idempotent by its hash); one with no
 * known outcome is asked of the facilitator where it can answer; what stays unknown is reported
 * (reconcile) with everything needed to finish it by hand.
 */
import type { Database, RecordPaymentParams } from '../storage/contract/database.js';
import { isAddress } from '../util/hex.js';
import { scrubSecrets } from '../util/scrub-secrets.js';
import { describeFailure } from './pending-payments.js';
import type { SettlementIntent, SettlementJournal } from './settlement-journal.js';

/** What a facilitator can say of an earlier settle. */
export type SettlementLookupResult =
  | { state: 'settled'; transaction: string; payer?: string | undefined; network?: string | undefined }
  | { state: 'not_settled'; reason: string }
  | { state: 'unknown'; reason: string };

/** Asks whoever settles payments about an intent's settlement. */
export type SettlementLookup = (intent: SettlementIntent) => Promise<SettlementLookupResult>;

/** The ledger record of a settled intent. */
export function paymentOf(intent: SettlementIntent & { transaction: string }): RecordPaymentParams & { facilitatorTxHash: string } {
  return {
    leaseId: intent.leaseId,
    amount: intent.amount,
    timestamp: intent.pricedAt,
    mode: intent.mode,
    facilitatorTxHash: intent.transaction,
    // Money has moved: the ledger takes it even if the lease or the hour changed meanwhile.
    settled: true,
    ...(isAddress(intent.settledPayer) ? { payer: intent.settledPayer } : {}),
  };
}

/** Dependencies of {@link resolveSettlements}. */
export interface ResolveDeps {
  journal: SettlementJournal;
  db: Pick<Database, 'recordPaymentWithOutcome'>;
  lookup: SettlementLookup;
  /**
   * Only intents older than this are resolved, so one whose settle is still in flight in this
   * process is left to its request (default 0: at startup nothing is in flight).
   */
  minAgeMs?: number;
  now?: () => Date;
}

/** What a resolution run did. */
export interface ResolveReport {
  /** Intent ids now recorded in the ledger. */
  recorded: string[];
  /** Intent ids the facilitator says never settled (no money moved). */
  notSettled: string[];
  /** Intents whose settlement is still unknown: to be finished by hand if it stays so. */
  unknown: SettlementIntent[];
  /** Settled intents the ledger refused or could not take now (retried on the next run). */
  failed: Array<{ id: string; code: string; message: string }>;
}

/** Resolves every unresolved intent old enough; safe to run repeatedly. */
export async function resolveSettlements(deps: ResolveDeps): Promise<ResolveReport> {
  const report: ResolveReport = { recorded: [], notSettled: [], unknown: [], failed: [] };
  const cutoff = (deps.now?.() ?? new Date()).getTime() - (deps.minAgeMs ?? 0);
  for (const intent of deps.journal.unresolved()) {
    if (intent.createdAt.getTime() > cutoff) continue;
    let entry = intent;
    if (entry.state !== 'settled') {
      const found = await deps.lookup(entry).catch((error: unknown): SettlementLookupResult => ({
        state: 'unknown',
        reason: `the lookup failed: ${scrubSecrets(error instanceof Error ? error.message : String(error))}`,
      }));
      if (found.state === 'not_settled') {
        await deps.journal.update(entry.id, found);
        report.notSettled.push(entry.id);
        continue;
      }
      if (found.state === 'unknown') {
        report.unknown.push(entry.reason === found.reason ? entry : await deps.journal.update(entry.id, found));
        continue;
      }
      entry = await deps.journal.update(entry.id, { state: 'settled', transaction: found.transaction, settledPayer: found.payer, network: found.network });
    }
    try {
      const { payment } = await deps.db.recordPaymentWithOutcome(paymentOf(entry as SettlementIntent & { transaction: string }));
      await deps.journal.update(entry.id, { state: 'recorded', paymentId: payment.id });
      report.recorded.push(entry.id);
    } catch (error) {
      report.failed.push({ id: entry.id, ...describeFailure(error) });
    }
  }
  return report;
}
