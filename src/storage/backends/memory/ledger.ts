/**
 * Payments and hourly batches of the in-memory backend. Rows are kept compact (numbers for
 * instants, interned strings) because a development store can hold millions of payments; stored
 * records are built on read, which also makes every read a copy.
 */
import { randomUUID } from 'node:crypto';
import type { BatchUpdate, LeaseStatus, PaymentMode, RecordedPayment, StoredX402Batch, StoredX402Payment } from '../../contract/database.js';
import { INTERVAL_SECONDS } from '../../contract/database.js';
import { StorageError } from '../../contract/errors.js';
import {
  batchKey,
  planBatchUpdate,
  type SettleClock,
  placePayment,
  randomPaymentReference,
  resolveReplay,
} from '../../core/invariants.js';
import { HOUR_MS } from '../../core/time.js';
import type { BatchInput, PaymentInput } from '../../core/validate.js';
import { SortedIndex, compareStrings } from './sorted-list.js';

/** A stored payment, compactly. */
export interface PaymentRow {
  id: string;
  leaseId: string;
  mode: PaymentMode;
  amount: bigint;
  payer: string;
  ts: number;
  hash: string;
  bucket: string;
  createdAt: number;
  /** Recorded after its batch was settled or full (see `placePayment`). */
  late: boolean;
  /** The batch whose settlement carried it (late payments only). */
  carriedTo: string | undefined;
}

/** A stored batch. */
export interface BatchRow {
  id: string;
  leaseId: string;
  hourBucket: string;
  total: bigint;
  count: number;
  revenueRoundId: string | undefined;
  settlementTxHash: string | undefined;
  startedAt: number;
  closedAt: number;
  createdAt: number;
}

/** What the ledger needs to know of a lease. */
export interface LeaseRef {
  leaseId: string;
  status: LeaseStatus;
  lessee: string;
}

const byTimestampThenId = (a: PaymentRow, b: PaymentRow) => a.ts - b.ts || compareStrings(a.id, b.id);
const byHourBucket = (a: BatchRow, b: BatchRow) => compareStrings(a.hourBucket, b.hourBucket);

/** Builds the stored form of a payment row. */
export function paymentRecord(row: PaymentRow): StoredX402Payment {
  return {
    id: row.id,
    leaseId: row.leaseId,
    mode: row.mode,
    intervalSeconds: INTERVAL_SECONDS[row.mode],
    amountMinorUnits: row.amount,
    payer: row.payer,
    paymentTimestamp: new Date(row.ts),
    facilitatorTxHash: row.hash,
    bucketSlot: row.bucket,
    createdAt: new Date(row.createdAt),
    ...(row.late ? { late: true as const } : {}),
    ...(row.carriedTo !== undefined ? { carriedToBatchId: row.carriedTo } : {}),
  };
}

/** Builds the stored form of a batch row (optional fields present only when set). */
export function batchRecord(row: BatchRow): StoredX402Batch {
  const batch: StoredX402Batch = {
    id: row.id,
    leaseId: row.leaseId,
    hourBucket: row.hourBucket,
    totalAmountMinorUnits: row.total,
    paymentCount: row.count,
    startedAt: new Date(row.startedAt),
    closedAt: new Date(row.closedAt),
    createdAt: new Date(row.createdAt),
  };
  if (row.revenueRoundId !== undefined) batch.revenueRoundId = row.revenueRoundId;
  if (row.settlementTxHash !== undefined) batch.settlementTxHash = row.settlementTxHash;
  return batch;
}

/** The payment and batch tables with their indexes. */
export class MemoryLedger {
  // Payments are keyed by their unique settlement hash only: a second map by id would cost tens of
  // megabytes per million payments, and no read looks a payment up by id.
  readonly paymentsByHash = new Map<string, PaymentRow>();
  /** Ids of imported payments, so a repeated import is recognised (fresh ids are random UUIDs). */
  readonly importedPaymentIds = new Set<string>();
  readonly paymentsByLease = new SortedIndex<string, PaymentRow>(byTimestampThenId);
  readonly paymentsByBucket = new SortedIndex<string, PaymentRow>(byTimestampThenId);
  readonly batchesById = new Map<string, BatchRow>();
  readonly batchesByLease = new SortedIndex<string, BatchRow>(byHourBucket);
  private readonly batchByLeaseHour = new Map<string, BatchRow>();
  /** Late payments no settlement has carried yet, by lease. */
  readonly uncarriedLate = new Map<string, PaymentRow[]>();
  // One string per distinct bucket and payer instead of one per row.
  private readonly interned = new Map<string, string>();

  /** Removes every payment and batch. */
  clear(): void {
    this.paymentsByHash.clear();
    this.importedPaymentIds.clear();
    this.paymentsByLease.clear();
    this.paymentsByBucket.clear();
    this.batchesById.clear();
    this.batchesByLease.clear();
    this.batchByLeaseHour.clear();
    this.uncarriedLate.clear();
    this.interned.clear();
  }

