/**
 * Shared harness of the conformance suite: the backend factory type, per-test database setup,
 * error and "store unchanged" assertions, a full store dump, and builders of valid inputs.
 */
import { afterEach, beforeEach, expect } from 'vitest';
import type {
  Database,
  NewAsset,
  NewEvent,
  NewLease,
  RecordPaymentParams,
  StoredLease,
  StoredX402Payment,
} from '../../src/storage/contract/database.js';
import { StorageError, type StorageErrorCode } from '../../src/storage/contract/errors.js';
import type { StoreOptions } from '../../src/storage/core/store.js';
import { TABLES, type TableName, type TableRecords } from '../../src/storage/contract/transfer.js';

/** The suite's topics, one file each; a backend may opt out of a topic by name. */
export const SUITE_TOPICS = [
  'lifecycle',
  'assets',
  'leases',
  'events',
  'payments',
  'payment-records',
  'payment-concurrency',
  'late-payments',
  'batches',
  'ledger-queries',
  'pages',
  'validation',
  'documents',
  'samples',
  'copies',
  'records',
  'chain',
] as const;
export type SuiteTopic = (typeof SUITE_TOPICS)[number];

/** A backend under test: one store per test file. */
export interface ConformanceBackend {
  /** Shown in test names. */
  name: string;
  /** Topics this backend opts out of. */
  skip: ReadonlySet<SuiteTopic>;
  /** A new, unconnected Database over a store that may hold data; the suite connects it and calls clear(). */
  create(options?: StoreOptions): Promise<Database>;
  /** Called once after all tests (e.g. drop the test database). */
  teardown?(): Promise<void>;
}

/** The database of the running test. */
export interface DbContext {
  /** Connected and cleared before each test. */
  readonly db: Database;
  /** A further, unconnected database from the backend; disconnected after the test. */
  fresh(options?: StoreOptions): Promise<Database>;
}

/**
 * Registers beforeEach/afterEach in the enclosing describe: each test gets a new, connected,
 * empty database, disconnected afterwards.
 */
export function useDatabase(backend: ConformanceBackend): DbContext {
  let current: Database | undefined;
  let extras: Database[] = [];
  beforeEach(async () => {
    current = await backend.create();
    await current.connect();
    await current.clear();
  });
  afterEach(async () => {
    const open = [current, ...extras];
    current = undefined;
    extras = [];
    for (const db of open) await db?.disconnect();
  });
  return {
    get db(): Database {
      if (!current) throw new Error('the database is only available inside a test');
      return current;
    },
    async fresh(options?: StoreOptions): Promise<Database> {
      const db = await backend.create(options);
      extras.push(db);
      return db;
    },
  };
}

/** Every table's records, deep-copied. */
export type StoreDump = { [T in TableName]: TableRecords[T][] };

/** Collects every chunk of an export into one array. */
export async function drain<T>(chunks: AsyncIterable<T[]>): Promise<T[]> {
  const all: T[] = [];
  for await (const chunk of chunks) all.push(...chunk);
  return all;
}

/** A deep copy of the whole store, through `exportRecords` over all TABLES. */
export async function dumpStore(db: Database): Promise<StoreDump> {
  const dump: Partial<Record<TableName, unknown[]>> = {};
  // One table at a time: a dump is a read of a quiet store, and order keeps it simple to debug.
  for (const table of TABLES) dump[table] = await drain<unknown>(db.exportRecords(table));
  // structuredClone keeps Date and bigint, so later mutations of the export cannot leak in.
  return structuredClone(dump) as StoreDump;
}

/**
 * Asserts that `action` rejects with a StorageError of `code` (and `field`, when given) and
 * returns the error. A thunk that throws synchronously fails: the contract's methods reject.
 */
export async function expectStorageError(
  action: Promise<unknown> | (() => Promise<unknown>),
  code: StorageErrorCode,
  field?: string,
  label = '',
): Promise<StorageError> {
  let promise: Promise<unknown>;
  if (typeof action === 'function') {
    try {
      promise = action();
    } catch (error) {
      return expect.fail(`${label} threw synchronously instead of rejecting: ${String(error)}`);
    }
  } else {
    promise = action;
  }
  let outcome: { resolved: unknown } | { error: unknown };
  try {
    outcome = { resolved: await promise };
  } catch (error) {
    outcome = { error };
  }
  if (!('error' in outcome)) {
    return expect.fail(`${label} expected a StorageError ${code}${field ? ` (${field})` : ''}, but it resolved`);
  }
  const { error } = outcome;
  expect(error, `${label} should be a StorageError: ${String(error)}`).toBeInstanceOf(StorageError);
  const storageError = error as StorageError;
  expect(storageError.code, `${label} code (${storageError.message})`).toBe(code);
  if (field !== undefined) expect(storageError.field, `${label} field (${storageError.message})`).toBe(field);
  return storageError;
}

