/**
 * Input validation shared by every backend, run before anything is written, so a bad input is
 * refused the same way everywhere: a `StorageError` with code `VALIDATION` naming the field.
 * Validators return normalized copies (canonical buckets, parsed amounts), never the caller's object.
 */
import { z } from 'zod';
import type {
  AssetUpdate,
  BatchUpdate,
  JsonObject,
  LeaseFilter,
  LeaseStatus,
  LeaseUpdate,
  NewAsset,
  NewEvent,
  NewLease,
  PaymentMode,
} from '../contract/database.js';
import { INTERVAL_SECONDS, LEASE_STATUSES, PAYMENT_MODES } from '../contract/database.js';
import type { ReconcileOptions } from '../contract/ledger-queries.js';
import { isStorageError, validationError } from '../contract/errors.js';
import { hasUnstorableCharacter, jsonDocumentProblem } from './json-document.js';
import { MAX_AMOUNT, parseAmount } from './money.js';
import { bucketEnd, checkDate, hourBucketOf, parseHourBucket, parseInstant } from './time.js';
import { ADDRESS_RE, HASH_RE } from '../../util/hex.js';

const MAX_INT4 = 2_147_483_647;

const address = z.string().regex(ADDRESS_RE, 'must be 0x followed by 40 hex digits');
const hash = z.string().regex(HASH_RE, 'must be 0x followed by 64 hex digits');
/** A string every backend stores exactly as given (no NUL, no lone surrogate). */
const text = (what: string) => z.string(`must be ${what}`).refine((v) => !hasUnstorableCharacter(v), 'must not contain a NUL character or a lone surrogate');
const key = text('a string').min(1, 'must not be empty').max(255, 'must be at most 255 characters');
const chainId = z.number().int('must be an integer').positive('must be positive').max(MAX_INT4, 'is too large');
const blockNumber = z.number().int('must be an integer').min(0, 'must not be negative').max(Number.MAX_SAFE_INTEGER, 'must be a safe integer');
// log_index is an INTEGER column.
const logIndex = z.number().int('must be an integer').min(0, 'must not be negative').max(MAX_INT4, 'is too large');
const amount = z
  .bigint('must be a bigint number of minor units')
  .min(0n, 'must not be negative')
  .max(MAX_AMOUNT, 'must be below 10^20');
const date = z.date('must be a valid Date').superRefine(adapt((v: Date, f) => checkDate(v, f)));
const status = z.enum(LEASE_STATUSES, `must be one of ${LEASE_STATUSES.join(', ')}`);
const mode = z.enum(PAYMENT_MODES, `must be one of ${PAYMENT_MODES.join(', ')}`);
const document = z.custom<JsonObject>().superRefine((value, ctx) => {
  const problem = jsonDocumentProblem(value);
  if (problem) ctx.addIssue({ code: 'custom', message: problem });
});
const hourBucket = z.string('must be an ISO-8601 string').transform((value, ctx) => {
  try {
    return parseHourBucket(value, '');
  } catch (error) {
    ctx.addIssue({ code: 'custom', message: reasonOf(error) });
    return z.NEVER;
  }
});

// Runs one of the throwing checkers inside a zod refinement, reporting its reason as the issue.
function adapt<T>(check: (value: T, field: string) => unknown) {
  return (value: T, ctx: z.RefinementCtx) => {
    try {
      check(value, '');
    } catch (error) {
      ctx.addIssue({ code: 'custom', message: reasonOf(error) });
    }
  };
}

function reasonOf(error: unknown): string {
  if (isStorageError(error, 'VALIDATION')) return String(error.details?.['reason'] ?? error.message);
  throw error;
}

const assetFields = {
  assetId: key,
  chainId,
  contractAddress: address,
  tokenAddress: address,
  metadata: document,
  metadataHash: hash,
  blockNumber,
  transactionHash: hash,
};
const leaseFields = {
  leaseId: key,
  assetId: key,
  chainId,
  contractAddress: address,
  lessor: address,
  lessee: address,
  agreement: document,
  status,
  blockNumber,
  transactionHash: hash,
};

