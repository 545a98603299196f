/**
 * The payment write path of the SQL backends. A payment row and its batch's total and count
 * change in one transaction. Concurrent payments are gathered by group commit and written by one
 * prepared statement (payment-statements.ts) that is its own transaction; what that statement
 * leaves out (a refused, replayed, late or conflicting payment) is then written one by one the
 * careful way, which checks the shared rules of core/invariants.ts first.
 */
import type { BatchUpdate, LeaseStatus, RecordedPayment, StoredX402Batch, StoredX402Payment } from '../../contract/database.js';
import { StorageError } from '../../contract/errors.js';
import { assertLeasePayable, batchKey, placePayment, planBatchUpdate, randomPaymentReference, resolveReplay, type SettleClock } from '../../core/invariants.js';
import { bucketEnd } from '../../core/time.js';
import type { PaymentInput } from '../../core/validate.js';
import { batchFromRow, paymentFromRow, toBigInt, toBucket, toDate, type Row } from './codecs.js';
import type { SqlDriver, SqlExecutor } from './driver.js';
import { GroupCommitter, type GroupCommitOptions, type ItemOutcome } from './group-commit.js';
import { mapDriverError } from './map-driver-error.js';
import { recordPaymentsStatement, type PaymentRow } from './payment-statements.js';
import { claimAndInsertPaymentsSql, paymentsByHash } from './settlement-hashes.js';
import { ColdClaimFilter, type ColdClaimFilterOptions } from './cold-claim-filter.js';

/** Options of the payment writer. */
export interface PaymentWriterOptions extends GroupCommitOptions {
  /** Gather concurrent payments into shared transactions (default true). */
  group?: boolean;
  /** The service's copy of the cold claims' filter (cold-claim-filter.ts). */
  coldClaimFilter?: ColdClaimFilterOptions;
}

type Outcome = ItemOutcome<RecordedPayment>;

interface Candidate {
  index: number;
  input: PaymentInput;
  payer: string;
  hash: string;
  /** Recorded outside its batch (see `placePayment`). */
  late: boolean;
}

/** Raised inside a careful transaction to roll it back and try the payment again. */
class RetryAlone extends Error {}

/** Tries of the careful path before a payment that keeps racing settlements fails. */
const CAREFUL_ATTEMPTS = 3;

/** Records payments and settles batches over a {@link SqlDriver}. */
export class SqlPaymentWriter {
  private readonly committer: GroupCommitter<PaymentInput, RecordedPayment> | undefined;
  private readonly coldClaims: ColdClaimFilter;

  constructor(
    private readonly driver: SqlDriver,
    options: PaymentWriterOptions = {},
  ) {
    this.committer = options.group === false ? undefined : new GroupCommitter((items) => this.commitGroup(items), options);
    this.coldClaims = new ColdClaimFilter(driver, options.coldClaimFilter);
  }

  /** Records one validated payment; resolves after its own transaction has committed. */
  async record(input: PaymentInput): Promise<RecordedPayment> {
    if (this.committer) return this.committer.submit(input);
    const [outcome] = await this.commitGroup([input]);
    if (!outcome) throw new StorageError('INTERNAL', 'payment produced no outcome');
    if (!outcome.ok) throw outcome.error;
    return outcome.value;
  }

  /** Waits until every gathered payment has committed. */
  async drain(): Promise<void> {
    await this.committer?.drain();
  }

  /** Waits for gathered payments and for a filter refresh in flight; call before closing the driver. */
  async close(): Promise<void> {
    await this.drain();
    await this.coldClaims.close();
  }

  /**
   * Commits a group: first the one statement for every payment the fast way; each payment it did
   * not write then goes alone the careful way. If the statement fails (a settled or full batch, a
   * deadlock, a lost connection), nothing of it was written and every payment goes the careful
   * way, so one bad payment never fails the others and every refusal names its own cause.
   */
  private async commitGroup(items: PaymentInput[]): Promise<Outcome[]> {
    const hashes = items.map((i) => i.facilitatorTxHash ?? randomPaymentReference());
    // The first payment with a hash is sent; later ones in the group are replays of it.
    const firsts = new Map<string, number>();
    const rows: PaymentRow[] = [];
    hashes.forEach((hash, index) => {
      if (firsts.has(hash)) return;
      firsts.set(hash, index);
      rows.push({ input: items[index] as PaymentInput, hash });
    });
    let inserted: Map<string, StoredX402Payment>;
    try {
      inserted = await this.insertFast(rows);
    } catch {
      inserted = new Map();
    }

    const outcomes = new Array<Outcome>(items.length);
    const careful: Promise<void>[] = [];
    items.forEach((input, index) => {
      const hash = hashes[index] as string;
      const stored = inserted.get(hash);
      if (!stored) {
        careful.push(this.commitCarefully(input).then((outcome) => void (outcomes[index] = outcome)));
      } else if (firsts.get(hash) === index) {
        outcomes[index] = { ok: true, value: { payment: stored, replayed: false } };
      } else {
        try {
          outcomes[index] = { ok: true, value: { payment: resolveReplay(stored, input), replayed: true } };
        } catch (error) {
          outcomes[index] = fail(error);
        }
      }
    });
    await Promise.all(careful);
    return outcomes;
  }

