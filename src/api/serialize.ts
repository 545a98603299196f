/**
 * Stored records to JSON: amounts as decimal strings (a bigint never becomes a JS number), dates
 * as ISO-8601 strings, internal shapes never leaked by accident. Every route answers through here.
 */
import type { JsonObject, JsonValue, StoredAsset, StoredEvent, StoredLease, StoredX402Batch, StoredX402Payment } from '../storage/contract/database.js';
import type { AssetRevenue, DailyRevenue, HourTotals, Page, ReconcileReport } from '../storage/contract/ledger-queries.js';
import { moneyOutsideLedger, type SettlementIntent } from '../ledger/settlement-journal.js';
import type { DamagedLine, PendingPayment } from '../ledger/pending-payments.js';

/** An asset as JSON. */
export function assetJson(a: StoredAsset): JsonObject {
  return {
    id: a.id,
    assetId: a.assetId,
    chainId: a.chainId,
    contractAddress: a.contractAddress,
    tokenAddress: a.tokenAddress,
    metadata: a.metadata,
    metadataHash: a.metadataHash,
    blockNumber: a.blockNumber,
    transactionHash: a.transactionHash,
    createdAt: a.createdAt.toISOString(),
    updatedAt: a.updatedAt.toISOString(),
  };
}

/** A lease as JSON. */
export function leaseJson(l: StoredLease): JsonObject {
  return {
    id: l.id,
    leaseId: l.leaseId,
    assetId: l.assetId,
    chainId: l.chainId,
    contractAddress: l.contractAddress,
    lessor: l.lessor,
    lessee: l.lessee,
    agreement: l.agreement,
    status: l.status,
    blockNumber: l.blockNumber,
    transactionHash: l.transactionHash,
    createdAt: l.createdAt.toISOString(),
    updatedAt: l.updatedAt.toISOString(),
  };
}

/** A contract event as JSON. */
export function eventJson(e: StoredEvent): JsonObject {
  return {
    id: e.id,
    eventName: e.eventName,
    contractAddress: e.contractAddress,
    blockNumber: e.blockNumber,
    transactionHash: e.transactionHash,
    logIndex: e.logIndex,
    args: e.args,
    processed: e.processed,
    createdAt: e.createdAt.toISOString(),
  };
}

/** A payment as JSON. */
export function paymentJson(p: StoredX402Payment): JsonObject {
  return {
    id: p.id,
    leaseId: p.leaseId,
    mode: p.mode,
    intervalSeconds: p.intervalSeconds,
    amountMinorUnits: p.amountMinorUnits.toString(),
    payer: p.payer,
    paymentTimestamp: p.paymentTimestamp.toISOString(),
    facilitatorTxHash: p.facilitatorTxHash,
    bucketSlot: p.bucketSlot,
    createdAt: p.createdAt.toISOString(),
    ...(p.late ? { late: true, carriedToBatchId: p.carriedToBatchId ?? null } : {}),
  };
}

/** An hourly batch as JSON; unset settlement fields are null. */
export function batchJson(b: StoredX402Batch): JsonObject {
  return {
    id: b.id,
    leaseId: b.leaseId,
    hourBucket: b.hourBucket,
    totalAmountMinorUnits: b.totalAmountMinorUnits.toString(),
    paymentCount: b.paymentCount,
    revenueRoundId: b.revenueRoundId ?? null,
    settlementTxHash: b.settlementTxHash ?? null,
    startedAt: b.startedAt.toISOString(),
    closedAt: b.closedAt.toISOString(),
    createdAt: b.createdAt.toISOString(),
  };
}

/** Hour totals as JSON. */
export function hourTotalsJson(h: HourTotals): JsonObject {
  return { leaseId: h.leaseId, bucket: h.bucket, totalAmountMinorUnits: h.totalAmountMinorUnits.toString(), paymentCount: h.paymentCount };
}

