/**
 * The one statement of the payment hot path: a group of payments is checked against its leases,
 * inserted and added to its batches in a single statement, which on its own is one transaction (no
 * BEGIN/COMMIT round trips) and is prepared once per connection. Every table and index this path
 * writes is named here, so a schema change (e.g. partitioned payments, or the settlement-hash
 * guarantee moved to its own table) adapts this file and nothing else of the hot path.
 *
 * The statement writes only what needs no judgement: payments of active leases whose facilitator
 * hash is new, into open batches with room. Everything else (a missing or inactive lease, a replay,
 * a settled or full batch) is left to the careful path in payments.ts, which checks each rule of
 * core/invariants.ts first and names the cause of a refusal.
 */
import type { PaymentInput } from '../../core/validate.js';
import type { ClaimFilterView } from './cold-claim-filter.js';
import { HOT_CLAIMS, notClaimedColdPastFilter } from './settlement-hashes.js';

/**
 * Name under which node-postgres prepares {@link RECORD_PAYMENTS_SQL} on each connection. The
 * version suffix changes with the text: a connection that prepared the old text keeps it.
 */
export const RECORD_PAYMENTS_STATEMENT = 'record_payments_v7';

/** Name under which {@link RECORD_ONE_PAYMENT_SQL} is prepared (versioned as above). */
export const RECORD_ONE_PAYMENT_STATEMENT = 'record_one_payment_v5';

/**
 * The payments of a statement as rows: from nine parallel arrays (a group), or from nine scalars
 * (one payment). One payment gets its own text because PostgreSQL plans a statement anew on every
 * call while a fresh plan looks cheaper than the cached one: for arrays it sees their length in a
 * fresh plan (1 row) but not in the cached one (10 rows), so a one-element array would be planned
 * on every call (about as long as running it). With scalars both plans look the same and the
 * cached one is kept.
 */
const GROUP_INPUT = `SELECT * FROM unnest($1::text[], $2::text[], $3::int[], $4::numeric[], $5::text[], $6::timestamptz[], $7::text[], $8::timestamptz[], $9::bool[])
    AS t(lease_id, mode, interval_seconds, amount, payer, payment_timestamp, hash, bucket, probe_cold)`;
const ONE_INPUT = `SELECT $1::text AS lease_id, $2::text AS mode, $3::int AS interval_seconds, $4::numeric AS amount, $5::text AS payer,
    $6::timestamptz AS payment_timestamp, $7::text AS hash, $8::timestamptz AS bucket, $9::bool AS probe_cold`;

/**
 * The statement over its `input` rows (lease, mode, interval, amount, payer or NULL for the lessee,
 * timestamp, facilitator hash, hour bucket, whether the service's cold claims filter may hold the
 * hash) and the version of that filter (`$10`). Returns one row per payment inserted: its id, hash,
 * payer and creation time (the rest is what was sent).
 *
 * - `active`: only payments of active leases are written; the others are not returned. Each
 *   payment looks its lease up by key: `LATERAL ... LIMIT 1` keeps that shape in the cached plan,
 *   which with a plain join read every active lease for every group. The status is checked
 *   outside the lookup, so the lookup can only use the key: with it inside, a table without
 *   statistics (a fresh migration, before autovacuum analyzes it) was read through the status
 *   index, every active lease for each payment, three times the statement's cost.
 * - `claimed`: each payment claims its settlement hash in the hot claims table (the once-only
 *   rule of the partitioned payment table, settlement-hashes.ts) unless the cold one holds it,
 *   which it probes only for a hash the filter may hold, or for every hash when the filter's
 *   version is not the database's (cold-claim-filter.ts); a hash already claimed (a replay, an
 *   archived payment, or a concurrent insert) is skipped by the cold check or by ON CONFLICT.
 *   Rows go in hash order, so concurrent groups take index locks in one order. `active` is read
 *   twice, so it is materialized once: the id a hash claims is the id its payment row gets.
 * - `inserted`: a payment row for every hash this statement claimed, returned.
 * - `batches`: one upsert row per lease and hour, in key order (the same lock order for everyone).
 *   A settled batch makes the total NULL, which the NOT NULL column refuses: the whole statement
 *   fails and nothing is written, also when the settlement committed while this statement waited
 *   for the batch's row lock. A total past NUMERIC(20,0) fails it the same way (numeric overflow).
 */
