/**
 * Property-based bad input (fast-check): thousands of invalid calls of every `Database` method
 * that takes input, on the memory and PostgreSQL backends, and invalid requests to every HTTP
 * route. Each input is a valid one with one part broken: wrong types, huge strings, NaN,
 * negative and overflowing amounts, bad dates and hour buckets, numbers written as `0x10` or
 * `1e3`, SQL fragments, NUL and lone surrogates, `__proto__` and `constructor` keys in documents,
 * update objects and query strings.
 *
 * What must hold for every one: the store rejects it with a typed StorageError that is not
 * INTERNAL (a read may also answer "nothing found"); the API answers 4xx in the one error shape
 * (never a 500); and a dump of the store afterwards equals the dump before.
 */
import { isDeepStrictEqual } from 'node:util';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Database } from '../../src/storage/contract/database.js';
import { isStorageError } from '../../src/storage/contract/errors.js';
import { AUTH, activeLease, agreement, http, startApp, type Running } from '../api/support.js';
import { dumpStore, newAsset, newEvent, newLease, address, hash } from '../conformance/fixtures.js';
import { backend, type BackendName, type OpenBackend } from '../support/backends.js';

/** Inputs per property; the file tries DB_RUNS per backend plus HTTP_RUNS requests. */
const DB_RUNS = 3_000;
const HTTP_RUNS = Number(process.env['FC_HTTP_RUNS'] ?? 4_000);

// ---- broken values -------------------------------------------------------------------------

const SQL = ["'; DROP TABLE assets; --", "' OR '1'='1", '1; SELECT pg_sleep(5)', '$1', '\\', '%_%', "'); DELETE FROM x402_payments; --", '"; --'];
const NUMBER_TEXT = ['0x10', '1e3', '1E3', ' 1', '1 ', '+1', '1.5', '', 'NaN', 'Infinity', '0b1', '0o7', '1_000', '١٢', '0x', '-0x1'];
const NASTY_TEXT = ['A\u0000B', '\u0000', '\uD800', 'x\uDC00', '\uDBFF\uDBFF', 'x'.repeat(256), 'y'.repeat(5_000)];
const WRONG_TYPES: unknown[] = [null, undefined, true, false, 0, -1, 1.5, Number.NaN, Number.POSITIVE_INFINITY, 10n, [], [1], {}, { a: 1 }, new Date(Number.NaN), () => 1];

const wrongType = fc.constantFrom(...WRONG_TYPES);
const sql = fc.constantFrom(...SQL);
const nastyText = fc.constantFrom(...NASTY_TEXT);
const hugeText = fc.integer({ min: 300_000, max: 400_000 }).map((n) => 'z'.repeat(n));
const numberText = fc.constantFrom(...NUMBER_TEXT);