  /** Runs the payment statement (payment-statements.ts); returns the payments it inserted by hash. */
  private async insertFast(rows: PaymentRow[]): Promise<Map<string, StoredX402Payment>> {
    const { text, name, values } = recordPaymentsStatement(rows, this.coldClaims.view());
    const result = await this.driver.query<Row>(text, values, { name });
    const byHash = new Map<string, PaymentInput>();
    for (const row of rows) byHash.set(row.hash, row.input);
    const inserted = new Map<string, StoredX402Payment>();
    for (const r of result.rows) {
      const hash = r['facilitator_tx_hash'] as string;
      const input = byHash.get(hash);
      if (!input) throw new StorageError('INTERNAL', `the payment statement returned a hash it was not given: ${hash}`);
      inserted.set(hash, insertedPayment(r, input, hash));
    }
    return inserted;
  }

  /** One payment in its own transaction, every rule checked before anything is written. */
  private async commitCarefully(input: PaymentInput): Promise<Outcome> {
    for (let attempt = 1; ; attempt++) {
      try {
        const [outcome] = await this.driver.transaction((tx) => writeCarefully(tx, [input]));
        return outcome ?? fail(new StorageError('INTERNAL', 'payment produced no outcome'));
      } catch (error) {
        // A batch settled between the check and the write: check again (it is now settled, so
        // the next attempt refuses or places the payment late without racing).
        if (error instanceof RetryAlone && attempt < CAREFUL_ATTEMPTS) continue;
        return fail(mapDriverError(error, 'recordPayment'));
      }
    }
  }

  /** Applies a settlement update under a row lock; null when the batch does not exist. */
  async updateBatch(id: string, updates: BatchUpdate, clock: SettleClock): Promise<StoredX402Batch | null> {
    try {
      return await this.driver.transaction(async (tx) => {
        const { rows } = await tx.query<Row>('SELECT * FROM x402_batches WHERE id = $1 FOR UPDATE', [id]);
        if (!rows[0]) return null;
        const batch = batchFromRow(rows[0]);
        const changes = planBatchUpdate(batch, updates, clock);
        if (!changes) return batch;
        const updated = await tx.query<Row>(
          `UPDATE x402_batches SET settlement_tx_hash = COALESCE($2, settlement_tx_hash),
             revenue_round_id = COALESCE($3, revenue_round_id) WHERE id = $1 RETURNING *`,
          [id, changes.settlementTxHash ?? null, changes.revenueRoundId ?? null],
        );
        if (changes.settlementTxHash !== undefined) {
          // This settlement carries the lease's late payments.
          await tx.query('UPDATE x402_payments SET carried_to_batch_id = $1 WHERE lease_id = $2 AND late AND carried_to_batch_id IS NULL', [id, batch.leaseId]);
        }
        return batchFromRow(updated.rows[0] as Row);
      });
    } catch (error) {
      throw mapDriverError(error, 'updateX402Batch');
    }
  }
}

/** `($1, $2), ($3, $4)`-style placeholders for `rows` rows of `width` parameters. */
function placeholders(rows: number, width: number, casts: readonly string[] = []): string {
  const out: string[] = [];
  for (let r = 0; r < rows; r++) {
    const cells: string[] = [];
    for (let c = 0; c < width; c++) cells.push(`$${r * width + c + 1}${casts[c] ? `::${casts[c]}` : ''}`);
    out.push(`(${cells.join(', ')})`);
  }
  return out.join(', ');
}

function list(count: number): string {
  return Array.from({ length: count }, (_, i) => `$${i + 1}`).join(', ');
}

const fail = (error: unknown): Outcome => ({ ok: false, error });