const newAssetSchema = z.strictObject(assetFields);
const newLeaseSchema = z.strictObject(leaseFields);
const assetUpdateSchema = z.strictObject(omitKeys(assetFields, 'assetId')).partial();
const leaseUpdateSchema = z.strictObject(omitKeys(leaseFields, 'leaseId')).partial();
const newEventSchema = z.strictObject({
  eventName: text('a string').min(1, 'must not be empty').max(100, 'must be at most 100 characters'),
  contractAddress: address,
  blockNumber,
  transactionHash: hash,
  logIndex,
  args: document,
  processed: z.boolean('must be a boolean').optional(),
});
const paymentShape = {
  leaseId: key,
  mode,
  intervalSeconds: z.number('must be a number').int('must be an integer'),
  amountMinorUnits: amount,
  payer: address,
  paymentTimestamp: date,
  facilitatorTxHash: hash,
  bucketSlot: hourBucket.optional(),
};
const newPaymentSchema = z.strictObject(paymentShape);
const newBatchSchema = z.strictObject({
  leaseId: key,
  hourBucket,
  totalAmountMinorUnits: amount.optional(),
  paymentCount: z.number('must be a number').int('must be an integer').optional(),
  revenueRoundId: key.optional(),
  settlementTxHash: hash.optional(),
  startedAt: date.optional(),
  closedAt: date.optional(),
});
const batchUpdateSchema = z.strictObject({ settlementTxHash: hash, revenueRoundId: key }).partial();
const recordPaymentSchema = z.strictObject({
  leaseId: key,
  amount: z.unknown(),
  timestamp: z.unknown(),
  mode,
  payer: address.optional(),
  facilitatorTxHash: hash.optional(),
  settled: z.boolean('must be a boolean').optional(),
});

/** Field schemas reused by the stored-record validators (see validate-records.ts). */
export const schemas = {
  address,
  hash,
  key,
  chainId,
  blockNumber,
  logIndex,
  amount,
  date,
  status,
  mode,
  document,
  hourBucket,
  assetFields,
  leaseFields,
} as const;

/** Parses `input` with a strict object schema; exported for the stored-record validators. */
export function parseObject<S extends z.ZodType>(schema: S, input: unknown, what: string): z.output<S> {
  return parse(schema, input, what);
}

function omitKeys<T extends Record<string, unknown>, K extends keyof T>(shape: T, k: K): Omit<T, K> {
  const copy = { ...shape };
  delete copy[k];
  return copy;
}

/** Parses `input` with `schema`, turning the first zod issue into a `VALIDATION` StorageError. */
function parse<S extends z.ZodType>(schema: S, input: unknown, what: string): z.output<S> {
  if (typeof input !== 'object' || input === null || Array.isArray(input)) {
    throw validationError(what, 'must be an object');
  }
  const result = schema.safeParse(input, { reportInput: true });
  if (result.success) return result.data;
  const issue = result.error.issues[0];
  if (!issue) throw validationError(what, 'is invalid');
  if (issue.code === 'unrecognized_keys') {
    throw validationError(String(issue.keys[0]), 'is not a field that can be set here');
  }
  const field = issue.path.length > 0 ? issue.path.map(String).join('.') : what;
  const missing = issue.code === 'invalid_type' && issue.input === undefined;
  throw validationError(field, missing ? 'is required' : issue.message);
}

/** Validates a new asset. */
export function validateNewAsset(input: unknown): NewAsset {
  return parse(newAssetSchema, input, 'asset');
}

/** Validates a new lease. */
export function validateNewLease(input: unknown): NewLease {
  return parse(newLeaseSchema, input, 'lease');
}

/** Validates a new event; `processed` defaults to false. */
export function validateNewEvent(input: unknown): NewEvent & { processed: boolean } {
  const event = parse(newEventSchema, input, 'event');
  return { ...event, processed: event.processed ?? false };
}

