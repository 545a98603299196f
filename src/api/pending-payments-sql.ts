/**
 * Pending payments in the `pending_payments` table (migration 003), over any SQL executor. It
 * makes pending records visible to every instance of the service, but it lives in the database
 * whose failure usually creates them, so the service keeps the file store as its first line (see
 * the report of issue 6 for the contract change that would let the app reach an executor).
 */
import { mapDriverError } from '../storage/sql/map-driver-error.js';
import type { SqlExecutor } from '../storage/sql/driver.js';
import type { NewPendingPayment, PendingPayload, PendingPayment, PendingPaymentStore } from './pending-payments.js';

type Row = Record<string, unknown>;

function fromRow(row: Row): PendingPayment {
  return {
    id: row['id'] as string,
    facilitatorTxHash: row['facilitator_tx_hash'] as string,
    leaseId: row['lease_id'] as string,
    payload: row['payload'] as PendingPayload,
    error: row['error'] as string,
    attempts: Number(row['attempts']),
    createdAt: row['created_at'] as Date,
    resolvedAt: (row['resolved_at'] as Date | null) ?? null,
  };
}

/** The table-backed {@link PendingPaymentStore}. */
export class SqlPendingPaymentStore implements PendingPaymentStore {
  readonly kind = 'sql';

  constructor(private readonly sql: SqlExecutor) {}

  private async query(context: string, text: string, params: readonly unknown[]): Promise<Row[]> {
    try {
      return (await this.sql.query<Row>(text, params)).rows;
    } catch (error) {
      throw mapDriverError(error, context);
    }
  }

  async add(input: NewPendingPayment): Promise<PendingPayment> {
    const rows = await this.query(
      'pending payment add',
      `INSERT INTO pending_payments (facilitator_tx_hash, lease_id, payload, error, attempts)
       VALUES ($1, $2, $3::jsonb, $4, $5)
       ON CONFLICT (facilitator_tx_hash) DO UPDATE SET
         payload = EXCLUDED.payload, error = EXCLUDED.error,
         attempts = pending_payments.attempts + EXCLUDED.attempts, resolved_at = NULL
       RETURNING *`,
      [input.facilitatorTxHash, input.leaseId, JSON.stringify(input.payload), input.error, input.attempts],
    );
    return fromRow(rows[0] as Row);
  }

  async listUnresolved(): Promise<PendingPayment[]> {
    const rows = await this.query('pending payment list', 'SELECT * FROM pending_payments WHERE resolved_at IS NULL ORDER BY created_at, id', []);
    return rows.map(fromRow);
  }

  async recordFailure(facilitatorTxHash: string, error: string): Promise<void> {
    await this.query('pending payment failure', 'UPDATE pending_payments SET error = $2, attempts = attempts + 1 WHERE facilitator_tx_hash = $1', [
      facilitatorTxHash,
      error,
    ]);
  }

  async resolve(facilitatorTxHash: string): Promise<void> {
    await this.query(
      'pending payment resolve',
      `UPDATE pending_payments SET resolved_at = date_trunc('milliseconds', now()) WHERE facilitator_tx_hash = $1 AND resolved_at IS NULL`,
      [facilitatorTxHash],
    );
  }

  async close(): Promise<void> {}
}