/** Not a record key (a non-empty string of at most 255 storable characters). */
const badKey = fc.oneof(wrongType, nastyText, fc.constant(''), fc.string({ minLength: 256, maxLength: 400 }));
/** A key that is well formed but names nothing, or a SQL fragment: reads find nothing. */
const strangeKey = fc.oneof(sql, fc.constantFrom('__proto__', 'constructor', 'toString', 'hasOwnProperty'));
const badAddress = fc.oneof(wrongType, sql, numberText, nastyText, fc.constantFrom(`0x${'a'.repeat(39)}`, `0x${'a'.repeat(41)}`, `0x${'g'.repeat(40)}`, 'a'.repeat(42), '__proto__'));
const badHash = fc.oneof(wrongType, sql, numberText, nastyText, fc.constantFrom(`0x${'a'.repeat(63)}`, `0x${'a'.repeat(65)}`, `0x${'z'.repeat(64)}`, '__proto__'));
const badInt = fc.oneof(
  fc.constantFrom<unknown>(Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, -1, 1.5, 2 ** 53, 1e300, -0.5, 10n, null, [], {}, true),
  numberText,
  fc.constantFrom('1', '10'),
);
const badAmount = fc.oneof(
  numberText,
  fc.constantFrom<unknown>('-1', '-1000', '100000000000000000000', '1'.padEnd(40, '0'), '99999999999999999999999999', 1000, 1e21, Number.NaN, null, [], {}, '1000\u0000'),
  fc.bigInt({ min: -(10n ** 30n), max: -1n }).map(String),
  fc.bigInt({ min: 10n ** 20n, max: 10n ** 40n }).map(String),
);
const badInstantText = fc.constantFrom(
  'not-a-date',
  '2026-13-01T00:00:00Z',
  '2026-02-30T00:00:00Z',
  '2026-02-25T25:00:00Z',
  '2026-02-25T12:00:00',
  '2026-02-25',
  '1e3',
  '0x10',
  'NaN',
  '',
  '+275760-09-13T00:00:01Z',
  "2026-02-25T12:00:00Z'; --",
  '2026-02-25T12:00:00Z\u0000',
);
const badTimestamp = fc.oneof(badInstantText, fc.constantFrom<unknown>(12345, Number.NaN, null, {}, [], new Date(Number.NaN)));
const badDate = fc.oneof(fc.constantFrom<unknown>(new Date(Number.NaN), '2026-02-25T12:00:00Z', 12345, Number.NaN, {}, []), badInstantText);
/** Not the canonical start of a UTC hour. */
const badBucket = fc.oneof(badInstantText, fc.constantFrom<unknown>('2026-02-25T12:30:00.000Z', '2026-02-25T12:00:00.001Z', '2026-02-25T12:00:00Z', 5, null, new Date(Number.NaN)));
const badMode = fc.oneof(wrongType, sql, fc.constantFrom('minute', 'SECOND', 'second ', '', 'batch-10s', '__proto__'));
const badStatus = fc.oneof(wrongType, sql, fc.constantFrom('ACTIVE', 'done', '', 'active ', '__proto__', 'constructor'));

/** A JSON-parsed object with an own `__proto__` key (what a request body can carry). */
const protoKeyed = (inner: string) => JSON.parse(`{"__proto__": ${inner}, "ok": 1}`) as Record<string, unknown>;

/** Not a storable document: not an object, unstorable text, or too large. */
const badDocument = fc.oneof(
  fc.constantFrom<unknown>('x', 1, null, [], [1, 2], true, Number.NaN),
  fc.constantFrom<unknown>(
    { note: 'A\u0000B' },
    { 'k\u0000': 1 },
    { '\uD800': 1 },
    { nested: { deep: ['\uDC00'] } },
    { n: Number.NaN },
    { n: Number.POSITIVE_INFINITY },
    { big: 10n },
    { when: new Date(0) },
    { f: () => 1 },
    { u: undefined },
    protoKeyed('{"polluted": "\\u0000"}'),
    { constructor: { prototype: { polluted: 'A\u0000' } } },
    JSON.parse('{"constructor": "\\ud800"}') as unknown,
  ),
  hugeText.map((text) => ({ text })),
);
/** Update objects naming a field that may not change, an unknown one, or a broken value. */
const badAssetUpdate = fc.oneof(
  fc.constantFrom<unknown>(null, [], 'x', 1, protoKeyed('{"chainId": 1}'), { constructor: 'x' }, { id: 'x' }, { assetId: 'NEW' }, { createdAt: new Date() }, { unknownField: 1 }, { toString: 'x' }),
  badInt.map((chainId) => ({ chainId })),
  badAddress.map((tokenAddress) => ({ tokenAddress })),
  badHash.map((metadataHash) => ({ metadataHash })),
  badDocument.map((metadata) => ({ metadata })),
);
const badLeaseUpdate = fc.oneof(
  fc.constantFrom<unknown>(null, [], 'x', protoKeyed('{"status": "completed"}'), { constructor: 'x' }, { id: 'x' }, { leaseId: 'NEW' }, { updatedAt: new Date() }, { unknownField: 1 }),
  badStatus.map((status) => ({ status })),
  badAddress.map((lessee) => ({ lessee })),
  badKey.map((assetId) => ({ assetId })),
  badDocument.map((agreement) => ({ agreement })),
  badInt.map((blockNumber) => ({ blockNumber })),
);
const badBatchUpdate = fc.oneof(
  fc.constantFrom<unknown>(null, [], 'x', protoKeyed('{"settlementTxHash": "x"}'), { constructor: 'x' }, { totalAmountMinorUnits: 5n }, { paymentCount: 9 }, { leaseId: 'x' }, { revenueRoundId: 5 }, { revenueRoundId: 'A\u0000' }),
  badHash.map((settlementTxHash) => ({ settlementTxHash })),
);
const badPage = fc.oneof(
  fc.constantFrom<unknown>('x', 5, [], protoKeyed('{"limit": 0}'), { constructor: 'x' }),
  badInt.map((limit) => ({ limit })),
  fc.constantFrom<unknown>({ limit: 0 }, { limit: 1_000_000 }, { limit: -5 }),
  fc.oneof(wrongType, nastyText, sql, fc.constantFrom('', 'not-a-cursor', '__proto__')).map((after) => ({ after })),
);
const badRange = fc.oneof(
  fc.constantFrom<unknown>(null, 'x', [], protoKeyed('{"from": 1}')),
  badDate.map((from) => ({ from, to: new Date() })),
  badDate.map((to) => ({ from: new Date(0), to })),
  fc.constant({ from: new Date('2026-03-01T00:00:00Z'), to: new Date('2026-02-01T00:00:00Z') }),
);