const recordPaymentsSql = (input: string) => `
WITH input AS (
  ${input}
),
active AS (
  SELECT x402_time_ordered_uuid() AS id, input.*, l.lessee FROM input
  CROSS JOIN LATERAL (SELECT lessee, status FROM leases WHERE lease_id = input.lease_id LIMIT 1) l
  WHERE l.status = 'active'
),
claimed AS (
  INSERT INTO ${HOT_CLAIMS} (facilitator_tx_hash, lease_id, payment_id, payment_timestamp)
  SELECT hash, lease_id, id, payment_timestamp FROM active WHERE ${notClaimedColdPastFilter('active.hash', 'active.probe_cold', '$10::bigint')} ORDER BY hash
  ON CONFLICT (facilitator_tx_hash) DO NOTHING
  RETURNING payment_id
),
inserted AS (
  INSERT INTO x402_payments (id, lease_id, mode, interval_seconds, amount_minor_units, payer, payment_timestamp, facilitator_tx_hash, bucket_slot)
  SELECT a.id, a.lease_id, a.mode, a.interval_seconds, a.amount, COALESCE(a.payer, a.lessee), a.payment_timestamp, a.hash, a.bucket
  FROM active a JOIN claimed c ON c.payment_id = a.id
  RETURNING id, facilitator_tx_hash, payer, created_at, lease_id, bucket_slot, amount_minor_units
),
batches AS (
  INSERT INTO x402_batches AS b (lease_id, hour_bucket, started_at, closed_at, total_amount_minor_units, payment_count)
  SELECT lease_id, bucket_slot, bucket_slot, bucket_slot + interval '1 hour', sum(amount_minor_units), count(*)
  FROM inserted GROUP BY lease_id, bucket_slot ORDER BY lease_id, bucket_slot
  ON CONFLICT (lease_id, hour_bucket) DO UPDATE SET
    total_amount_minor_units = CASE WHEN b.settlement_tx_hash IS NULL THEN b.total_amount_minor_units + EXCLUDED.total_amount_minor_units END,
    payment_count = b.payment_count + EXCLUDED.payment_count
)
SELECT id, facilitator_tx_hash, payer, created_at FROM inserted`;

/** The statement for a group: nine parallel arrays, one element per payment, and the filter's version. */
export const RECORD_PAYMENTS_SQL = recordPaymentsSql(GROUP_INPUT);

/** {@link RECORD_PAYMENTS_SQL} for exactly one payment, its parameters scalars (why: the comment above GROUP_INPUT). */
export const RECORD_ONE_PAYMENT_SQL = recordPaymentsSql(ONE_INPUT);

/** A payment ready for {@link RECORD_PAYMENTS_SQL}: validated, with its facilitator hash decided. */
export interface PaymentRow {
  input: PaymentInput;
  hash: string;
}

/** The statement that writes `rows`, told what `filter` says of their hashes: its text, prepared name and parameters. */
export function recordPaymentsStatement(rows: readonly PaymentRow[], filter: ClaimFilterView): { text: string; name: string; values: unknown[] } {
  if (rows.length === 1) {
    const { input, hash } = rows[0] as PaymentRow;
    const values = [
      input.leaseId,
      input.mode,
      input.intervalSeconds,
      input.amountMinorUnits.toString(),
      input.payer ?? null,
      input.paymentTimestamp.toISOString(),
      hash,
      input.bucketSlot,
      filter.mayHold(hash),
      filter.version,
    ];
    return { text: RECORD_ONE_PAYMENT_SQL, name: RECORD_ONE_PAYMENT_STATEMENT, values };
  }
  return { text: RECORD_PAYMENTS_SQL, name: RECORD_PAYMENTS_STATEMENT, values: recordPaymentsParams(rows, filter) };
}

/** The parameters of {@link RECORD_PAYMENTS_SQL}: its nine arrays, in its column order, and the filter's version. */
function recordPaymentsParams(rows: readonly PaymentRow[], filter: ClaimFilterView): unknown[] {
  const n = rows.length;
  const leaseIds = new Array<string>(n);
  const modes = new Array<string>(n);
  const intervals = new Array<number>(n);
  const amounts = new Array<string>(n);
  const payers = new Array<string | null>(n);
  const timestamps = new Array<string>(n);
  const hashes = new Array<string>(n);
  const buckets = new Array<string>(n);
  const probes = new Array<boolean>(n);
  for (let i = 0; i < n; i++) {
    const { input, hash } = rows[i] as PaymentRow;
    leaseIds[i] = input.leaseId;
    modes[i] = input.mode;
    intervals[i] = input.intervalSeconds;
    amounts[i] = input.amountMinorUnits.toString();
    payers[i] = input.payer ?? null;
    timestamps[i] = input.paymentTimestamp.toISOString();
    hashes[i] = hash;
    buckets[i] = input.bucketSlot;
    probes[i] = filter.mayHold(hash);
  }
  return [leaseIds, modes, intervals, amounts, payers, timestamps, hashes, buckets, probes, filter.version];
}