/** A payment as the fast statement inserted it: what was sent plus the row's id, payer and creation time. */
function insertedPayment(r: Row, input: PaymentInput, hash: string): StoredX402Payment {
  const id = r['id'];
  const payer = r['payer'];
  if (typeof id !== 'string' || typeof payer !== 'string') throw new StorageError('INTERNAL', 'the payment statement returned an unexpected row');
  return {
    id,
    leaseId: input.leaseId,
    mode: input.mode,
    intervalSeconds: input.intervalSeconds,
    amountMinorUnits: input.amountMinorUnits,
    payer,
    paymentTimestamp: input.paymentTimestamp,
    facilitatorTxHash: hash,
    bucketSlot: input.bucketSlot,
    createdAt: toDate(r['created_at'], 'created_at'),
  };
}

/**
 * The careful path: every rule is checked before anything is written (lease, replay, settled or
 * full batch, late placement), so a refusal names its own cause. Returns one outcome per item.
 */
async function writeCarefully(tx: SqlExecutor, items: PaymentInput[]): Promise<Outcome[]> {
  const outcomes: Outcome[] = new Array<Outcome>(items.length);

  const leaseIds = [...new Set(items.map((i) => i.leaseId))];
  const leaseRows = await tx.query<Row>(`SELECT lease_id, status, lessee FROM leases WHERE lease_id IN (${list(leaseIds.length)})`, leaseIds);
  const leases = new Map(leaseRows.rows.map((r) => [r['lease_id'] as string, { status: r['status'] as LeaseStatus, lessee: r['lessee'] as string }]));

  const lookups = items.filter((i) => i.facilitatorTxHash !== undefined && leases.has(i.leaseId));
  const existing = await paymentsByHash(tx, [...new Set(lookups.map((i) => i.facilitatorTxHash as string))]);

  const candidates: Candidate[] = [];
  items.forEach((input, index) => {
    const lease = leases.get(input.leaseId);
    try {
      if (!lease) {
        throw new StorageError('REFERENCE_NOT_FOUND', `lease ${input.leaseId} does not exist`, { details: { leaseId: input.leaseId } });
      }
      const stored = input.facilitatorTxHash ? existing.get(input.facilitatorTxHash) : undefined;
      if (stored) {
        outcomes[index] = { ok: true, value: { payment: resolveReplay(stored, input), replayed: true } };
        return;
      }
      if (!input.settled) assertLeasePayable(input.leaseId, lease.status);
      candidates.push({ index, input, payer: input.payer ?? lease.lessee, hash: input.facilitatorTxHash ?? randomPaymentReference(), late: false });
    } catch (error) {
      outcomes[index] = fail(error);
    }
  });

  // Payments into a settled hour, or past a batch's capacity, are refused before anything is
  // written, or recorded as late when the facilitator has already settled them.
  const batches = await existingBatches(tx, candidates);
  const writable = candidates.filter((c) => {
    const key = batchKey(c.input.leaseId, c.input.bucketSlot);
    const batch = batches.get(key);
    const lease = leases.get(c.input.leaseId) as { status: LeaseStatus };
    try {
      c.late = placePayment({ leaseId: c.input.leaseId, status: lease.status }, batch, c.input) === 'late';
    } catch (error) {
      outcomes[c.index] = fail(error);
      return false;
    }
    if (c.late) return true;
    // Counted now, so later payments of the group see it; a replay in the group is counted
    // too, which can only refuse early, never let a total overflow.
    const state = batch ?? { leaseId: c.input.leaseId, hourBucket: c.input.bucketSlot, settlementTxHash: undefined, total: 0n };
    batches.set(key, { ...state, total: state.total + c.input.amountMinorUnits });
    return true;
  });

  // The first payment with a hash is inserted; later ones in the group are replays of it.
  const firsts = new Map<string, Candidate>();
  for (const c of writable) if (!firsts.has(c.hash)) firsts.set(c.hash, c);
  const inserted = await insertPayments(tx, [...firsts.values()].sort((a, b) => (a.hash < b.hash ? -1 : 1)));

  // A hash inserted meanwhile by another transaction was skipped by ON CONFLICT: read it back.
  const missing = [...firsts.keys()].filter((h) => !inserted.has(h));
  const concurrent = await paymentsByHash(tx, missing);
  for (const c of writable) {
    const mine = firsts.get(c.hash) === c ? inserted.get(c.hash) : undefined;
    if (mine) {
      outcomes[c.index] = { ok: true, value: { payment: mine, replayed: false } };
      continue;
    }
    const original = inserted.get(c.hash) ?? concurrent.get(c.hash);
    try {
      if (!original) throw new StorageError('INTERNAL', `payment ${c.hash} was neither inserted nor found`);
      outcomes[c.index] = { ok: true, value: { payment: resolveReplay(original, c.input), replayed: true } };
    } catch (error) {
      outcomes[c.index] = fail(error);
    }
  }

  await addToBatches(tx, [...inserted.values()].filter((p) => p.late !== true));
  return outcomes;
}

