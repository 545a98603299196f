/**
 * Conformance cases for scalar validation of saveAsset, saveLease and saveEvent: each field's
 * accepted edge values are stored as given, each rejected one is VALIDATION naming the field.
 */
import { describe, expect, it } from 'vitest';
import type { Database } from '../../src/storage/contract/database.js';
import {
  type ConformanceBackend,
  dumpStore,
  expectRefused,
  expectStorageError,
  newAsset,
  newEvent,
  newLease,
  unchecked,
  useDatabase,
} from './fixtures.js';

/** Accepted and rejected values of one field. */
interface FieldRule {
  field: string;
  good: unknown[];
  bad: unknown[];
}

const MAX_INT4 = 2 ** 31 - 1;
const hex = (n: number, digit = 'a'): string => `0x${digit.repeat(n)}`;
const key = (field: string): FieldRule => ({ field, good: ['K', 'k'.repeat(255)], bad: ['', 'k'.repeat(256), 5, null] });
const addressRule = (field: string): FieldRule => ({
  field,
  good: [hex(40, 'a'), hex(40, 'F'), '0xAbCdEf0123456789aBcDeF0123456789ABCDEF01'],
  bad: [hex(39), hex(41), hex(40, 'g'), 'a'.repeat(42), `0x${'a'.repeat(38)} `, '', 7],
});
const hashRule = (field: string): FieldRule => ({
  field,
  good: [hex(64, 'b'), hex(64, 'C')],
  bad: [hex(63), hex(65), hex(64, 'z'), 'b'.repeat(66), '', null],
});
const chainIdRule: FieldRule = { field: 'chainId', good: [1, 8453, MAX_INT4], bad: [0, -1, 1.5, MAX_INT4 + 1, Number.NaN, '1'] };
const blockRule: FieldRule = {
  field: 'blockNumber',
  good: [0, Number.MAX_SAFE_INTEGER],
  bad: [-1, 0.5, Number.MAX_SAFE_INTEGER + 1, Number.POSITIVE_INFINITY, '1', 1n],
};

const ASSET_RULES: FieldRule[] = [key('assetId'), chainIdRule, addressRule('contractAddress'), addressRule('tokenAddress'), hashRule('metadataHash'), blockRule, hashRule('transactionHash')];
const LEASE_RULES: FieldRule[] = [
  key('leaseId'),
  chainIdRule,
  addressRule('contractAddress'),
  addressRule('lessor'),
  addressRule('lessee'),
  { field: 'status', good: ['pending', 'active', 'completed', 'terminated'], bad: ['pending_signatures', 'ACTIVE', 'draft', '', null] },
  blockRule,
  hashRule('transactionHash'),
];
const EVENT_RULES: FieldRule[] = [
  { field: 'eventName', good: ['E', 'e'.repeat(100)], bad: ['', 'e'.repeat(101), 3] },
  addressRule('contractAddress'),
  blockRule,
  hashRule('transactionHash'),
  { field: 'logIndex', good: [0, MAX_INT4], bad: [-1, 1.5, MAX_INT4 + 1, '0'] },
  { field: 'processed', good: [true, false], bad: ['yes', 1, null] },
];

/** Saves one input per good value (the field must come back as given) and refuses every bad one. */
async function checkRules(
  db: Database,
  rules: FieldRule[],
  make: () => Record<string, unknown>,
  save: (input: Record<string, unknown>) => Promise<Record<string, unknown>>,
): Promise<void> {
  for (const { field, good, bad } of rules) {
    for (const value of good) {
      const saved = await save({ ...make(), [field]: value });
      expect(saved[field], `${field} = ${String(value).slice(0, 20)}`).toEqual(value);
    }
    const before = await dumpStore(db);
    for (const value of bad) {
      await expectStorageError(() => save({ ...make(), [field]: value }), 'VALIDATION', field, `${field} = ${String(value).slice(0, 20)}`);
    }
    expect(await dumpStore(db), `${field}: refused inputs must write nothing`).toEqual(before);
  }
}

