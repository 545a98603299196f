/** Conformance cases for leases: save, references, filtered reads and their order, updates. */
import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { LeaseStatus, LeaseUpdate, NewLease, StoredLease } from '../../src/storage/contract/database.js';
import {
  type ConformanceBackend,
  expectRefused,
  expectStorageError,
  idsOf,
  newAsset,
  newestFirst,
  newLease,
  oldestFirst,
  unchecked,
  useDatabase,
  UUID,
} from './fixtures.js';
import { loadSamples, stringField } from './sample-data.js';

/** Registers the lease cases. */
export function leaseTests(backend: ConformanceBackend): void {
  describe('leases', () => {
    const ctx = useDatabase(backend);

    /** Saves `count` leases per status on each of two assets, in a mixed order. */
    async function seedMany(): Promise<{ assetIds: [string, string]; leases: StoredLease[] }> {
      const a = await ctx.db.saveAsset(newAsset());
      const b = await ctx.db.saveAsset(newAsset());
      const statuses: LeaseStatus[] = ['active', 'pending', 'active', 'terminated', 'completed', 'active'];
      const leases: StoredLease[] = [];
      for (let i = 0; i < 12; i++) {
        const status = statuses[i % statuses.length] ?? 'active';
        leases.push(await ctx.db.saveLease(newLease(i % 3 === 0 ? b.assetId : a.assetId, { status })));
      }
      return { assetIds: [a.assetId, b.assetId], leases };
    }

    it('real lease agreements round-trip exactly', async () => {
      const { assets, leases } = loadSamples();
      for (const { doc } of assets) await ctx.db.saveAsset(newAsset({ assetId: stringField(doc, 'assetId'), metadata: doc }));
      for (const { file, doc } of leases) {
        const input: NewLease = newLease(stringField(doc, 'assetId'), {
          leaseId: stringField(doc, 'leaseId'),
          lessor: stringField(doc, 'lessorAddress'),
          lessee: stringField(doc, 'lesseeAddress'),
          agreement: doc,
          status: 'pending',
        });
        const saved = await ctx.db.saveLease(input);
        expect(saved, file).toMatchObject(input);
        expect(saved.id).toMatch(UUID);
        expect(saved.createdAt).toBeInstanceOf(Date);
        expect(saved.updatedAt).toBeInstanceOf(Date);
        expect(await ctx.db.getLease(input.leaseId), file).toEqual(saved);
      }
      // The three sample leases share one lessor (checksummed case); the lookup finds all of them.
      const lessor = stringField(leases[0]?.doc ?? {}, 'lessorAddress');
      expect(await ctx.db.getLeasesByLessor(lessor.toLowerCase())).toHaveLength(leases.length);
    });

    it('saveLease with an unknown assetId is REFERENCE_NOT_FOUND and writes nothing', async () => {
      await ctx.db.saveAsset(newAsset());
      await expectRefused(ctx.db, () => ctx.db.saveLease(newLease('NO-SUCH-ASSET')), 'REFERENCE_NOT_FOUND');
    });

    it('a duplicate leaseId is DUPLICATE and changes nothing', async () => {
      const asset = await ctx.db.saveAsset(newAsset());
      const first = await ctx.db.saveLease(newLease(asset.assetId));
      await expectRefused(ctx.db, () => ctx.db.saveLease(newLease(asset.assetId, { leaseId: first.leaseId })), 'DUPLICATE');
      expect(await ctx.db.getLease(first.leaseId)).toEqual(first);
    });

    it('getLease of an unknown leaseId gives null', async () => {
      expect(await ctx.db.getLease('NO-SUCH-LEASE')).toBeNull();
    });

    it('getAllLeases, getLeasesByAsset and getLeasesByStatus filter and order by (createdAt, id)', async () => {
      const { assetIds, leases } = await seedMany();
      const all = await ctx.db.getAllLeases();
      expect(idsOf(all)).toEqual(idsOf(oldestFirst(leases)));
      for (const assetId of assetIds) {
        const got = await ctx.db.getLeasesByAsset(assetId);
        expect(idsOf(got), assetId).toEqual(idsOf(oldestFirst(leases.filter((l) => l.assetId === assetId))));
      }
      for (const status of ['pending', 'active', 'completed', 'terminated'] as const) {
        const got = await ctx.db.getLeasesByStatus(status);
        expect(idsOf(got), status).toEqual(idsOf(oldestFirst(leases.filter((l) => l.status === status))));
      }
      expect(await ctx.db.getLeasesByAsset('NO-SUCH-ASSET')).toEqual([]);
    });

    it('getActiveLeasesForAsset gives only active leases of the asset, newest first', async () => {
      const { assetIds, leases } = await seedMany();
      for (const assetId of assetIds) {
        const expected = newestFirst(leases.filter((l) => l.assetId === assetId && l.status === 'active'));
        expect(expected.length).toBeGreaterThan(0);
        expect(idsOf(await ctx.db.getActiveLeasesForAsset(assetId)), assetId).toEqual(idsOf(expected));
      }
    });

    it('getLeasesByLessor and getLeasesByLessee match case-insensitively, newest first', async () => {
      const asset = await ctx.db.saveAsset(newAsset());
      const lessor = '0xAAAAbbbbCCCCdddd0000111122223333444455E5';
      const lessee = '0x9999888877776666555544443333222211110aBc';
      const mine: StoredLease[] = [];
      for (let i = 0; i < 6; i++) {
        // Both parties stored in varying case; lookups must still find every lease.
        const overrides = i % 2 === 0 ? { lessor, lessee } : { lessor: lessor.toLowerCase(), lessee: `0x${lessee.slice(2).toUpperCase()}` };
        mine.push(await ctx.db.saveLease(newLease(asset.assetId, overrides)));
        await ctx.db.saveLease(newLease(asset.assetId));
      }
      expect(mine[0]?.lessor).toBe(lessor);
      for (const query of [lessor, lessor.toLowerCase(), `0x${lessor.slice(2).toUpperCase()}`]) {
        expect(idsOf(await ctx.db.getLeasesByLessor(query)), query).toEqual(idsOf(newestFirst(mine)));
      }
      for (const query of [lessee, lessee.toLowerCase()]) {
        expect(idsOf(await ctx.db.getLeasesByLessee(query)), query).toEqual(idsOf(newestFirst(mine)));
      }
      expect(await ctx.db.getLeasesByLessee(lessor)).toEqual([]);
    });

    it('lease reads refuse an unknown status and malformed addresses', async () => {
      await expectStorageError(() => ctx.db.getLeasesByStatus(unchecked<LeaseStatus>('pending_signatures')), 'VALIDATION', 'status');
      await expectStorageError(() => ctx.db.getLeasesByLessor('0x12'), 'VALIDATION');
      await expectStorageError(() => ctx.db.getLeasesByLessee('not an address'), 'VALIDATION');
    });

    it('updateLease changes the given fields, keeps createdAt and moves updatedAt forward', async () => {
      const asset = await ctx.db.saveAsset(newAsset());
      const saved = await ctx.db.saveLease(newLease(asset.assetId, { status: 'pending' }));
      let previous = saved;
      for (const status of ['active', 'completed', 'terminated'] as const) {
        const updated = await ctx.db.updateLease(saved.leaseId, { status });
        expect(updated).toEqual({ ...previous, status, updatedAt: updated?.updatedAt });
        expect(updated?.updatedAt.getTime(), status).toBeGreaterThan(previous.updatedAt.getTime());
        expect(await ctx.db.getLease(saved.leaseId)).toEqual(updated);
        if (updated) previous = updated;
      }
      expect(idsOf(await ctx.db.getLeasesByStatus('terminated'))).toEqual([saved.id]);
      expect(await ctx.db.getLeasesByStatus('pending')).toEqual([]);
    });

    it('updateLease refuses id, leaseId, createdAt, updatedAt and unknown fields, naming them', async () => {
      const asset = await ctx.db.saveAsset(newAsset());
      const saved = await ctx.db.saveLease(newLease(asset.assetId));
      const forbidden: Record<string, unknown> = {
        id: randomUUID(),
        leaseId: 'RENAMED',
        createdAt: new Date('2020-01-01T00:00:00Z'),
        updatedAt: new Date('2030-01-01T00:00:00Z'),
        notes: 'x',
      };
      for (const [key, value] of Object.entries(forbidden)) {
        const updates = unchecked<LeaseUpdate>({ status: 'completed', [key]: value });
        await expectRefused(ctx.db, () => ctx.db.updateLease(saved.leaseId, updates), 'VALIDATION', key, key);
      }
      await expectRefused(ctx.db, () => ctx.db.updateLease(saved.leaseId, {}), 'VALIDATION');
      await expectRefused(ctx.db, () => ctx.db.updateLease(saved.leaseId, { status: unchecked('paused') }), 'VALIDATION', 'status');
      await expectRefused(ctx.db, () => ctx.db.updateLease(saved.leaseId, { lessee: '0xabc' }), 'VALIDATION', 'lessee');
    });

    it('updateLease to a missing asset is REFERENCE_NOT_FOUND; to another asset moves the lease', async () => {
      const a = await ctx.db.saveAsset(newAsset());
      const b = await ctx.db.saveAsset(newAsset());
      const saved = await ctx.db.saveLease(newLease(a.assetId));
      await expectRefused(ctx.db, () => ctx.db.updateLease(saved.leaseId, { assetId: 'NO-SUCH-ASSET' }), 'REFERENCE_NOT_FOUND');
      const moved = await ctx.db.updateLease(saved.leaseId, { assetId: b.assetId });
      expect(moved?.assetId).toBe(b.assetId);
      expect(await ctx.db.getLeasesByAsset(a.assetId)).toEqual([]);
      expect(idsOf(await ctx.db.getLeasesByAsset(b.assetId))).toEqual([saved.id]);
    });

    it('updateLease of a missing lease gives null and writes nothing', async () => {
      const asset = await ctx.db.saveAsset(newAsset());
      await ctx.db.saveLease(newLease(asset.assetId));
      const before = await ctx.db.getAllLeases();
      expect(await ctx.db.updateLease('NO-SUCH-LEASE', { status: 'completed' })).toBeNull();
      expect(await ctx.db.getAllLeases()).toEqual(before);
    });
  });
}