interface BatchState {
  leaseId: string;
  hourBucket: string;
  settlementTxHash: string | undefined;
  total: bigint;
}

async function existingBatches(tx: SqlExecutor, candidates: Candidate[]): Promise<Map<string, BatchState>> {
  const keys = new Map<string, [string, string]>();
  for (const c of candidates) keys.set(batchKey(c.input.leaseId, c.input.bucketSlot), [c.input.leaseId, c.input.bucketSlot]);
  if (keys.size === 0) return new Map();
  const params = [...keys.values()].flat();
  const { rows } = await tx.query<Row>(
    `SELECT b.lease_id, b.hour_bucket, b.settlement_tx_hash, b.total_amount_minor_units FROM x402_batches b
     JOIN (VALUES ${placeholders(keys.size, 2, ['text', 'timestamptz'])}) AS k(lease_id, hour_bucket)
       ON b.lease_id = k.lease_id AND b.hour_bucket = k.hour_bucket`,
    params,
  );
  const out = new Map<string, BatchState>();
  for (const r of rows) {
    const hourBucket = toBucket(r['hour_bucket'], 'hour_bucket');
    const leaseId = r['lease_id'] as string;
    out.set(batchKey(leaseId, hourBucket), {
      leaseId,
      hourBucket,
      settlementTxHash: (r['settlement_tx_hash'] as string | null) ?? undefined,
      total: toBigInt(r['total_amount_minor_units'], 'total_amount_minor_units'),
    });
  }
  return out;
}

async function insertPayments(tx: SqlExecutor, rows: Candidate[]): Promise<Map<string, StoredX402Payment>> {
  if (rows.length === 0) return new Map();
  const params: unknown[] = [];
  for (const c of rows) {
    const p = c.input;
    params.push(p.leaseId, p.mode, p.intervalSeconds, p.amountMinorUnits.toString(), c.payer, p.paymentTimestamp, c.hash, p.bucketSlot, c.late);
  }
  // The hash claim and the payment row are one statement (settlement-hashes.ts): a hash claimed
  // before, in any partition, is skipped like ON CONFLICT DO NOTHING.
  const result = await tx.query<Row>(
    claimAndInsertPaymentsSql(`VALUES ${placeholders(rows.length, 9, ['text', 'text', 'integer', 'numeric', 'text', 'timestamptz', 'text', 'timestamptz', 'boolean'])}`),
    params,
  );
  return new Map(result.rows.map((r) => [r['facilitator_tx_hash'] as string, paymentFromRow(r)]));
}

/**
 * Adds inserted payments to their batches: one upsert row per lease and hour, in key order so
 * concurrent groups lock batch rows in the same order. A batch settled since the check above is
 * not updated (the WHERE), which rolls the group back to be retried payment by payment.
 */
async function addToBatches(tx: SqlExecutor, payments: StoredX402Payment[]): Promise<void> {
  if (payments.length === 0) return;
  const sums = new Map<string, { leaseId: string; bucket: string; total: bigint; count: number }>();
  for (const p of payments) {
    const key = batchKey(p.leaseId, p.bucketSlot);
    const sum = sums.get(key) ?? { leaseId: p.leaseId, bucket: p.bucketSlot, total: 0n, count: 0 };
    sum.total += p.amountMinorUnits;
    sum.count += 1;
    sums.set(key, sum);
  }
  const ordered = [...sums.entries()].sort(([a], [b]) => (a < b ? -1 : 1)).map(([, s]) => s);
  const params: unknown[] = [];
  for (const s of ordered) params.push(s.leaseId, s.bucket, s.bucket, bucketEnd(s.bucket), s.total.toString(), s.count);
  const { rows } = await tx.query<Row>(
    `INSERT INTO x402_batches AS b (lease_id, hour_bucket, started_at, closed_at, total_amount_minor_units, payment_count)
     VALUES ${placeholders(ordered.length, 6, ['text', 'timestamptz', 'timestamptz', 'timestamptz', 'numeric', 'integer'])}
     ON CONFLICT (lease_id, hour_bucket) DO UPDATE SET
       total_amount_minor_units = b.total_amount_minor_units + EXCLUDED.total_amount_minor_units,
       payment_count = b.payment_count + EXCLUDED.payment_count
     WHERE b.settlement_tx_hash IS NULL
     RETURNING b.id`,
    params,
  );
  if (rows.length !== ordered.length) throw new RetryAlone('a batch was settled while payments were being added');
}
