/**
 * Conformance cases built from the protocol's real, messy sample data: every malformed hash or
 * address found in the sample files is refused in every hash and address field, by name.
 */
import { describe, expect, it } from 'vitest';
import { type Database, LEASE_STATUSES, type NewX402Payment } from '../../src/storage/contract/database.js';
import {
  type ConformanceBackend,
  address,
  dumpStore,
  expectRefused,
  expectStorageError,
  hash,
  newAsset,
  newEvent,
  newLease,
  onDay,
  pay,
  seedLease,
  unchecked,
  useDatabase,
} from './fixtures.js';
import { type MalformedHex, loadSamples, malformedSampleHex, stringField } from './sample-data.js';

/** Tries every malformed value in `field` through `save`; one dump before and after the lot. */
async function refuseAll(
  db: Database,
  values: MalformedHex[],
  field: string,
  save: (value: string) => Promise<unknown>,
): Promise<void> {
  const before = await dumpStore(db);
  for (const { where, value } of values) {
    await expectStorageError(() => save(value), 'VALIDATION', field, `${field} = ${where} (${value.length} chars)`);
  }
  expect(await dumpStore(db), `${field}: refused inputs must write nothing`).toEqual(before);
}

/** Registers the sample-data validation cases. */
export function sampleDataTests(backend: ConformanceBackend): void {
  describe('validation with the real sample data', () => {
    const ctx = useDatabase(backend);

    it('finds the malformed values the sample data is known for', () => {
      const found = malformedSampleHex();
      const lengths = new Set(found.map((m) => m.value.length));
      for (const length of [44, 62, 63, 64, 65]) expect(lengths, `a ${length}-character value`).toContain(length);
    });

    it('asset hashes and addresses refuse every malformed sample value', async () => {
      const bad = malformedSampleHex();
      for (const field of ['metadataHash', 'transactionHash', 'tokenAddress', 'contractAddress'] as const) {
        await refuseAll(ctx.db, bad, field, (value) => ctx.db.saveAsset(newAsset({ [field]: value })));
      }
    });

    it('lease addresses and hash refuse every malformed sample value', async () => {
      const bad = malformedSampleHex();
      const asset = await ctx.db.saveAsset(newAsset());
      for (const field of ['lessor', 'lessee', 'contractAddress', 'transactionHash'] as const) {
        await refuseAll(ctx.db, bad, field, (value) => ctx.db.saveLease(newLease(asset.assetId, { [field]: value })));
      }
    });

    it('event, payment and update fields refuse every malformed sample value', async () => {
      const bad = malformedSampleHex();
      const lease = await seedLease(ctx.db);
      for (const field of ['transactionHash', 'contractAddress'] as const) {
        await refuseAll(ctx.db, bad, field, (value) => ctx.db.saveEvent(newEvent({ [field]: value })));
      }
      await refuseAll(ctx.db, bad, 'facilitatorTxHash', (value) => pay(ctx.db, lease.leaseId, onDay('12:00:00.000'), '1', { facilitatorTxHash: value }));
      await refuseAll(ctx.db, bad, 'payer', (value) => pay(ctx.db, lease.leaseId, onDay('12:00:00.000'), '1', { payer: value }));
      const full: NewX402Payment = {
        leaseId: lease.leaseId,
        mode: 'second',
        intervalSeconds: 1,
        amountMinorUnits: 1n,
        payer: address(1),
        paymentTimestamp: new Date(onDay('12:00:00.000')),
        facilitatorTxHash: hash(1),
      };
      await refuseAll(ctx.db, bad, 'facilitatorTxHash', (value) => ctx.db.saveX402Payment({ ...full, facilitatorTxHash: value }));
      await refuseAll(ctx.db, bad, 'metadataHash', (value) => ctx.db.updateAsset(lease.assetId, { metadataHash: value }));
      await refuseAll(ctx.db, bad, 'lessor', (value) => ctx.db.updateLease(lease.leaseId, { lessor: value }));
    });

    it('the 44-character holderAddress of the revenue sample is refused as a lessor', async () => {
      const { revenue } = loadSamples();
      const holders = revenue.flatMap(({ doc }) => (Array.isArray(doc['distributionData']) ? doc['distributionData'] : []));
      const long = holders
        .map((h) => (typeof h === 'object' && h !== null && !Array.isArray(h) ? h['holderAddress'] : undefined))
        .filter((a): a is string => typeof a === 'string' && a.length === 44);
      expect(long.length).toBeGreaterThan(0);
      const asset = await ctx.db.saveAsset(newAsset());
      for (const lessor of long) {
        await expectRefused(ctx.db, () => ctx.db.saveLease(newLease(asset.assetId, { lessor })), 'VALIDATION', 'lessor', lessor);
      }
    });

    it('a sample agreement status outside the stored enum (draft, pending_signatures) is refused', async () => {
      const { leases } = loadSamples();
      const asset = await ctx.db.saveAsset(newAsset());
      const statuses = leases.map(({ doc }) => stringField(doc, 'status'));
      const foreign = statuses.filter((s) => !(LEASE_STATUSES as readonly string[]).includes(s));
      expect(foreign.length).toBeGreaterThan(0);
      for (const status of foreign) {
        await expectRefused(ctx.db, () => ctx.db.saveLease(newLease(asset.assetId, { status: unchecked(status) })), 'VALIDATION', 'status', status);
      }
    });

    it('sample documents are opaque: their malformed inner hashes do not make them invalid', async () => {
      const { assets, leases } = loadSamples();
      const asset = await ctx.db.saveAsset(newAsset());
      for (const { file, doc } of assets) expect((await ctx.db.saveAsset(newAsset({ metadata: doc }))).metadata, file).toEqual(doc);
      for (const { file, doc } of leases) expect((await ctx.db.saveLease(newLease(asset.assetId, { agreement: doc }))).agreement, file).toEqual(doc);
    });
  });
}