/**
 * A record with exactly one field replaced by `bad`, a required field left out, or the whole
 * record replaced. `optional` names the fields that may be left out of a valid record.
 */
function broken<T extends object>(valid: () => T, fields: Partial<Record<keyof T, fc.Arbitrary<unknown>>>, optional: readonly string[] = []): fc.Arbitrary<unknown> {
  const entries = Object.entries(fields) as [string, fc.Arbitrary<unknown>][];
  const required = entries.map(([name]) => name).filter((name) => !optional.includes(name));
  return fc.oneof(
    fc.oneof(wrongType, nastyText, fc.constant(protoKeyed('{}'))),
    // An optional field left undefined is simply absent, which is valid.
    ...entries.map(([name, bad]) => bad.filter((value) => value !== undefined || !optional.includes(name)).map((value) => ({ ...valid(), [name]: value }))),
    ...required.map((name) => fc.constant(name).map((missing) => Object.fromEntries(Object.entries(valid()).filter(([k]) => k !== missing)))),
  );
}

// ---- the store --------------------------------------------------------------------------------

/** Records the store already holds, so broken calls aim at real rows too. */
interface Seeded {
  assetId: string;
  leaseId: string;
  eventId: string;
  batchId: string;
}

/** One invalid call: its name, whether it writes, and its arguments. */
type Call = { method: string; write: boolean; args: unknown[] };

