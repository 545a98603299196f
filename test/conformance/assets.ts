/** Conformance cases for assets: save, natural key, lookups, order and updates. */
import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { AssetUpdate, StoredAsset } from '../../src/storage/contract/database.js';
import {
  type ConformanceBackend,
  address,
  expectRefused,
  expectStorageError,
  idsOf,
  newAsset,
  oldestFirst,
  unchecked,
  useDatabase,
  UUID,
} from './fixtures.js';
import { loadSamples, stringField } from './sample-data.js';

/** Registers the asset cases. */
export function assetTests(backend: ConformanceBackend): void {
  describe('assets', () => {
    const ctx = useDatabase(backend);

    it('saveAsset returns the stored asset with a backend-made UUID and timestamps', async () => {
      const input = newAsset();
      const saved = await ctx.db.saveAsset(input);
      expect(saved).toMatchObject(input);
      expect(saved.id).toMatch(UUID);
      expect(saved.createdAt).toBeInstanceOf(Date);
      expect(saved.updatedAt).toBeInstanceOf(Date);
      expect(saved.updatedAt.getTime()).toBeGreaterThanOrEqual(saved.createdAt.getTime());
      expect(await ctx.db.getAsset(input.assetId)).toEqual(saved);
      const other = await ctx.db.saveAsset(newAsset());
      expect(other.id).not.toBe(saved.id);
    });

    it('real asset metadata documents round-trip exactly', async () => {
      const { assets } = loadSamples();
      for (const { file, doc } of assets) {
        const saved = await ctx.db.saveAsset(newAsset({ assetId: stringField(doc, 'assetId'), metadata: doc }));
        expect(saved.metadata, file).toEqual(doc);
        expect((await ctx.db.getAsset(saved.assetId))?.metadata, file).toEqual(doc);
      }
      const all = await ctx.db.getAllAssets();
      expect(all.map((a) => a.metadata)).toEqual(expect.arrayContaining(assets.map((s) => s.doc)));
      expect(all).toHaveLength(assets.length);
    });

    it('getAsset of an unknown assetId gives null', async () => {
      await ctx.db.saveAsset(newAsset());
      expect(await ctx.db.getAsset('NO-SUCH-ASSET')).toBeNull();
    });

    it('a duplicate assetId is DUPLICATE and changes nothing', async () => {
      const first = await ctx.db.saveAsset(newAsset());
      await expectRefused(ctx.db, () => ctx.db.saveAsset(newAsset({ assetId: first.assetId })), 'DUPLICATE');
      expect(await ctx.db.getAsset(first.assetId)).toEqual(first);
    });

    it('addresses are stored as given and looked up case-insensitively', async () => {
      const mixed = '0xAbCdEf0123456789aBcDeF0123456789ABCDEF01';
      const saved = await ctx.db.saveAsset(newAsset({ tokenAddress: mixed, contractAddress: mixed.toUpperCase().replace('0X', '0x') }));
      expect(saved.tokenAddress).toBe(mixed);
      expect(saved.contractAddress).toBe(mixed.toUpperCase().replace('0X', '0x'));
      for (const query of [mixed, mixed.toLowerCase(), `0x${mixed.slice(2).toUpperCase()}`]) {
        const found = await ctx.db.getAssetByTokenAddress(query);
        expect(found, query).toEqual(saved);
      }
      expect(await ctx.db.getAssetByTokenAddress(address(0x5eed))).toBeNull();
    });

    it('getAssetByTokenAddress gives the first by (createdAt, id) when several share the address', async () => {
      const token = '0x00000000000000000000000000000000000000aB';
      const saved: StoredAsset[] = [];
      for (const variant of [token, token.toLowerCase(), `0x${token.slice(2).toUpperCase()}`, token]) {
        saved.push(await ctx.db.saveAsset(newAsset({ tokenAddress: variant })));
      }
      expect(await ctx.db.getAssetByTokenAddress(token.toLowerCase())).toEqual(oldestFirst(saved)[0]);
    });

    it('getAssetByTokenAddress refuses a malformed address', async () => {
      await expectStorageError(() => ctx.db.getAssetByTokenAddress('0x1234'), 'VALIDATION');
    });

    it('getAllAssets is ordered by (createdAt, id)', async () => {
      // Saved back to back, many share a millisecond, so the id tie-break is exercised.
      const saved: StoredAsset[] = [];
      for (let i = 0; i < 15; i++) saved.push(await ctx.db.saveAsset(newAsset()));
      const all = await ctx.db.getAllAssets();
      expect(idsOf(all)).toEqual(idsOf(oldestFirst(all)));
      expect(new Set(idsOf(all))).toEqual(new Set(idsOf(saved)));
      expect(all).toHaveLength(saved.length);
    });

    it('updateAsset changes only the given fields and moves updatedAt forward', async () => {
      const saved = await ctx.db.saveAsset(newAsset());
      const metadata = { name: 'renamed', documents: [{ size: 1 }] };
      const updated = await ctx.db.updateAsset(saved.assetId, { metadata, blockNumber: 99 });
      expect(updated).toEqual({ ...saved, metadata, blockNumber: 99, updatedAt: updated?.updatedAt });
      expect(updated?.createdAt).toEqual(saved.createdAt);
      expect(updated?.updatedAt.getTime()).toBeGreaterThan(saved.updatedAt.getTime());
      expect(await ctx.db.getAsset(saved.assetId)).toEqual(updated);
    });

    it('updatedAt strictly increases on every update', async () => {
      const saved = await ctx.db.saveAsset(newAsset());
      let previous = saved.updatedAt.getTime();
      // Back-to-back updates land in the same millisecond; the contract still wants each one later.
      for (let i = 0; i < 5; i++) {
        const updated = await ctx.db.updateAsset(saved.assetId, { blockNumber: 10 + i });
        expect(updated?.updatedAt.getTime(), `update ${i}`).toBeGreaterThan(previous);
        expect(updated?.createdAt).toEqual(saved.createdAt);
        previous = updated?.updatedAt.getTime() ?? Number.POSITIVE_INFINITY;
      }
    });

    it('updateAsset refuses id, assetId, createdAt, updatedAt and unknown fields, naming them', async () => {
      const saved = await ctx.db.saveAsset(newAsset());
      const forbidden: Record<string, unknown> = {
        id: randomUUID(),
        assetId: 'RENAMED',
        createdAt: new Date('2020-01-01T00:00:00Z'),
        updatedAt: new Date('2030-01-01T00:00:00Z'),
        colour: 'red',
      };
      for (const [key, value] of Object.entries(forbidden)) {
        const updates = unchecked<AssetUpdate>({ blockNumber: 5, [key]: value });
        await expectRefused(ctx.db, () => ctx.db.updateAsset(saved.assetId, updates), 'VALIDATION', key, key);
      }
    });

    it('updateAsset refuses empty updates', async () => {
      const saved = await ctx.db.saveAsset(newAsset());
      await expectRefused(ctx.db, () => ctx.db.updateAsset(saved.assetId, {}), 'VALIDATION');
    });

    it('updateAsset refuses invalid values, naming the field', async () => {
      const saved = await ctx.db.saveAsset(newAsset());
      const cases: [string, AssetUpdate][] = [
        ['tokenAddress', { tokenAddress: '0x1234' }],
        ['metadata', { metadata: unchecked([1, 2]) }],
        ['chainId', { chainId: 0 }],
        ['metadataHash', { metadataHash: '0x12' }],
      ];
      for (const [field, updates] of cases) {
        await expectRefused(ctx.db, () => ctx.db.updateAsset(saved.assetId, updates), 'VALIDATION', field, field);
      }
    });

    it('updateAsset of a missing asset gives null and writes nothing', async () => {
      await ctx.db.saveAsset(newAsset());
      const before = await ctx.db.getAllAssets();
      expect(await ctx.db.updateAsset('NO-SUCH-ASSET', { blockNumber: 1 })).toBeNull();
      expect(await ctx.db.getAllAssets()).toEqual(before);
    });

    it('updating tokenAddress moves the lookup to the new address', async () => {
      const saved = await ctx.db.saveAsset(newAsset());
      const next = address(0x7777);
      await ctx.db.updateAsset(saved.assetId, { tokenAddress: next });
      expect(await ctx.db.getAssetByTokenAddress(saved.tokenAddress)).toBeNull();
      expect((await ctx.db.getAssetByTokenAddress(next))?.id).toBe(saved.id);
    });
  });
}
