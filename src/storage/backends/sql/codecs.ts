/**
 * Row codecs: the one place SQL rows become stored records. NUMERIC arrives as a string and
 * becomes a bigint without passing through a JS number; BIGINT block numbers are checked to be
 * safe integers; TIMESTAMPTZ buckets become the canonical bucket string.
 */
import type { JsonObject, LeaseStatus, PaymentMode, StoredAsset, StoredDeepReorg, StoredEvent, StoredLease, StoredX402Batch, StoredX402Payment } from '../../contract/database.js';
import { INTERVAL_SECONDS } from '../../contract/database.js';
import { StorageError } from '../../contract/errors.js';

/** A row as the driver returns it. */
export type Row = Record<string, unknown>;

function corrupt(column: string, value: unknown): StorageError {
  return new StorageError('INTERNAL', `column ${column} holds an unexpected value (${typeof value})`);
}

/** NUMERIC(20,0) to bigint, exactly. */
export function toBigInt(value: unknown, column: string): bigint {
  if (typeof value === 'string' && /^-?[0-9]+$/.test(value)) return BigInt(value);
  if (typeof value === 'bigint') return value;
  throw corrupt(column, value);
}

/** BIGINT or INTEGER to a safe JS integer. */
export function toSafeInt(value: unknown, column: string): number {
  const n = typeof value === 'string' && /^-?[0-9]+$/.test(value) ? Number(value) : value;
  if (typeof n === 'number' && Number.isSafeInteger(n)) return n;
  throw corrupt(column, value);
}

/** TIMESTAMPTZ to Date. */
export function toDate(value: unknown, column: string): Date {
  if (value instanceof Date && !Number.isNaN(value.getTime())) return value;
  if (typeof value === 'string') {
    const d = new Date(value);
    if (!Number.isNaN(d.getTime())) return d;
  }
  throw corrupt(column, value);
}

/** TIMESTAMPTZ bucket to its canonical string. */
export function toBucket(value: unknown, column: string): string {
  return toDate(value, column).toISOString();
}

function toText(value: unknown, column: string): string {
  if (typeof value === 'string') return value;
  throw corrupt(column, value);
}

function toJson(value: unknown, column: string): JsonObject {
  if (typeof value === 'string') return JSON.parse(value) as JsonObject;
  if (typeof value === 'object' && value !== null) return value as JsonObject;
  throw corrupt(column, value);
}

/** assets row to StoredAsset. */
export function assetFromRow(r: Row): StoredAsset {
  return {
    id: toText(r['id'], 'id'),
    assetId: toText(r['asset_id'], 'asset_id'),
    chainId: toSafeInt(r['chain_id'], 'chain_id'),
    contractAddress: toText(r['contract_address'], 'contract_address'),
    tokenAddress: toText(r['token_address'], 'token_address'),
    metadata: toJson(r['metadata'], 'metadata'),
    metadataHash: toText(r['metadata_hash'], 'metadata_hash'),
    blockNumber: toSafeInt(r['block_number'], 'block_number'),
    transactionHash: toText(r['transaction_hash'], 'transaction_hash'),
    createdAt: toDate(r['created_at'], 'created_at'),
    updatedAt: toDate(r['updated_at'], 'updated_at'),
  };
}

/** leases row to StoredLease. */
export function leaseFromRow(r: Row): StoredLease {
  return {
    id: toText(r['id'], 'id'),
    leaseId: toText(r['lease_id'], 'lease_id'),
    assetId: toText(r['asset_id'], 'asset_id'),
    chainId: toSafeInt(r['chain_id'], 'chain_id'),
    contractAddress: toText(r['contract_address'], 'contract_address'),
    lessor: toText(r['lessor'], 'lessor'),
    lessee: toText(r['lessee'], 'lessee'),
    agreement: toJson(r['agreement'], 'agreement'),
    status: toText(r['status'], 'status') as LeaseStatus,
    blockNumber: toSafeInt(r['block_number'], 'block_number'),
    transactionHash: toText(r['transaction_hash'], 'transaction_hash'),
    createdAt: toDate(r['created_at'], 'created_at'),
    updatedAt: toDate(r['updated_at'], 'updated_at'),
  };
}