function calls(seeded: Seeded): fc.Arbitrary<Call> {
  const key = fc.oneof(badKey, strangeKey);
  const existingOr = (arb: fc.Arbitrary<unknown>) => fc.oneof(fc.constant(seeded.leaseId), arb);
  const call = (method: string, write: boolean, ...args: fc.Arbitrary<unknown>[]) => fc.tuple(...args).map((a): Call => ({ method, write, args: a }));
  const validPayment = (): Record<string, unknown> => ({ leaseId: seeded.leaseId, amount: '1000', timestamp: '2026-02-25T12:00:00.000Z', mode: 'second', payer: address(7), facilitatorTxHash: hash(0xfeed) });
  const validStoredPayment = () => ({
    leaseId: seeded.leaseId,
    mode: 'second',
    intervalSeconds: 1,
    amountMinorUnits: 1000n,
    payer: address(7),
    paymentTimestamp: new Date('2026-02-25T12:00:00.000Z'),
    facilitatorTxHash: hash(0xbeef),
  });
  const validBatch = () => ({ leaseId: seeded.leaseId, hourBucket: '2026-02-24T12:00:00.000Z' });
  return fc.oneof(
    call('saveAsset', true, broken(() => newAsset(), { assetId: badKey, chainId: badInt, contractAddress: badAddress, tokenAddress: badAddress, metadata: badDocument, metadataHash: badHash, blockNumber: badInt, transactionHash: badHash })),
    call('getAsset', false, key),
    call('getAssetByTokenAddress', false, badAddress),
    call('getAssetsPage', false, badPage),
    call('updateAsset', true, fc.oneof(fc.constant(seeded.assetId), badKey), badAssetUpdate),
    call('saveLease', true, broken(() => newLease(seeded.assetId), { leaseId: badKey, assetId: badKey, chainId: badInt, contractAddress: badAddress, lessor: badAddress, lessee: badAddress, agreement: badDocument, status: badStatus, blockNumber: badInt, transactionHash: badHash })),
    call('getLease', false, key),
    call('getLeasesByAsset', false, key),
    call('getLeasesByStatus', false, badStatus),
    call('getActiveLeasesForAsset', false, key),
    call('getLeasesByLessor', false, badAddress),
    call('getLeasesByLessee', false, badAddress),
    call('getLeasesPage', false, fc.oneof(fc.constantFrom<unknown>(null, 'x', protoKeyed('{"status": "active"}'), { constructor: 'x' }), badStatus.map((status) => ({ status })), badAddress.map((lessor) => ({ lessor })), badKey.map((assetId) => ({ assetId }))), fc.oneof(fc.constant(undefined), badPage)),
    call('updateLease', true, existingOr(badKey), badLeaseUpdate),
    call('transitionLeaseStatus', true, existingOr(badKey), badStatus, fc.constantFrom('completed', 'terminated')),
    call('transitionLeaseStatus', true, fc.constant(seeded.leaseId), fc.constant('active'), badStatus),
    call('saveEvent', true, broken(() => newEvent(), { eventName: fc.oneof(badKey, fc.constant('')), contractAddress: badAddress, blockNumber: badInt, transactionHash: badHash, logIndex: badInt, args: badDocument, processed: fc.constantFrom<unknown>('yes', 1, null) }, ['processed'])),
    call('getEvent', false, badHash, fc.oneof(badInt, fc.constant(0))),
    call('getUnprocessedEvents', false, badInt),
    call('markEventProcessed', true, fc.oneof(badKey, strangeKey, fc.constant('00000000-0000-0000-0000-000000000000'))),
    call('saveX402Payment', true, broken(validStoredPayment, { leaseId: badKey, mode: badMode, intervalSeconds: badInt, amountMinorUnits: fc.constantFrom<unknown>(-1n, 10n ** 20n, 10n ** 30n, '1000', 1000, Number.NaN, null), payer: badAddress, paymentTimestamp: badDate, facilitatorTxHash: badHash })),
    call('getPaymentByFacilitatorTxHash', false, badHash),
    call('getX402PaymentsByLease', false, key),
    call('getX402PaymentsByBucket', false, badBucket),
    call('saveX402Batch', true, broken(validBatch, { leaseId: badKey, hourBucket: badBucket })),
    call('getX402BatchesByLease', false, key),
    call('getOpenBatchForLease', false, existingOr(key), badBucket),
    call('getX402Batch', false, existingOr(key), badBucket),
    call('updateX402Batch', true, fc.oneof(fc.constant(seeded.batchId), badKey), badBatchUpdate),
    call('recordPayment', true, broken(validPayment, { leaseId: badKey, amount: badAmount, timestamp: badTimestamp, mode: badMode, payer: badAddress, facilitatorTxHash: badHash }, ['payer', 'facilitatorTxHash'])),
    call('recordPaymentWithOutcome', true, broken(validPayment, { leaseId: badKey, amount: badAmount, timestamp: badTimestamp, mode: badMode, payer: badAddress, facilitatorTxHash: badHash }, ['payer', 'facilitatorTxHash'])),
    call('getHourTotals', false, existingOr(key), badDate),
    call('getDailyRevenue', false, existingOr(key), badRange, fc.oneof(fc.constant(undefined), badPage)),
    call('getAssetRevenue', false, fc.oneof(fc.constant(seeded.assetId), key), badRange),
    call('getPaymentsPage', false, existingOr(key), badPage),
    call('getBatchesPage', false, existingOr(key), badPage),
    call('summarizeTable', false, fc.oneof(wrongType, sql, fc.constantFrom('schema_migrations', 'pg_class', '__proto__'))),
    call('importRecords', true, fc.constantFrom('assets', 'leases', 'events', 'x402_payments', 'x402_batches'), fc.oneof(fc.constantFrom<unknown>(null, 'x', [null], [{}], [protoKeyed('{}')]), badAssetUpdate.map((u) => [u]))),
  );
}