/** Like {@link expectStorageError}, and also asserts the store is exactly as it was before. */
export async function expectRefused(
  db: Database,
  action: () => Promise<unknown>,
  code: StorageErrorCode,
  field?: string,
  label = '',
): Promise<StorageError> {
  const before = await dumpStore(db);
  const error = await expectStorageError(action, code, field, label);
  expect(await dumpStore(db), `${label} a refused call must leave the store unchanged`).toEqual(before);
  return error;
}

/** Canonical form of a UUID as both backends print it. */
export const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** Records ordered by (createdAt, id) ascending, the contract's order of assets and leases. */
export function oldestFirst<T extends { createdAt: Date; id: string }>(records: readonly T[]): T[] {
  return [...records].sort((a, b) => a.createdAt.getTime() - b.createdAt.getTime() || compareIds(a.id, b.id));
}

/** Records ordered by (createdAt DESC, id DESC), the contract's "newest first". */
export function newestFirst<T extends { createdAt: Date; id: string }>(records: readonly T[]): T[] {
  return oldestFirst(records).reverse();
}

/** Payments ordered by (paymentTimestamp, id). */
export function paymentOrder(payments: readonly StoredX402Payment[]): StoredX402Payment[] {
  return [...payments].sort(
    (a, b) => a.paymentTimestamp.getTime() - b.paymentTimestamp.getTime() || compareIds(a.id, b.id),
  );
}

// Lowercase UUID text sorts like PostgreSQL's byte-wise uuid order.
function compareIds(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** The ids of records, for order assertions. */
export function idsOf(records: readonly { id: string }[]): string[] {
  return records.map((r) => r.id);
}

let sequence = 0;
/** A number unique within this worker, to keep builder outputs distinct. */
export function nextSeq(): number {
  sequence += 1;
  return sequence;
}

/** A valid address made from `n` (lowercase hex). */
export function address(n: number): string {
  return `0x${n.toString(16).padStart(40, '0')}`;
}

/** A valid 32-byte hash made from `n`. */
export function hash(n: number): string {
  return `0x${n.toString(16).padStart(64, '0')}`;
}

/** A valid new asset; `overrides` replace fields. */
export function newAsset(overrides: Partial<NewAsset> = {}): NewAsset {
  const n = nextSeq();
  return {
    assetId: `ASSET-${n}`,
    chainId: 31337,
    contractAddress: address(0xa00000 + n),
    tokenAddress: address(0xb00000 + n),
    metadata: { name: `Asset ${n}`, specifications: { mass_kg: 4200, bands: ['X', 'Ka'] } },
    metadataHash: hash(0xc00000 + n),
    blockNumber: 1000 + n,
    transactionHash: hash(0xd00000 + n),
    ...overrides,
  };
}

/** A valid new lease of `assetId`, active unless overridden. */
export function newLease(assetId: string, overrides: Partial<NewLease> = {}): NewLease {
  const n = nextSeq();
  return {
    leaseId: `LEASE-${n}`,
    assetId,
    chainId: 31337,
    contractAddress: address(0xe00000 + n),
    lessor: address(0xf00000 + n),
    lessee: address(0xf10000 + n),
    agreement: { terms: { paymentAmount: '1000000000000000000000', currency: 'USDC' }, version: n },
    status: 'active',
    blockNumber: 2000 + n,
    transactionHash: hash(0xd10000 + n),
    ...overrides,
  };
}

/** A valid new event. */
export function newEvent(overrides: Partial<NewEvent> = {}): NewEvent {
  const n = nextSeq();
  return {
    eventName: 'LeaseMinted',
    contractAddress: address(0xab0000 + n),
    blockNumber: 3000 + n,
    transactionHash: hash(0xd20000 + n),
    logIndex: 0,
    args: { tokenId: String(n), lessor: address(1), assetId: '115792089237316195423570985008687907853269984665640564039457584007913129639935' },
    ...overrides,
  };
}

/** Saves an asset and a lease of it (active unless overridden) and returns the lease. */
export async function seedLease(db: Database, overrides: Partial<NewLease> = {}): Promise<StoredLease> {
  const asset = await db.saveAsset(newAsset());
  return db.saveLease(newLease(asset.assetId, overrides));
}

/** An instant on 2026-02-25 (a past day, so its hours may be settled), e.g. `onDay('12:30:00.000')`. */
export function onDay(time: string, day = '2026-02-25'): string {
  return `${day}T${time}Z`;
}

/** recordPayment with defaults: mode 'second', amount '1000'. */
export function pay(
  db: Database,
  leaseId: string,
  timestamp: string,
  amount = '1000',
  extra: Partial<RecordPaymentParams> = {},
): Promise<StoredX402Payment> {
  return db.recordPayment({ leaseId, amount, timestamp, mode: 'second', ...extra });
}

/** The canonical bucket of the UTC hour `hoursFromNow` hours from the current one. */
export function hourFromNow(hoursFromNow = 0): string {
  const hour = 3_600_000;
  return new Date((Math.floor(Date.now() / hour) + hoursFromNow) * hour).toISOString();
}

/** Casts an intentionally ill-typed input so a test can hand it to the contract. */
export function unchecked<T>(value: unknown): T {
  return value as T;
}