/** events row to StoredEvent. */
export function eventFromRow(r: Row): StoredEvent {
  const event: StoredEvent = {
    id: toText(r['id'], 'id'),
    eventName: toText(r['event_name'], 'event_name'),
    contractAddress: toText(r['contract_address'], 'contract_address'),
    blockNumber: toSafeInt(r['block_number'], 'block_number'),
    transactionHash: toText(r['transaction_hash'], 'transaction_hash'),
    logIndex: toSafeInt(r['log_index'], 'log_index'),
    args: toJson(r['args'], 'args'),
    processed: r['processed'] === true,
    createdAt: toDate(r['created_at'], 'created_at'),
  };
  // Optional fields are assigned (same order as before), not spread: a spread builds a throwaway
  // object per field per row, and getUnprocessedEvents decodes 100 rows a call.
  if (r['chain_id'] !== null && r['chain_id'] !== undefined) event.chainId = toSafeInt(r['chain_id'], 'chain_id');
  if (typeof r['block_hash'] === 'string') event.blockHash = r['block_hash'];
  if (r['removed'] === true) event.removed = true;
  if (typeof r['attempts'] === 'number' && r['attempts'] > 0) event.attempts = r['attempts'];
  if (typeof r['last_error'] === 'string') event.lastError = r['last_error'];
  return event;
}

/** x402_payments row to StoredX402Payment. */
export function paymentFromRow(r: Row): StoredX402Payment {
  const mode = toText(r['mode'], 'mode') as PaymentMode;
  return {
    id: toText(r['id'], 'id'),
    leaseId: toText(r['lease_id'], 'lease_id'),
    mode,
    intervalSeconds: toSafeInt(r['interval_seconds'] ?? INTERVAL_SECONDS[mode], 'interval_seconds'),
    amountMinorUnits: toBigInt(r['amount_minor_units'], 'amount_minor_units'),
    payer: toText(r['payer'], 'payer'),
    paymentTimestamp: toDate(r['payment_timestamp'], 'payment_timestamp'),
    facilitatorTxHash: toText(r['facilitator_tx_hash'], 'facilitator_tx_hash'),
    bucketSlot: toBucket(r['bucket_slot'], 'bucket_slot'),
    createdAt: toDate(r['created_at'], 'created_at'),
    ...(r['late'] === true ? { late: true as const } : {}),
    ...(typeof r['carried_to_batch_id'] === 'string' ? { carriedToBatchId: r['carried_to_batch_id'] } : {}),
  };
}

/** x402_batches row to StoredX402Batch (optional fields absent when NULL). */
export function batchFromRow(r: Row): StoredX402Batch {
  const batch: StoredX402Batch = {
    id: toText(r['id'], 'id'),
    leaseId: toText(r['lease_id'], 'lease_id'),
    hourBucket: toBucket(r['hour_bucket'], 'hour_bucket'),
    totalAmountMinorUnits: toBigInt(r['total_amount_minor_units'], 'total_amount_minor_units'),
    paymentCount: toSafeInt(r['payment_count'], 'payment_count'),
    startedAt: toDate(r['started_at'], 'started_at'),
    closedAt: toDate(r['closed_at'], 'closed_at'),
    createdAt: toDate(r['created_at'], 'created_at'),
  };
  if (r['revenue_round_id'] !== null && r['revenue_round_id'] !== undefined) batch.revenueRoundId = toText(r['revenue_round_id'], 'revenue_round_id');
  if (r['settlement_tx_hash'] !== null && r['settlement_tx_hash'] !== undefined) batch.settlementTxHash = toText(r['settlement_tx_hash'], 'settlement_tx_hash');
  return batch;
}

/** JSON documents go to JSONB parameters as text, so no driver guesses their type. */
export function jsonParam(value: JsonObject): string {
  return JSON.stringify(value);
}

/** chain_deep_reorgs row to StoredDeepReorg. */
export function deepReorgFromRow(r: Row): StoredDeepReorg {
  const acknowledgedAt = r['acknowledged_at'];
  return {
    id: toSafeInt(r['id'], 'id'),
    chainId: toSafeInt(r['chain_id'], 'chain_id'),
    detectedAt: toDate(r['detected_at'], 'detected_at'),
    fromBlock: toSafeInt(r['from_block'], 'from_block'),
    depth: toSafeInt(r['depth'], 'depth'),
    removedEvents: toSafeInt(r['removed_events'], 'removed_events'),
    undoneEvents: toSafeInt(r['undone_events'], 'undone_events'),
    acknowledgedAt: acknowledgedAt === null ? null : toDate(acknowledgedAt, 'acknowledged_at'),
    acknowledgedBy: r['acknowledged_by'] === null ? null : toText(r['acknowledged_by'], 'acknowledged_by'),
    acknowledgedNote: r['acknowledged_note'] === null ? null : toText(r['acknowledged_note'], 'acknowledged_note'),
  };
}
