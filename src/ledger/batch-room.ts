/**
 * Refusing before money moves: whether the lease's batch for the hour a payment is priced in can
 * still take it. The store enforces the same rules when the payment is recorded; checking them
 * before settlement means a payment the ledger would refuse is never settled. (A batch settled
 * between this check and the payment's record makes the payment late: recorded outside the
 * settled batch and carried by the lease's next settlement, never lost.)
 */
import type { StoredX402Batch } from '../storage/contract/database.js';
import { batchRoom } from '../storage/core/invariants.js';
import { hourBucketOf } from '../storage/core/time.js';

/** Why the batch cannot take the payment. */
export type BatchRefusal = { code: 'HOUR_SETTLED'; hourBucket: string } | { code: 'BATCH_FULL'; hourBucket: string };

/**
 * Null when `batch`, the lease's batch for the hour of `pricedAt` (null when it has none yet), can
 * take `amount`; otherwise why not.
 */
export function batchRefusal(batch: StoredX402Batch | null, pricedAt: Date, amount: bigint): BatchRefusal | null {
  const hourBucket = hourBucketOf(pricedAt);
  const room = batchRoom(batch === null ? undefined : { settlementTxHash: batch.settlementTxHash, total: batch.totalAmountMinorUnits }, amount);
  if (room === null) return null;
  return { code: room === 'settled' ? 'HOUR_SETTLED' : 'BATCH_FULL', hourBucket };
}