/** One day of a lease's revenue as JSON. */
export function dailyRevenueJson(d: DailyRevenue): JsonObject {
  return { leaseId: d.leaseId, day: d.day, totalAmountMinorUnits: d.totalAmountMinorUnits.toString(), paymentCount: d.paymentCount };
}

/** An asset's revenue as JSON. */
export function assetRevenueJson(r: AssetRevenue): JsonObject {
  return {
    assetId: r.assetId,
    from: r.from.toISOString(),
    to: r.to.toISOString(),
    totalAmountMinorUnits: r.totalAmountMinorUnits.toString(),
    paymentCount: r.paymentCount,
    leases: r.leases.map((l) => ({ leaseId: l.leaseId, totalAmountMinorUnits: l.totalAmountMinorUnits.toString(), paymentCount: l.paymentCount })),
  };
}

/** A pending payment as JSON. */
export function pendingJson(p: PendingPayment): JsonObject {
  return {
    id: p.id,
    facilitatorTxHash: p.facilitatorTxHash,
    leaseId: p.leaseId,
    payload: JSON.parse(JSON.stringify(p.payload)) as JsonValue,
    error: p.error,
    attempts: p.attempts,
    createdAt: p.createdAt.toISOString(),
    resolvedAt: p.resolvedAt?.toISOString() ?? null,
  };
}

/**
 * A journaled settlement as JSON: everything needed to finish it by hand (the signed
 * authorization, the requirements it was checked against, what the payment is for).
 */
export function intentJson(i: SettlementIntent): JsonObject {
  const { createdAt, updatedAt, payment, requirements, ...rest } = i;
  return {
    ...(JSON.parse(JSON.stringify(rest)) as JsonObject),
    createdAt: createdAt.toISOString(),
    updatedAt: updatedAt.toISOString(),
    payment: JSON.parse(JSON.stringify(payment)) as JsonValue,
    requirements: JSON.parse(JSON.stringify(requirements)) as JsonValue,
  };
}

/** What reconcile reports beside the ledger check: the durable stores of money outside the ledger. */
export interface OutsideLedger {
  pending: PendingPayment[];
  /** Lines of the pending-payments file kept aside as damaged. */
  damaged: DamagedLine[];
  /** Journaled settlements not yet resolved. */
  settlements: SettlementIntent[];
  /** Lines of the settlement journal kept aside as damaged. */
  damagedJournalLines: DamagedLine[];
}

/** A reconcile report with the money outside the ledger as JSON. */
export function reconcileJson(report: ReconcileReport, outside: OutsideLedger): JsonObject {
  const { pending, damaged, settlements, damagedJournalLines } = outside;
  return {
    batchesChecked: report.batchesChecked,
    paymentsChecked: report.paymentsChecked,
    differences: report.differences.map((d) => ({
      leaseId: d.leaseId,
      hourBucket: d.hourBucket,
      batchId: d.batchId,
      storedTotal: d.storedTotal.toString(),
      storedCount: d.storedCount,
      paymentsTotal: d.paymentsTotal.toString(),
      paymentsCount: d.paymentsCount,
    })),
    latePayments: report.latePayments.map((l) => ({ ...l, amountMinorUnits: l.amountMinorUnits.toString() })),
    pendingPayments: pending.map(pendingJson),
    damagedPendingLines: damaged.map((d) => ({ ...d })),
    unresolvedSettlements: settlements.map(intentJson),
    damagedJournalLines: damagedJournalLines.map((d) => ({ ...d })),
    consistent:
      report.differences.length === 0 &&
      pending.length === 0 &&
      damaged.length === 0 &&
      moneyOutsideLedger(settlements).length === 0 &&
      damagedJournalLines.length === 0,
  };
}

/** A page of records as JSON. */
export function pageJson<T>(page: Page<T>, item: (value: T) => JsonObject): JsonObject {
  return { items: page.items.map(item), nextCursor: page.nextCursor };
}
