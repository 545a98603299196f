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
  onDay,
  pay,
  seedLease,
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
/** Strings no backend stores as given: NUL (refused by PostgreSQL text) and lone surrogates (UTF-8 has none; a driver would store U+FFFD). */
const UNSTORABLE = ['\u0000', 'a\u0000b', 'x\uD800', '\uDFFFy', '\uDC00\uD800'];
const key = (field: string): FieldRule => ({ field, good: ['K', 'k'.repeat(255), 'SAT-\u{1F6F0}'], bad: ['', 'k'.repeat(256), 5, null, ...UNSTORABLE] });
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
  { field: 'eventName', good: ['E', 'e'.repeat(100), 'Paid\u{1F4B0}'], bad: ['', 'e'.repeat(101), 3, ...UNSTORABLE] },
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

    it('a NUL or a lone surrogate in any key is VALIDATION naming the field, on reads, filters and writes alike', async () => {
      const lease = await seedLease(ctx.db, { status: 'active' });
      const batch = await ctx.db.saveX402Batch({ leaseId: lease.leaseId, hourBucket: onDay('10:00:00.000') });
      const range = { from: new Date('2026-02-01T00:00:00Z'), to: new Date('2026-03-01T00:00:00Z') };
      for (const bad of UNSTORABLE) {
        const calls: [string, () => Promise<unknown>][] = [
          ['assetId', () => ctx.db.getAsset(bad)],
          ['assetId', () => ctx.db.getLeasesByAsset(bad)],
          ['assetId', () => ctx.db.getActiveLeasesForAsset(bad)],
          ['assetId', () => ctx.db.getLeasesPage({ assetId: bad })],
          ['assetId', () => ctx.db.getAssetRevenue(bad, range)],
          ['assetId', () => ctx.db.updateAsset(bad, { blockNumber: 1 })],
          ['assetId', () => ctx.db.saveLease(newLease(bad))],
          ['leaseId', () => ctx.db.getLease(bad)],
          ['leaseId', () => ctx.db.updateLease(bad, { blockNumber: 1 })],
          ['leaseId', () => ctx.db.transitionLeaseStatus(bad, 'active', 'completed')],
          ['leaseId', () => ctx.db.getX402PaymentsByLease(bad)],
          ['leaseId', () => ctx.db.getX402BatchesByLease(bad)],
          ['leaseId', () => ctx.db.getOpenBatchForLease(bad, onDay('10:00:00.000'))],
          ['leaseId', () => ctx.db.getHourTotals(bad)],
          ['leaseId', () => ctx.db.getDailyRevenue(bad, range)],
          ['leaseId', () => ctx.db.getPaymentsPage(bad)],
          ['leaseId', () => ctx.db.getBatchesPage(bad)],
          ['leaseId', () => pay(ctx.db, bad, onDay('10:15:00.000'))],
          ['leaseId', () => ctx.db.saveX402Batch({ leaseId: bad, hourBucket: onDay('11:00:00.000') })],
          ['revenueRoundId', () => ctx.db.updateX402Batch(batch.id, { revenueRoundId: bad })],
          ['metadata', () => ctx.db.saveAsset(newAsset({ metadata: { [bad]: 'key' } }))],
          ['agreement', () => ctx.db.updateLease(lease.leaseId, { agreement: { terms: bad } })],
          ['args', () => ctx.db.saveEvent(newEvent({ args: { list: [bad] } }))],
        ];
        for (const [field, call] of calls) await expectRefused(ctx.db, call, 'VALIDATION', field, `${field} = ${JSON.stringify(bad)}`);
      }
    });

    it('a key with a surrogate pair (an emoji) is stored and found exactly as given', async () => {
      const assetId = 'SAT-\u{1F6F0}\u{FE0F}';
      await ctx.db.saveAsset(newAsset({ assetId }));
      expect((await ctx.db.getAsset(assetId))?.assetId).toBe(assetId);
      expect(await ctx.db.getAsset('SAT-\uFFFD\uFFFD\uFE0F')).toBeNull();
    });

    it('validation errors are StorageErrors that are not retryable', async () => {
      const error = await expectStorageError(() => ctx.db.saveAsset(newAsset({ chainId: 0 })), 'VALIDATION', 'chainId');
      expect(error.retryable).toBe(false);
      expect(error.name).toBe('StorageError');
    });
  });
}
