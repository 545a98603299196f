/**
 * Conformance cases for JSON documents (asset metadata, lease agreements, event args): only plain
 * JSON objects within 256 KiB are accepted, and an accepted document comes back exactly.
 */
import { describe, expect, it } from 'vitest';
import type { Database, JsonObject, StoredAsset } from '../../src/storage/contract/database.js';
import { type ConformanceBackend, dumpStore, expectStorageError, newAsset, newEvent, newLease, unchecked, useDatabase } from './fixtures.js';

const LIMIT = 256 * 1024;
// `{"blob":"` + `"}` around the payload.
const WRAPPER_BYTES = Buffer.byteLength(JSON.stringify({ blob: '' }), 'utf8');

class Point {
  constructor(
    readonly x: number,
    readonly y: number,
  ) {}
}

/** Values that are not acceptable documents, each with a label. */
const BAD_DOCUMENTS: [string, unknown][] = [
  ['array', [1, 2]],
  ['empty array', []],
  ['null', null],
  ['string', '{"a":1}'],
  ['number', 42],
  ['Date', new Date('2026-02-25T12:00:00Z')],
  ['Date inside', { signedAt: new Date('2026-02-25T12:00:00Z') }],
  ['bigint inside', { amount: 10n }],
  ['bigint deep inside', { terms: { list: [{ amount: 1n }] } }],
  ['NUL character', { name: 'a\u0000b' }],
  ['NUL in a key', { 'a\u0000': 1 }],
  ['lone high surrogate', { name: 'x\uD83D' }],
  ['lone low surrogate', { name: '\uDE00x' }],
  ['lone surrogate in a key', { '\uD800': 1 }],
  ['NaN', { n: Number.NaN }],
  ['Infinity', { n: [Number.POSITIVE_INFINITY] }],
  ['undefined value', { n: undefined }],
  ['function', { f: () => 1 }],
  ['Map', { m: new Map([['a', 1]]) }],
  ['class instance', { p: new Point(1, 2) }],
  ['class instance document', new Point(1, 2)],
  ['over 256 KiB', { blob: 'x'.repeat(LIMIT - WRAPPER_BYTES + 1) }],
  ['over 256 KiB in UTF-8 bytes', { blob: 'é'.repeat(Math.ceil((LIMIT - WRAPPER_BYTES + 1) / 2)) }],
];

/** Documents every backend must keep exactly, or refuse as VALIDATION of the field. */
const EDGE_DOCUMENTS: [string, JsonObject][] = [
  ['empty', {}],
  ['unicode', { emoji: '😀🛰️', rtl: 'שלום', separators: '\u2028\u2029', escapes: '"\\/\b\f\n\r\t', nbsp: '\u00a0' }],
  ['odd keys', { '': 'empty key', 'a.b': 1, $where: 2, '0': 'zero', ' spaced ': true }],
  ['numbers', { tenth: 0.1, big: 1e21, tiny: 5e-324, negative: -1.5e-7, safe: Number.MAX_SAFE_INTEGER, max: Number.MAX_VALUE }],
  ['negative zero', { zero: -0 }],
  ['nulls and nesting', { a: null, b: [null, [], {}, [[1]]], c: { d: { e: { f: false } } } }],
  ['deep', JSON.parse(`${'{"n":'.repeat(50)}1${'}'.repeat(50)}`) as JsonObject],
  ['exactly 256 KiB', { blob: 'x'.repeat(LIMIT - WRAPPER_BYTES) }],
  // JSON makes these ordinary keys; a copy made by assignment would set a prototype instead.
  ['__proto__ and constructor keys', JSON.parse('{"__proto__":{"polluted":true},"constructor":{"prototype":{"polluted":true}}}') as JsonObject],
];

/** The three document fields and how to save a document in each. */
function documentFields(db: Database, assetId: string): [string, (doc: unknown) => Promise<JsonObject>][] {
  return [
    ['metadata', async (doc) => (await db.saveAsset(newAsset({ metadata: unchecked(doc) }))).metadata],
    ['agreement', async (doc) => (await db.saveLease(newLease(assetId, { agreement: unchecked(doc) }))).agreement],
    ['args', async (doc) => (await db.saveEvent(newEvent({ args: unchecked(doc) }))).args],
  ];
}

/** Registers the document cases. */
export function documentTests(backend: ConformanceBackend): void {
  describe('validation of JSON documents', () => {
    const ctx = useDatabase(backend);

    it('refuses documents that are not plain JSON objects within 256 KiB, naming the field', async () => {
      const asset = await ctx.db.saveAsset(newAsset());
      const before = await dumpStore(ctx.db);
      for (const [field, save] of documentFields(ctx.db, asset.assetId)) {
        for (const [label, doc] of BAD_DOCUMENTS) {
          await expectStorageError(() => save(doc), 'VALIDATION', field, `${field}: ${label}`);
        }
      }
      expect(await dumpStore(ctx.db)).toEqual(before);
    });

    it('an accepted document comes back exactly, on save and on every read', async () => {
      const asset = await ctx.db.saveAsset(newAsset());
      for (const [label, doc] of EDGE_DOCUMENTS) {
        let saved: StoredAsset;
        try {
          saved = await ctx.db.saveAsset(newAsset({ metadata: doc }));
        } catch (error) {
          // Refusing is allowed (e.g. -0, which JSONB cannot keep); silently changing the document is not.
          await expectStorageError(Promise.reject(error as Error), 'VALIDATION', 'metadata', label);
          continue;
        }
        expect(saved.metadata, label).toEqual(doc);
        expect((await ctx.db.getAsset(saved.assetId))?.metadata, label).toEqual(doc);
        const lease = await ctx.db.saveLease(newLease(asset.assetId, { agreement: doc }));
        expect((await ctx.db.getLease(lease.leaseId))?.agreement, label).toEqual(doc);
        const event = await ctx.db.saveEvent(newEvent({ args: doc }));
        expect((await ctx.db.getEvent(event.transactionHash, event.logIndex))?.args, label).toEqual(doc);
      }
      expect((Object.prototype as Record<string, unknown>)['polluted']).toBeUndefined();
    });

    it('updates validate documents like saves do', async () => {
      const asset = await ctx.db.saveAsset(newAsset());
      const lease = await ctx.db.saveLease(newLease(asset.assetId));
      const before = await dumpStore(ctx.db);
      for (const [label, doc] of BAD_DOCUMENTS) {
        await expectStorageError(() => ctx.db.updateAsset(asset.assetId, { metadata: unchecked(doc) }), 'VALIDATION', 'metadata', label);
        await expectStorageError(() => ctx.db.updateLease(lease.leaseId, { agreement: unchecked(doc) }), 'VALIDATION', 'agreement', label);
      }
      expect(await dumpStore(ctx.db)).toEqual(before);
    });
  });
}