/** Codes a refused input may carry: never INTERNAL (that would be our defect). */
const INPUT_CODES = new Set(['VALIDATION', 'NOT_FOUND', 'CONFLICT', 'DUPLICATE', 'REFERENCE_NOT_FOUND']);

async function invoke(db: Database, call: Call): Promise<{ ok: true; value: unknown } | { ok: false; error: unknown }> {
  const method = (db as unknown as Record<string, (...args: unknown[]) => unknown>)[call.method];
  try {
    const result = method?.apply(db, call.args);
    // importRecords and exportRecords-like methods may return iterables; await what is a promise.
    return { ok: true, value: await result };
  } catch (error) {
    return { ok: false, error };
  }
}

const describeCall = (call: Call) =>
  `${call.method}(${call.args.map((a) => {
    try {
      return JSON.stringify(a, (_k, v: unknown) => (typeof v === 'bigint' ? `${v}n` : typeof v === 'string' && v.length > 80 ? `${v.slice(0, 40)}…(${v.length})` : v));
    } catch {
      return String(a);
    }
  })})`;

for (const name of ['memory', 'postgres'] as BackendName[]) {
  describe(`bad input to every Database method on ${name}`, { timeout: 180_000 }, () => {
    let handle: OpenBackend;
    let seeded: Seeded;

    beforeAll(async () => {
      handle = await backend(name).open();
      const db = handle.db;
      const asset = await db.saveAsset(newAsset());
      const lease = await db.saveLease(newLease(asset.assetId));
      const event = await db.saveEvent(newEvent());
      await db.recordPayment({ leaseId: lease.leaseId, amount: '1000', timestamp: '2026-02-25T12:00:00.000Z', mode: 'second' });
      const batch = (await db.getX402BatchesByLease(lease.leaseId))[0];
      seeded = { assetId: asset.assetId, leaseId: lease.leaseId, eventId: event.id, batchId: batch?.id ?? 'none' };
    });
    afterAll(async () => {
      await handle?.dispose();
    });

    it(`refuses ${DB_RUNS} invalid calls with typed errors and changes nothing`, async () => {
      const before = await dumpStore(handle.db);
      let refused = 0;
      await fc.assert(
        fc.asyncProperty(calls(seeded), async (call) => {
          const outcome = await invoke(handle.db, call);
          if (outcome.ok) {
            // Only a read may answer an invalid input, and only with "nothing": no write succeeds.
            if (call.write) throw new Error(`${describeCall(call)} was accepted`);
            return;
          }
          refused += 1;
          const { error } = outcome;
          if (!isStorageError(error)) throw new Error(`${describeCall(call)} threw a ${(error as Error)?.name ?? typeof error}: ${String((error as Error)?.message ?? error)}`);
          if (!INPUT_CODES.has(error.code)) throw new Error(`${describeCall(call)} failed with ${error.code}: ${error.message}`);
        }),
        { numRuns: DB_RUNS, seed: Number(process.env.FC_SEED ?? Date.now() % 2 ** 31), endOnFailure: true },
      );
      expect(refused).toBeGreaterThan(DB_RUNS / 2);
      expect(await dumpStore(handle.db)).toEqual(before);
      // Nothing leaked into Object.prototype through a `__proto__` or `constructor` key.
      expect(({} as Record<string, unknown>)['polluted']).toBeUndefined();
      console.log(`[reliability] ${JSON.stringify({ scenario: `bad-input-db-${name}`, inputs: DB_RUNS, refused, internalErrors: 0 })}`);
    });
  });
}

