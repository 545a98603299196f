/**
 * The ledger rules every backend applies the same way, kept as pure functions so the in-memory
 * and SQL backends cannot drift apart: who may be paid, what a replay is, when a batch may be
 * settled, and when the store may be cleared.
 */
import { randomBytes } from 'node:crypto';
import type { BatchUpdate, ClearOptions, LeaseStatus, StoredX402Batch, StoredX402Payment } from '../contract/database.js';
import { StorageError } from '../contract/errors.js';
import type { PaymentInput } from './validate.js';
import { MAX_AMOUNT } from './money.js';
import { bucketEnd } from './time.js';

/** The key of a lease's batch for one hour, for maps over (leaseId, hourBucket). */
export function batchKey(leaseId: string, hourBucket: string): string {
  return `${leaseId}\u0000${hourBucket}`;
}

/** A fresh random 32-byte reference for a payment recorded without a facilitator hash. */
export function randomPaymentReference(): string {
  return `0x${randomBytes(32).toString('hex')}`;
}

/** Refuses payments for a lease that is not active. */
export function assertLeasePayable(leaseId: string, status: LeaseStatus): void {
  if (status !== 'active') {
    throw new StorageError('CONFLICT', `lease ${leaseId} is ${status}; only an active lease can be paid`, {
      details: { leaseId, status },
    });
  }
}

/**
 * Decides what a payment whose facilitator hash is already stored means: the same lease and
 * amount is a replay (the original is returned, nothing changes); anything else is a `CONFLICT`.
 */
export function resolveReplay(existing: StoredX402Payment, input: PaymentInput): StoredX402Payment {
  if (existing.leaseId !== input.leaseId || existing.amountMinorUnits !== input.amountMinorUnits) {
    throw new StorageError(
      'CONFLICT',
      `facilitator hash ${existing.facilitatorTxHash} already pays lease ${existing.leaseId} with another amount or lease`,
      { details: { facilitatorTxHash: existing.facilitatorTxHash, leaseId: existing.leaseId } },
    );
  }
  return existing;
}

/** Refuses a payment into an hour whose batch is already settled. */
export function assertBatchOpen(batch: { leaseId: string; hourBucket: string; settlementTxHash?: string | undefined }): void {
  if (batch.settlementTxHash !== undefined) {
    throw new StorageError(
      'CONFLICT',
      `the ${batch.hourBucket} batch of lease ${batch.leaseId} is settled; it takes no more payments`,
      { details: { leaseId: batch.leaseId, hourBucket: batch.hourBucket } },
    );
  }
}

/**
 * Where a payment goes, decided inside the backend's atomic step: into its hour's batch, or, for
 * a payment the facilitator has already settled that the batch can no longer take (settled, or
 * full), recorded as late (outside the batch, carried by the lease's next settlement). A payment
 * not yet settled is refused instead: the lease must be active and the batch open with room.
 */
export function placePayment(
  lease: { leaseId: string; status: LeaseStatus },
  batch: { leaseId: string; hourBucket: string; settlementTxHash?: string | undefined; total: bigint } | undefined,
  input: PaymentInput,
): 'batch' | 'late' {
  if (input.settled) return batchRoom(batch, input.amountMinorUnits) === null ? 'batch' : 'late';
  assertLeasePayable(lease.leaseId, lease.status);
  if (batch !== undefined) {
    assertBatchOpen(batch);
    assertBatchCapacity(batch.leaseId, batch.hourBucket, batch.total, input.amountMinorUnits);
  }
  return 'batch';
}

/**
 * Whether a batch (or a missing one) can take `amount`: null when it can, else why not. The one
 * rule behind refusing a payment before money moves (the ledger) and placing a settled one late.
 */
export function batchRoom(batch: { settlementTxHash?: string | undefined; total: bigint } | undefined, amount: bigint): 'settled' | 'full' | null {
  if (batch?.settlementTxHash !== undefined) return 'settled';
  return (batch?.total ?? 0n) + amount > MAX_AMOUNT ? 'full' : null;
}

/**
 * Refuses a payment that would take its batch's total past 10^20-1, the most a NUMERIC(20,0)
 * column holds; the batch would otherwise stop agreeing with its payments.
 */
export function assertBatchCapacity(leaseId: string, hourBucket: string, total: bigint, amount: bigint): void {
  if (total + amount > MAX_AMOUNT) {
    throw new StorageError('CONFLICT', `the ${hourBucket} batch of lease ${leaseId} cannot take ${amount} more: its total would exceed 10^20-1`, {
      details: { leaseId, hourBucket },
    });
  }
}

/** When a settlement update is checked: the clock, and how long after its hour a batch stays open. */
export interface SettleClock {
  now: Date;
  /**
   * The grace after the hour's end before the batch may be settled. It is longer than a
   * facilitator settle and its retries take, so a payment priced in the hour's last seconds and
   * settled meanwhile still lands in its open batch.
   */
  graceMs: number;
}

/**
 * Checks a settlement update against the batch. Both settlement fields are write-once: setting an
 * unset one is allowed (the settlement hash only once the batch's hour and its grace have passed),
 * repeating the stored value is a no-op, and another value is a `CONFLICT`. Returns the fields to
 * write, or null when the update changes nothing.
 */
export function planBatchUpdate(batch: StoredX402Batch, updates: BatchUpdate, { now, graceMs }: SettleClock): BatchUpdate | null {
  const changes: BatchUpdate = {};
  for (const field of ['settlementTxHash', 'revenueRoundId'] as const) {
    const next = updates[field];
    const current = batch[field];
    if (next === undefined || next === current) continue;
    if (current !== undefined) {
      throw new StorageError('CONFLICT', `batch ${batch.id} already has ${field} ${current}; it cannot change`, {
        details: { batchId: batch.id, field },
      });
    }
    changes[field] = next;
  }
  const settleFrom = new Date(bucketEnd(batch.hourBucket).getTime() + graceMs);
  if (changes.settlementTxHash !== undefined && now.getTime() < settleFrom.getTime()) {
    throw new StorageError(
      'CONFLICT',
      `batch ${batch.id} takes payments until ${settleFrom.toISOString()} (its hour plus ${graceMs} ms of grace); settle it after that`,
      { details: { batchId: batch.id, hourBucket: batch.hourBucket, settleFrom: settleFrom.toISOString() } },
    );
  }
  return Object.keys(changes).length === 0 ? null : changes;
}

/** Refuses a status transition whose expected current status is not the lease's. */
export function assertStatusIs(lease: { leaseId: string; status: LeaseStatus }, expected: LeaseStatus): void {
  if (lease.status !== expected) {
    throw new StorageError('CONFLICT', `lease ${lease.leaseId} is ${lease.status}, not ${expected}`, {
      details: { leaseId: lease.leaseId, status: lease.status, expected },
    });
  }
}

/** Refuses to clear a production store unless the caller insists. */
export function assertClearAllowed(options: ClearOptions | undefined): void {
  if (process.env['NODE_ENV'] === 'production' && options?.allowProduction !== true) {
    throw new StorageError('CONFLICT', 'clear() refused: NODE_ENV is production; pass { allowProduction: true } to override');
  }
}