  /** The batch of a lease for one hour, if any. */
  batchFor(leaseId: string, hourBucket: string): BatchRow | undefined {
    return this.batchByLeaseHour.get(batchKey(leaseId, hourBucket));
  }

  /**
   * Records a payment and adds it to its batch. Every check runs before the first change, and
   * nothing between them awaits, so the two writes are one step.
   */
  record(input: PaymentInput, lease: LeaseRef | undefined): RecordedPayment {
    if (!lease) throw referenceError(input.leaseId);
    if (input.facilitatorTxHash !== undefined) {
      const existing = this.paymentsByHash.get(input.facilitatorTxHash);
      if (existing) return { payment: resolveReplay(paymentRecord(existing), input), replayed: true };
    }
    let batch = this.batchFor(lease.leaseId, input.bucketSlot);
    const late = placePayment(lease, batch, input) === 'late';
    const now = Date.now();
    const row = (bucket: string): PaymentRow => ({
      id: randomUUID(),
      leaseId: lease.leaseId,
      mode: input.mode,
      amount: input.amountMinorUnits,
      payer: this.intern(input.payer ?? lease.lessee),
      ts: input.paymentTimestamp.getTime(),
      hash: input.facilitatorTxHash ?? randomPaymentReference(),
      bucket,
      createdAt: now,
      late,
      carriedTo: undefined,
    });
    if (late) {
      const payment = row(this.intern(input.bucketSlot));
      this.insertPayment(payment);
      return { payment: paymentRecord(payment), replayed: false };
    }
    batch ??= this.insertBatch({
      id: randomUUID(),
      leaseId: lease.leaseId,
      hourBucket: this.intern(input.bucketSlot),
      total: 0n,
      count: 0,
      revenueRoundId: undefined,
      settlementTxHash: undefined,
      startedAt: Date.parse(input.bucketSlot),
      closedAt: Date.parse(input.bucketSlot) + HOUR_MS,
      createdAt: now,
    });
    const payment = row(batch.hourBucket);
    this.insertPayment(payment);
    batch.total += payment.amount;
    batch.count += 1;
    return { payment: paymentRecord(payment), replayed: false };
  }

  /** Creates an empty batch; `DUPLICATE` when the lease already has one for the hour. */
  createBatch(input: BatchInput, leaseExists: boolean): StoredX402Batch {
    if (!leaseExists) throw referenceError(input.leaseId);
    if (this.batchFor(input.leaseId, input.hourBucket)) {
      throw new StorageError('DUPLICATE', `lease ${input.leaseId} already has a batch for ${input.hourBucket}`, {
        details: { leaseId: input.leaseId, hourBucket: input.hourBucket },
      });
    }
    const row = this.insertBatch({
      id: randomUUID(),
      leaseId: input.leaseId,
      hourBucket: this.intern(input.hourBucket),
      total: 0n,
      count: 0,
      revenueRoundId: input.revenueRoundId,
      settlementTxHash: input.settlementTxHash,
      startedAt: input.startedAt.getTime(),
      closedAt: input.closedAt.getTime(),
      createdAt: Date.now(),
    });
    return batchRecord(row);
  }

  /** Applies a settlement update; null when the batch does not exist. */
  updateBatch(id: string, updates: BatchUpdate, clock: SettleClock): StoredX402Batch | null {
    const row = this.batchesById.get(id);
    if (!row) return null;
    const changes = planBatchUpdate(batchRecord(row), updates, clock);
    if (changes?.settlementTxHash !== undefined) {
      row.settlementTxHash = changes.settlementTxHash;
      // This settlement carries the lease's late payments.
      for (const late of this.uncarriedLate.get(row.leaseId) ?? []) late.carriedTo = row.id;
      this.uncarriedLate.delete(row.leaseId);
    }
    if (changes?.revenueRoundId !== undefined) row.revenueRoundId = changes.revenueRoundId;
    return batchRecord(row);
  }

  /** Adds a payment row to every index (no checks; callers have made them). */
  insertPayment(row: PaymentRow): void {
    this.paymentsByHash.set(row.hash, row);
    if (row.late && row.carriedTo === undefined) {
      const list = this.uncarriedLate.get(row.leaseId);
      if (list) list.push(row);
      else this.uncarriedLate.set(row.leaseId, [row]);
    }
    this.paymentsByLease.add(row.leaseId, row);
    this.paymentsByBucket.add(row.bucket, row);
  }

  /** Adds a batch row to every index (no checks; callers have made them). */
  insertBatch(row: BatchRow): BatchRow {
    this.batchesById.set(row.id, row);
    this.batchByLeaseHour.set(batchKey(row.leaseId, row.hourBucket), row);
    this.batchesByLease.add(row.leaseId, row);
    return row;
  }

  /** Returns one shared copy of a repeated string. */
  intern(value: string): string {
    const existing = this.interned.get(value);
    if (existing !== undefined) return existing;
    this.interned.set(value, value);
    return value;
  }
}

function referenceError(leaseId: string): StorageError {
  return new StorageError('REFERENCE_NOT_FOUND', `lease ${leaseId} does not exist`, { details: { leaseId } });
}