/** Refuses the input without each of its fields in turn, naming the missing one. */
async function checkRequired(db: Database, make: () => Record<string, unknown>, save: (input: Record<string, unknown>) => Promise<unknown>, optional: string[] = []): Promise<void> {
  for (const field of Object.keys(make()).filter((f) => !optional.includes(f))) {
    const input = make();
    delete input[field];
    await expectRefused(db, () => save(input), 'VALIDATION', field, `without ${field}`);
  }
}

/** Registers the scalar validation cases. */
export function validationTests(backend: ConformanceBackend): void {
  describe('validation of fields', () => {
    const ctx = useDatabase(backend);
    const saveAsset = (input: Record<string, unknown>): Promise<Record<string, unknown>> => ctx.db.saveAsset(unchecked(input)).then((a) => ({ ...a }));
    const saveEvent = (input: Record<string, unknown>): Promise<Record<string, unknown>> => ctx.db.saveEvent(unchecked(input)).then((e) => ({ ...e }));

    it('asset fields accept their edge values and refuse the rest, naming the field', async () => {
      await checkRules(ctx.db, ASSET_RULES, () => ({ ...newAsset() }), saveAsset);
    });

    it('lease fields accept their edge values and refuse the rest, naming the field', async () => {
      const asset = await ctx.db.saveAsset(newAsset());
      const saveLease = (input: Record<string, unknown>): Promise<Record<string, unknown>> => ctx.db.saveLease(unchecked(input)).then((l) => ({ ...l }));
      await checkRules(ctx.db, LEASE_RULES, () => ({ ...newLease(asset.assetId) }), saveLease);
      // A malformed assetId is a VALIDATION, not a missing reference.
      await expectRefused(ctx.db, () => ctx.db.saveLease(newLease('')), 'VALIDATION', 'assetId');
      await expectRefused(ctx.db, () => ctx.db.saveLease(newLease('k'.repeat(256))), 'VALIDATION', 'assetId');
    });

    it('event fields accept their edge values and refuse the rest, naming the field', async () => {
      await checkRules(ctx.db, EVENT_RULES, () => ({ ...newEvent() }), saveEvent);
    });

    it('every required field is required, by name', async () => {
      const asset = await ctx.db.saveAsset(newAsset());
      await checkRequired(ctx.db, () => ({ ...newAsset() }), saveAsset);
      await checkRequired(ctx.db, () => ({ ...newLease(asset.assetId) }), (input) => ctx.db.saveLease(unchecked(input)));
      await checkRequired(ctx.db, () => ({ ...newEvent() }), saveEvent, ['processed']);
    });

    it('unknown fields are refused by name (inputs are strict objects)', async () => {
      const asset = await ctx.db.saveAsset(newAsset());
      const cases: [string, () => Promise<unknown>][] = [
        ['name', () => ctx.db.saveAsset(unchecked({ ...newAsset(), name: 'x' }))],
        ['id', () => ctx.db.saveAsset(unchecked({ ...newAsset(), id: '00000000-0000-4000-8000-000000000001' }))],
        ['createdAt', () => ctx.db.saveAsset(unchecked({ ...newAsset(), createdAt: new Date() }))],
        ['price', () => ctx.db.saveLease(unchecked({ ...newLease(asset.assetId), price: 1 }))],
        ['updatedAt', () => ctx.db.saveLease(unchecked({ ...newLease(asset.assetId), updatedAt: new Date() }))],
        ['topics', () => ctx.db.saveEvent(unchecked({ ...newEvent(), topics: [] }))],
      ];
      for (const [field, call] of cases) await expectRefused(ctx.db, call, 'VALIDATION', field, field);
    });

    it('inputs that are not objects are refused', async () => {
      for (const input of [null, undefined, [], 'asset', 42]) {
        await expectRefused(ctx.db, () => ctx.db.saveAsset(unchecked(input)), 'VALIDATION', undefined, String(input));
        await expectRefused(ctx.db, () => ctx.db.saveEvent(unchecked(input)), 'VALIDATION', undefined, String(input));
      }
    });

    it('validation errors are StorageErrors that are not retryable', async () => {
      const error = await expectStorageError(() => ctx.db.saveAsset(newAsset({ chainId: 0 })), 'VALIDATION', 'chainId');
      expect(error.retryable).toBe(false);
      expect(error.name).toBe('StorageError');
    });
  });
}