// ---- the HTTP API -----------------------------------------------------------------------------

function roundTrips(value: unknown): boolean {
  try {
    return isDeepStrictEqual(JSON.parse(JSON.stringify(value)) as unknown, value);
  } catch {
    return false;
  }
}

type Request = { method: string; path: string; body?: unknown; raw?: string; headers?: Record<string, string> };

const enc = (value: unknown) => encodeURIComponent(String(value));
/** Text a URL carries for a bad value; lone surrogates become the bytes of one (not UTF-8). */
const urlText = (value: string) => (/[\uD800-\uDFFF]/.test(value) ? '%ED%A0%80' : enc(value));

function requests(leaseId: string, assetId: string): fc.Arbitrary<Request> {
  const textValue = fc.oneof(sql, numberText, nastyText, fc.constantFrom('__proto__', 'constructor', 'null', 'undefined', '[]', '{}'));
  const badLimit = fc.oneof(numberText, fc.constantFrom('0', '-1', '100001', '99999999999999999999', '1.0', '10abc', 'ten', '%00'));
  const unknownParam = fc.constantFrom('__proto__', 'constructor', 'toString', 'prototype', 'unknown', '__proto__[limit]', 'limit[]', 'a.b');
  const badQuery = fc.oneof(
    badLimit.map((v) => `limit=${v === '%00' ? v : enc(v)}`),
    fc.tuple(unknownParam, textValue).map(([k, v]) => `${enc(k)}=${urlText(v)}`),
    fc.constant('limit=1&limit=2'),
    textValue.map((v) => `after=${urlText(v)}`),
  );
  const pathKey = fc.oneof(nastyText, sql, fc.string({ minLength: 256, maxLength: 300 })).map(urlText);
  const leaseOrBad = fc.oneof(fc.constant(leaseId), pathKey);
  const get = (path: fc.Arbitrary<string>, query: fc.Arbitrary<string>) => fc.tuple(path, query).map(([p, q]): Request => ({ method: 'GET', path: `${p}?${q}`, headers: AUTH }));

  const badInstantQuery = badInstantText.map(urlText);
  const validAsset = () => ({ assetId: 'SAT-FUZZ', chainId: 84532, contractAddress: address(1), tokenAddress: address(2), metadata: { name: 'x' }, metadataHash: hash(1), blockNumber: 1, transactionHash: hash(2) });
  const validLease = () => ({ leaseId: 'L-FUZZ', assetId, chainId: 84532, contractAddress: address(1), lessor: address(3), lessee: address(4), agreement: { terms: {} }, transactionHash: hash(3) });
  const validEvent = () => ({ eventName: 'LeaseCreated', contractAddress: address(1), blockNumber: 1, transactionHash: hash(9), logIndex: 0, args: {} });
  // A body must say what is sent: JSON turns NaN into null and drops undefined, which could make
  // a broken value a valid one, so only values JSON carries unchanged are used.
  const jsonOnly = (arb: fc.Arbitrary<Record<string, unknown>>) => arb.filter((v) => roundTrips(v));
  const badBody = (valid: () => Record<string, unknown>, fields: Record<string, fc.Arbitrary<unknown>>) =>
    fc.oneof(
      ...Object.entries(fields).map(([name, bad]) => jsonOnly(bad.map((value) => ({ ...valid(), [name]: value }))).map((body) => ({ body }))),
      fc.constantFrom(
        { raw: '{"__proto__": {"admin": true}, "assetId": 1}' },
        { raw: '{"constructor": {"prototype": {"x": 1}}}' },
        { raw: 'NaN' },
        { raw: '{"chainId": NaN}' },
        { raw: '{"a": 1e400}' },
        { raw: '{' },
        { raw: '' },
        { raw: 'null' },
        { raw: '[]' },
        { raw: '"\\ud800"' },
      ),
      fc.constant(valid()).map((v) => ({ body: { ...v, extra: 1 } })),
    );
  const withBody = (method: string, path: string, body: fc.Arbitrary<{ body?: unknown; raw?: string }>) => body.map((b): Request => ({ method, path, headers: AUTH, ...b }));

  return fc.oneof(
    get(fc.constant('/api/assets'), badQuery),
    get(pathKey.map((k) => `/api/assets/${k}`), fc.constant('')),
    get(pathKey.map((k) => `/api/assets/by-token/${k}`), fc.constant('')),
    get(fc.constant(`/api/assets/${assetId}/revenue`), fc.oneof(badInstantQuery.map((v) => `from=${v}`), badInstantQuery.map((v) => `to=${v}`), badQuery)),
    get(fc.constant('/api/leases'), fc.oneof(badQuery, textValue.map((v) => `status=${urlText(v)}`), textValue.map((v) => `lessor=${urlText(v)}`), nastyText.map((v) => `assetId=${urlText(v)}`))),
    get(pathKey.map((k) => `/api/leases/${k}`), fc.constant('')),
    get(leaseOrBad.map((k) => `/api/leases/${k}/payments`), badQuery),
    get(leaseOrBad.map((k) => `/api/leases/${k}/batches`), badQuery),
    get(leaseOrBad.map((k) => `/api/leases/${k}/hour-totals`), badInstantQuery.map((v) => `at=${v}`)),
    get(leaseOrBad.map((k) => `/api/leases/${k}/revenue/daily`), fc.oneof(badQuery, badInstantQuery.map((v) => `from=${v}`))),
    get(leaseOrBad.map((k) => `/api/leases/${k}/x402/requirements`), fc.oneof(badMode.filter((m) => typeof m === 'string').map((m) => `mode=${urlText(m as string)}`), badQuery)),
    get(fc.constant('/api/events/unprocessed'), badLimit.map((v) => `limit=${v === '%00' ? v : enc(v)}`)),
    get(fc.tuple(fc.oneof(fc.constant(hash(1)), pathKey), fc.oneof(badLimit.map(enc), fc.constant('0'))).map(([h, i]) => `/api/events/${h}/${i}`), fc.constant('')),
    get(fc.constantFrom('/health', '/ready', '/api/system/status', '/api/system/reconcile', '/metrics', '/api/events/backlog'), fc.tuple(unknownParam, textValue).map(([k, v]) => `${enc(k)}=${urlText(v)}`)),
    fc.tuple(fc.constantFrom('/api/admin/settlements/resolve', '/api/admin/pending/replay'), unknownParam).map(([p, k]): Request => ({ method: 'POST', path: `${p}?${enc(k)}=1`, headers: AUTH })),
    withBody('POST', '/api/assets', badBody(validAsset, { assetId: badKey, chainId: badInt, contractAddress: badAddress, tokenAddress: badAddress, metadata: badDocument, metadataHash: badHash, blockNumber: badInt, transactionHash: badHash })),
    withBody('POST', '/api/leases', badBody(validLease, { leaseId: badKey, assetId: badKey, chainId: badInt, lessor: badAddress, lessee: badAddress, agreement: badDocument, transactionHash: badHash })),
    withBody('POST', '/api/events', badBody(validEvent, { eventName: badKey, contractAddress: badAddress, blockNumber: badInt, transactionHash: badHash, logIndex: badInt, args: badDocument })),
    fc.tuple(leaseOrBad, badStatus.filter((s) => typeof s !== 'function' && typeof s !== 'bigint' && !(typeof s === 'number' && !Number.isFinite(s)))).map(([k, status]): Request => ({ method: 'PATCH', path: `/api/leases/${k}/status`, headers: AUTH, body: { status } })),
    fc.constant<Request>({ method: 'PATCH', path: `/api/leases/${leaseId}/status`, headers: AUTH, raw: '{"__proto__": {"status": "completed"}}' }),
    withBody('PUT', `/api/leases/${leaseId}/agreement`, badBody(() => ({ agreement: agreement(leaseId, assetId) }), { agreement: badDocument })),
    jsonOnly(fc.record({ agreement: badDocument })).chain((body) => pathKey.map((k): Request => ({ method: 'PUT', path: `/api/leases/${k}/agreement`, headers: AUTH, body }))),
    withBody('POST', '/api/admin/chain/acknowledge-reorg', badBody(() => ({ by: 'ops' }), { by: fc.oneof(textValue, badInt), note: fc.oneof(badInt, fc.string({ minLength: 2001, maxLength: 2100 })) })),
    fc.tuple(leaseOrBad, fc.oneof(textValue, fc.constantFrom('e30=', 'eyJ4NDAyVmVyc2lvbiI6MX0=', 'eyJfX3Byb3RvX18iOnt9fQ=='))).map(
      ([k, header]): Request => ({ method: 'POST', path: `/api/leases/${k}/access?mode=second`, headers: { 'x-payment': header.replace(/[^\x20-\x7e]/g, '?') } }),
    ),
  );
}