/** Validates asset updates: any field but the keys and timestamps, at least one. */
export function validateAssetUpdate(input: unknown): AssetUpdate {
  return nonEmpty<AssetUpdate>(parse(assetUpdateSchema, input, 'updates'));
}

/** Validates lease updates: any field but the keys and timestamps, at least one. */
export function validateLeaseUpdate(input: unknown): LeaseUpdate {
  return nonEmpty<LeaseUpdate>(parse(leaseUpdateSchema, input, 'updates'));
}

/** Validates batch updates: settlement fields only, at least one. */
export function validateBatchUpdate(input: unknown): BatchUpdate {
  return nonEmpty<BatchUpdate>(parse(batchUpdateSchema, input, 'updates'));
}

// zod's partial() keeps explicit `undefined`; dropping them gives "absent" one meaning, which is
// what makes the result fit the exact-optional update types.
function nonEmpty<T extends object>(parsed: object): T {
  const updates = Object.fromEntries(Object.entries(parsed).filter(([, v]) => v !== undefined));
  if (Object.keys(updates).length === 0) throw validationError('updates', 'must change at least one field');
  return updates as T;
}

/** A payment ready to store: every field checked, bucket derived. */
export interface PaymentInput {
  leaseId: string;
  mode: PaymentMode;
  intervalSeconds: number;
  amountMinorUnits: bigint;
  /** Absent when the caller left it to default to the lease's lessee. */
  payer: string | undefined;
  paymentTimestamp: Date;
  /** Absent when the caller gave none; the backend then makes a random reference. */
  facilitatorTxHash: string | undefined;
  bucketSlot: string;
  /** Money has moved already: the ledger takes it, late if its batch cannot (see `placePayment`). */
  settled: boolean;
}

/** Validates a full payment (saveX402Payment). */
export function validateNewPayment(input: unknown): PaymentInput {
  const p = parse(newPaymentSchema, input, 'payment');
  if (p.intervalSeconds !== INTERVAL_SECONDS[p.mode]) {
    throw validationError('intervalSeconds', `must be ${INTERVAL_SECONDS[p.mode]} for mode ${p.mode}`);
  }
  const bucketSlot = hourBucketOf(p.paymentTimestamp);
  if (p.bucketSlot !== undefined && p.bucketSlot !== bucketSlot) {
    throw validationError('bucketSlot', `must be the UTC hour of paymentTimestamp (${bucketSlot})`);
  }
  return { ...p, bucketSlot, settled: false };
}

/** Validates recordPayment's parameters (amount as decimal digits, timestamp as ISO string). */
export function validateRecordPayment(input: unknown): PaymentInput {
  const p = parse(recordPaymentSchema, input, 'payment');
  const amountMinorUnits = parseAmount(p.amount, 'amount');
  const paymentTimestamp = parseInstant(p.timestamp, 'timestamp');
  return {
    leaseId: p.leaseId,
    mode: p.mode,
    intervalSeconds: INTERVAL_SECONDS[p.mode],
    amountMinorUnits,
    payer: p.payer,
    paymentTimestamp,
    facilitatorTxHash: p.facilitatorTxHash,
    bucketSlot: hourBucketOf(paymentTimestamp),
    settled: p.settled ?? false,
  };
}

/** A batch ready to store: empty totals, the hour's bounds. */
export interface BatchInput {
  leaseId: string;
  hourBucket: string;
  revenueRoundId: string | undefined;
  settlementTxHash: string | undefined;
  startedAt: Date;
  closedAt: Date;
}

