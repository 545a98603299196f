/**
 * Validation of whole stored records, as data migration and snapshot import carry them (ids,
 * timestamps and batch totals included). The same field rules as for new records apply.
 */
import { z } from 'zod';
import type { StoredX402Batch } from '../contract/database.js';
import { INTERVAL_SECONDS } from '../contract/database.js';
import { validationError } from '../contract/errors.js';
import { TABLES, type TableName, type TableRecords } from '../contract/transfer.js';
import { hourBucketOf } from './time.js';
import { parseObject, schemas } from './validate.js';

const uuid = z.uuid('must be a UUID');
const stamps = { id: uuid, createdAt: schemas.date };

const recordSchemas = {
  assets: z.strictObject({ ...schemas.assetFields, ...stamps, updatedAt: schemas.date }),
  leases: z.strictObject({ ...schemas.leaseFields, ...stamps, updatedAt: schemas.date }),
  events: z.strictObject({
    ...stamps,
    eventName: z.string().min(1).max(100),
    contractAddress: schemas.address,
    blockNumber: schemas.blockNumber,
    transactionHash: schemas.hash,
    logIndex: schemas.logIndex,
    args: schemas.document,
    processed: z.boolean(),
    chainId: schemas.chainId.optional(),
    blockHash: schemas.hash.optional(),
    removed: z.literal(true).optional(),
    attempts: z.number().int().min(1).max(2_147_483_647).optional(),
    lastError: z.string().max(2000).optional(),
  }),
  x402_payments: z.strictObject({
    ...stamps,
    leaseId: schemas.key,
    mode: schemas.mode,
    intervalSeconds: z.number().int(),
    amountMinorUnits: schemas.amount,
    payer: schemas.address,
    paymentTimestamp: schemas.date,
    facilitatorTxHash: schemas.hash,
    bucketSlot: schemas.hourBucket,
    late: z.literal(true).optional(),
    carriedToBatchId: uuid.optional(),
  }),
  x402_batches: z.strictObject({
    ...stamps,
    leaseId: schemas.key,
    hourBucket: schemas.hourBucket,
    // Totals can exceed one payment's range only if payments do; NUMERIC(20,0) bounds both.
    totalAmountMinorUnits: schemas.amount,
    paymentCount: z.number().int().min(0).max(2_147_483_647),
    revenueRoundId: schemas.key.optional(),
    settlementTxHash: schemas.hash.optional(),
    startedAt: schemas.date,
    closedAt: schemas.date,
  }),
} as const;

/** Validates one stored record of `table`, returning a normalized copy (ids lowercased). */
export function validateStoredRecord<T extends TableName>(table: T, record: unknown): TableRecords[T] {
  const parsed = parseObject(recordSchemas[table], record, table) as TableRecords[T] & { id: string };
  parsed.id = parsed.id.toLowerCase();
  if (table === 'x402_payments') {
    const p = parsed as TableRecords['x402_payments'];
    if (p.intervalSeconds !== INTERVAL_SECONDS[p.mode]) {
      throw validationError('intervalSeconds', `must be ${INTERVAL_SECONDS[p.mode]} for mode ${p.mode}`);
    }
    if (p.bucketSlot !== hourBucketOf(p.paymentTimestamp)) {
      throw validationError('bucketSlot', 'must be the UTC hour of paymentTimestamp');
    }
    if (p.carriedToBatchId !== undefined && p.late !== true) throw validationError('carriedToBatchId', 'is only set on a late payment');
    if (p.late === undefined) delete p.late;
    if (p.carriedToBatchId === undefined) delete p.carriedToBatchId;
    else p.carriedToBatchId = p.carriedToBatchId.toLowerCase();
  }
  if (table === 'x402_batches') stripUndefined(parsed as StoredX402Batch);
  if (table === 'events') {
    const e = parsed as TableRecords['events'];
    for (const k of ['chainId', 'blockHash', 'removed', 'attempts', 'lastError'] as const) if (e[k] === undefined) delete e[k];
  }
  return parsed;
}

// Optional batch fields are absent, never present-but-undefined, in stored records.
function stripUndefined(batch: StoredX402Batch): void {
  if (batch.revenueRoundId === undefined) delete batch.revenueRoundId;
  if (batch.settlementTxHash === undefined) delete batch.settlementTxHash;
}

/** Checks a table name against the five tables (it is interpolated into SQL text). */
export function validateTable(table: unknown): TableName {
  if (typeof table !== 'string' || !(TABLES as readonly string[]).includes(table)) {
    throw validationError('table', `must be one of ${TABLES.join(', ')}`);
  }
  return table as TableName;
}