describe('bad input to every HTTP route', { timeout: 180_000 }, () => {
  let handle: OpenBackend;
  let server: Running;

  beforeAll(async () => {
    handle = await backend('postgres').open();
    server = await startApp({ db: handle.db });
    await activeLease(server.url, 'A-FUZZ', 'L-FUZZ-LIVE');
  });
  afterAll(async () => {
    await server?.close();
    await handle?.dispose();
  });

  it('is never answered 500 nor outside the one error shape, and changes nothing', async () => {
    const before = await dumpStore(handle.db);
    const statuses: Record<number, number> = {};
    await fc.assert(
      fc.asyncProperty(requests('L-FUZZ-LIVE', 'A-FUZZ'), async (request) => {
        const answer = await http(server.url, request.method, request.path, {
          ...(request.body === undefined ? {} : { body: request.body }),
          ...(request.raw === undefined ? {} : { raw: request.raw }),
          ...(request.headers === undefined ? {} : { headers: request.headers }),
        });
        statuses[answer.status] = (statuses[answer.status] ?? 0) + 1;
        const what = `${request.method} ${request.path.slice(0, 200)} ${JSON.stringify(request.body ?? request.raw ?? '').slice(0, 200)} → ${answer.status} ${JSON.stringify(answer.body).slice(0, 300)}`;
        if (answer.status < 400 || answer.status >= 500) throw new Error(`not a 4xx: ${what}`);
        // The access route's 402 is x402's own shape (with our code and details beside it).
        const shape = answer.status === 402 ? answer.body : answer.body?.error;
        if (typeof shape?.code !== 'string' || typeof (answer.status === 402 ? shape.error : shape.message) !== 'string' || typeof shape.details !== 'object' || shape.details === null) {
          throw new Error(`not the error shape: ${what}`);
        }
      }),
      { numRuns: HTTP_RUNS, seed: Number(process.env.FC_SEED ?? Date.now() % 2 ** 31), endOnFailure: true },
    );
    expect(await dumpStore(handle.db)).toEqual(before);
    expect(({} as Record<string, unknown>)['polluted']).toBeUndefined();
    expect(({} as Record<string, unknown>)['admin']).toBeUndefined();
    console.log(`[reliability] ${JSON.stringify({ scenario: 'bad-input-http', inputs: HTTP_RUNS, statuses, status500: statuses[500] ?? 0 })}`);
  });

  it('refuses integers that are not plain decimal in query strings and paths', async () => {
    for (const limit of ['0x10', '1e3', '1E3', '+5', '%205', '5%20', '1.0', '0b11', '0o7', '1_0', '00', '-0x1']) {
      const answer = await http(server.url, 'GET', `/api/assets?limit=${limit}`);
      expect(answer.status, limit).toBe(400);
      expect(answer.body.error).toMatchObject({ code: 'VALIDATION' });
    }
    expect((await http(server.url, 'GET', '/api/events/unprocessed?limit=0x10', { headers: AUTH })).status).toBe(400);
    expect((await http(server.url, 'GET', `/api/events/${hash(1)}/1e0`, { headers: AUTH })).status).toBe(400);
    expect((await http(server.url, 'GET', '/api/assets?limit=16')).status).toBe(200);
    expect((await http(server.url, 'GET', `/api/events/${hash(1)}/0`, { headers: AUTH })).status).toBe(404);
  });
});