/** Validates a new batch: totals, when given, must be zero; bounds, when given, must be the hour's. */
export function validateNewBatch(input: unknown): BatchInput {
  const b = parse(newBatchSchema, input, 'batch');
  if (b.totalAmountMinorUnits !== undefined && b.totalAmountMinorUnits !== 0n) {
    throw validationError('totalAmountMinorUnits', 'is maintained from payments; a new batch starts at 0');
  }
  if (b.paymentCount !== undefined && b.paymentCount !== 0) {
    throw validationError('paymentCount', 'is maintained from payments; a new batch starts at 0');
  }
  const startedAt = new Date(b.hourBucket);
  const closedAt = bucketEnd(b.hourBucket);
  if (b.startedAt !== undefined && b.startedAt.getTime() !== startedAt.getTime()) {
    throw validationError('startedAt', `must be the start of the hour (${b.hourBucket})`);
  }
  if (b.closedAt !== undefined && b.closedAt.getTime() !== closedAt.getTime()) {
    throw validationError('closedAt', `must be the end of the hour (${closedAt.toISOString()})`);
  }
  return {
    leaseId: b.leaseId,
    hourBucket: b.hourBucket,
    revenueRoundId: b.revenueRoundId,
    settlementTxHash: b.settlementTxHash,
    startedAt,
    closedAt,
  };
}

/** Validates a natural key (assetId, leaseId) given to a read. */
export function validateKey(value: unknown, field: string): string {
  return parseField(key, value, field);
}

/** Validates an address given to a lookup. */
export function validateAddress(value: unknown, field: string): string {
  return parseField(address, value, field);
}

/** Validates a transaction hash given to a lookup. */
export function validateHash(value: unknown, field: string): string {
  return parseField(hash, value, field);
}

/** Validates a log index given to a lookup. */
export function validateLogIndex(value: unknown, field: string): number {
  return parseField(logIndex, value, field);
}

/** Validates a lease status given to a query. */
export function validateStatus(value: unknown, field = 'status'): LeaseStatus {
  return parseField(status, value, field);
}

/** Validates a bucket given to a query and returns its canonical form. */
export function validateBucket(value: unknown, field: string): string {
  return parseHourBucket(value, field);
}

const uuid = z.string().regex(/^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/, 'must be a UUID');

/** Validates an internal id (a UUID) and returns it lowercased, as PostgreSQL prints it. */
export function validateId(value: unknown, field = 'id'): string {
  return parseField(uuid, value, field).toLowerCase();
}

/** Validates a page size; `max` bounds what one call may return. */
export function validateLimit(value: unknown, field = 'limit', max = 10_000): number {
  return parseField(z.number('must be a number').int('must be an integer').min(1, 'must be at least 1').max(max, `must be at most ${max}`), value, field);
}

function parseField<S extends z.ZodType>(schema: S, value: unknown, field: string): z.output<S> {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  const issue = result.error.issues[0];
  throw validationError(field, issue?.message ?? 'is invalid');
}

/** Validates a half-open time range [from, to). */
export function validateRange(value: unknown, field = 'range'): { from: Date; to: Date } {
  if (typeof value !== 'object' || value === null) throw validationError(field, 'must be an object with from and to');
  const { from, to } = value as { from?: unknown; to?: unknown };
  checkDate(from, 'from');
  checkDate(to, 'to');
  if ((from as Date).getTime() > (to as Date).getTime()) throw validationError('to', 'must not be before from');
  return { from: from as Date, to: to as Date };
}

const leaseFilterSchema = z.strictObject({ status: status.optional(), assetId: key.optional(), lessor: address.optional(), lessee: address.optional() });

/** Validates a lease filter (every field optional). */
export function validateLeaseFilter(input: unknown): LeaseFilter {
  const parsed = parse(leaseFilterSchema, input ?? {}, 'filter');
  return Object.fromEntries(Object.entries(parsed).filter(([, v]) => v !== undefined)) as LeaseFilter;
}

/** Reconcile's options: an object (or nothing) whose only field is a boolean `full`. */
export function validateReconcileOptions(value: unknown): ReconcileOptions {
  if (value === undefined) return {};
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw validationError('options', 'must be an object');
  for (const key of Object.keys(value)) if (key !== 'full') throw validationError(key, 'is not an option of reconcile');
  const { full } = value as { full?: unknown };
  if (full !== undefined && typeof full !== 'boolean') throw validationError('full', 'must be a boolean');
  return full === undefined ? {} : { full };
}
