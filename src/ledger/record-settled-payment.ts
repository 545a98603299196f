/**
 * Recording a payment the facilitator has already settled. Money has moved, so it must end up in
 * the ledger: transient failures are retried (recordPayment is idempotent on the settlement
 * hash), and a payment that still cannot be recorded is kept as a durable pending record for
 * replay. Only if even that fails is the payment logged in full as a last resort.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { Database, RecordPaymentParams, StoredX402Payment } from '../storage/contract/database.js';
import { isStorageError } from '../storage/contract/errors.js';
import { describeFailure, type PendingPayload, type PendingPayment, type PendingPaymentStore } from './pending-payments.js';

/** Delays before each retry of a failed record (default: three retries within ~1.3 s). */
export const DEFAULT_RECORD_RETRY_DELAYS_MS: readonly number[] = [50, 250, 1000];

/**
 * What happened to a settled payment: recorded (`replayed` when the ledger already had this
 * settlement and returned the original), or kept as a pending record.
 */
export type RecordOutcome =
  | { status: 'recorded'; payment: StoredX402Payment; replayed: boolean }
  | { status: 'pending'; pending: PendingPayment; error: { code: string; message: string } };

/** The log calls recording makes (a pino or fastify logger has them). */
export interface RecordLogger {
  warn(facts: object, message: string): void;
  error(facts: object, message: string): void;
  fatal(facts: object, message: string): void;
}

/** Dependencies of {@link recordSettledPayment}. */
export interface RecordDeps {
  db: Pick<Database, 'recordPaymentWithOutcome' | 'getPaymentByFacilitatorTxHash'>;
  pending: PendingPaymentStore;
  retryDelaysMs: readonly number[];
  log: RecordLogger;
}

/** The settled payment could be neither recorded nor kept as pending; it is in the log only. */
export class PaymentNotRecordedError extends Error {
  override readonly name = 'PaymentNotRecordedError';
  constructor(
    readonly facilitatorTxHash: string,
    options?: { cause?: unknown },
  ) {
    super('the payment was settled but could not be recorded; it has been logged for manual recovery', options);
  }
}

// The errors a later attempt can cure. NOT_CONNECTED is not among them: the store is shutting
// down, so the payment goes straight to the pending record.
const TRANSIENT = new Set(['CONNECTION', 'TIMEOUT', 'INTERNAL']);

function transient(error: unknown): boolean {
  return !isStorageError(error) || TRANSIENT.has(error.code);
}

/**
 * A CONFLICT while a payment with this settlement hash is in the ledger means the hash already
 * pays another lease or amount: that settlement is recorded, so nothing is lost and there is
 * nothing to keep. (Other CONFLICTs, such as a lease that is no longer active, keep a record.)
 */
async function alreadyRecordedElsewhere(db: Pick<Database, 'getPaymentByFacilitatorTxHash'>, error: unknown, facilitatorTxHash: string): Promise<boolean> {
  if (!isStorageError(error, 'CONFLICT')) return false;
  return (await db.getPaymentByFacilitatorTxHash(facilitatorTxHash).catch(() => null)) !== null;
}

/**
 * Records a settled payment, retrying transient failures; if it cannot, stores a pending record
 * and returns it. Throws the storage error when the hash is already recorded for something else,
 * and a {@link PaymentNotRecordedError} when even the pending record cannot be written.
 */
export async function recordSettledPayment(
  deps: RecordDeps,
  params: RecordPaymentParams & { facilitatorTxHash: string },
  settlement: PendingPayload['settlement'],
): Promise<RecordOutcome> {
  let lastError: unknown;
  let attempts = 0;
  for (const delay of [0, ...deps.retryDelaysMs]) {
    if (delay > 0) await sleep(delay);
    attempts += 1;
    try {
      // The store says whether this settlement was already recorded: no guess from timestamps.
      const { payment, replayed } = await deps.db.recordPaymentWithOutcome(params);
      return { status: 'recorded', payment, replayed };
    } catch (error) {
      lastError = error;
      deps.log.warn({ err: error, facilitatorTxHash: params.facilitatorTxHash, attempt: attempts }, 'recording a settled payment failed');
      if (!transient(error)) break;
    }
  }
  if (await alreadyRecordedElsewhere(deps.db, lastError, params.facilitatorTxHash)) throw lastError;

  const failure = describeFailure(lastError);
  try {
    const pending = await deps.pending.add({
      facilitatorTxHash: params.facilitatorTxHash,
      leaseId: params.leaseId,
      payload: { payment: params, settlement },
      error: `${failure.code}: ${failure.message}`,
      attempts,
    });
    deps.log.error({ facilitatorTxHash: params.facilitatorTxHash, pendingId: pending.id, code: failure.code }, 'settled payment kept as pending');
    return { status: 'pending', pending, error: failure };
  } catch (storeError) {
    // The last place the payment exists: the log line carries everything needed to record it.
    deps.log.fatal({ err: storeError, payment: params, settlement }, 'SETTLED PAYMENT NOT RECORDED: ledger and pending store both failed');
    throw new PaymentNotRecordedError(params.facilitatorTxHash, { cause: storeError });
  }
}
