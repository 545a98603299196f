/**
 * Settled payments the ledger could not record yet. Money has moved once a facilitator settles,
 * so a payment whose `recordPayment` keeps failing is written here, durably, and replayed later
 * (`recordPayment` is idempotent on the settlement hash, so replaying is always safe).
 *
 * Implementations: {@link MemoryPendingPaymentStore} (the in-memory backend, tests) and the
 * append-only file in pending-payments-file.ts (every backend). The file, not a table, is the
 * durable store on purpose: a database outage is the usual reason a record fails, and a table in
 * that same database would fail with it.
 */
import { randomUUID } from 'node:crypto';
import type { Database, RecordPaymentParams } from '../storage/contract/database.js';
import { isStorageError } from '../storage/contract/errors.js';
import type { DamagedLine } from '../util/line-log.js';

/** What a pending record keeps: enough to record the payment later, and how it was settled. */
export interface PendingPayload {
  payment: RecordPaymentParams;
  settlement: { network?: string | undefined; payer?: string | undefined };
}

/** Input of {@link PendingPaymentStore.add}. */
export interface NewPendingPayment {
  facilitatorTxHash: string;
  leaseId: string;
  payload: PendingPayload;
  /** Why recording failed (code and message, no secrets). */
  error: string;
  /** Recording attempts made so far. */
  attempts: number;
}

/** A stored pending record. */
export interface PendingPayment extends NewPendingPayment {
  id: string;
  createdAt: Date;
  /** When the payment was found recorded in the ledger; null while pending. */
  resolvedAt: Date | null;
}

export type { DamagedLine } from '../util/line-log.js';

/** Durable store of pending payments, keyed by settlement hash. */
export interface PendingPaymentStore {
  /** "memory" or "file", for status reports. */
  readonly kind: string;
  /**
   * Adds a record, or updates the one with the same hash: attempts add up, the error is replaced
   * and a resolved record is reopened. Resolves once the record is durable.
   */
  add(input: NewPendingPayment): Promise<PendingPayment>;
  /** Unresolved records, oldest first. */
  listUnresolved(): Promise<PendingPayment[]>;
  /** Notes one more failed attempt. */
  recordFailure(facilitatorTxHash: string, error: string): Promise<void>;
  /** Marks a record resolved (the payment is in the ledger). */
  resolve(facilitatorTxHash: string): Promise<void>;
  /** Releases files or connections; idempotent. */
  close(): Promise<void>;
  /** Lines the store could not read back, kept aside (empty when there are none). */
  listDamaged(): Promise<DamagedLine[]>;
}

/** Applies {@link PendingPaymentStore.add}'s merge rule to an existing record (shared by stores). */
export function mergePending(existing: PendingPayment | undefined, input: NewPendingPayment, now: Date): PendingPayment {
  if (existing === undefined) return { ...input, id: randomUUID(), createdAt: now, resolvedAt: null };
  return { ...existing, payload: input.payload, error: input.error, attempts: existing.attempts + input.attempts, resolvedAt: null };
}

/** Pending records in memory: for the in-memory backend, where nothing survives a restart anyway. */
export class MemoryPendingPaymentStore implements PendingPaymentStore {
  readonly kind = 'memory';
  private readonly records = new Map<string, PendingPayment>();

  async add(input: NewPendingPayment): Promise<PendingPayment> {
    const record = mergePending(this.records.get(input.facilitatorTxHash), input, new Date());
    this.records.set(input.facilitatorTxHash, record);
    return structuredClone(record);
  }

  async listUnresolved(): Promise<PendingPayment[]> {
    return [...this.records.values()].filter((r) => r.resolvedAt === null).map((r) => structuredClone(r));
  }

  async recordFailure(facilitatorTxHash: string, error: string): Promise<void> {
    const record = this.records.get(facilitatorTxHash);
    if (record) this.records.set(facilitatorTxHash, { ...record, error, attempts: record.attempts + 1 });
  }

  async resolve(facilitatorTxHash: string): Promise<void> {
    const record = this.records.get(facilitatorTxHash);
    if (record && record.resolvedAt === null) this.records.set(facilitatorTxHash, { ...record, resolvedAt: new Date() });
  }

  async close(): Promise<void> {}

  async listDamaged(): Promise<DamagedLine[]> {
    return [];
  }
}

/** Outcome of {@link replayPendingPayments}. */
export interface ReplayReport {
  /** Records tried. */
  attempted: number;
  /** Settlement hashes now in the ledger. */
  recorded: string[];
  /** Records that failed again, with why. */
  failed: Array<{ facilitatorTxHash: string; leaseId: string; code: string; error: string }>;
  /** Records not tried because the database is unreachable. */
  skipped: number;
}

/** A short, secret-free description of a recording failure. */
export function describeFailure(error: unknown): { code: string; message: string } {
  if (isStorageError(error)) return { code: error.code, message: error.message };
  return { code: 'INTERNAL', message: error instanceof Error ? error.name : 'unknown error' };
}

const UNREACHABLE = new Set(['CONNECTION', 'TIMEOUT', 'NOT_CONNECTED']);

/**
 * Records every unresolved pending payment in the ledger. Safe to run at any time and repeatedly:
 * a payment already recorded comes back as the original. Stops at the first sign the database is
 * unreachable, so an outage does not inflate every record's attempt count.
 */
export async function replayPendingPayments(db: Pick<Database, 'recordPayment'>, store: PendingPaymentStore): Promise<ReplayReport> {
  const report: ReplayReport = { attempted: 0, recorded: [], failed: [], skipped: 0 };
  const pending = await store.listUnresolved();
  for (const [index, record] of pending.entries()) {
    report.attempted += 1;
    try {
      await db.recordPayment(record.payload.payment);
      await store.resolve(record.facilitatorTxHash);
      report.recorded.push(record.facilitatorTxHash);
    } catch (error) {
      const { code, message } = describeFailure(error);
      await store.recordFailure(record.facilitatorTxHash, `${code}: ${message}`);
      report.failed.push({ facilitatorTxHash: record.facilitatorTxHash, leaseId: record.leaseId, code, error: message });
      if (UNREACHABLE.has(code)) {
        report.skipped = pending.length - index - 1;
        break;
      }
    }
  }
  return report;
}
