/**
 * The cold claims' filter (migration 014) on PostgreSQL and PGlite: the service computes the word
 * and bits the database computes; the move puts every claim it makes cold in the filter, rebuilding
 * it larger when it fills, under a new version each time; the service's copy loads it; a payment
 * statement told an older version probes every hash, so a stale copy never lets a replay through;
 * an oversized filter is not used; one process moves claims at a time; clear() empties the filter;
 * and the migration builds the first filter from the cold claims a store already has.
 */
import { randomBytes } from 'node:crypto';
import { copyFile, mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPgDriver } from '../src/storage/backends/postgres/postgres-database.js';
import { claimFilterKey, ColdClaimFilter } from '../src/storage/backends/sql/cold-claim-filter.js';
import type { SqlDriver } from '../src/storage/backends/sql/driver.js';
import { ensurePaymentPartitions, utcDay } from '../src/storage/backends/sql/partitions.js';
import { recordPaymentsStatement } from '../src/storage/backends/sql/payment-statements.js';
import { COLD_CLAIMS, HOT_CLAIMS, moveClaimsToCold } from '../src/storage/backends/sql/settlement-hashes.js';
import { SqlDatabase } from '../src/storage/backends/sql/sql-database.js';
import { isStorageError } from '../src/storage/contract/errors.js';
import { validateRecordPayment } from '../src/storage/core/validate.js';
import { storeConfigFromEnv } from '../src/storage/create-database.js';
import { openSqlStore, type OpenSqlStore } from './support/backends.js';
import { createTestDatabase } from './support/pg.js';
import { count, fileDays, lease, pay } from './support/payment-days.js';

const clock = fileDays(60_000);
const { at } = clock;

const randomHash = () => `0x${randomBytes(32).toString('hex')}`;

interface FilterState {
  version: string;
  words: number;
  claims: number;
}

async function state(driver: SqlDriver): Promise<FilterState> {
  const { rows } = await driver.query<{ version: string; words: string; claims: string }>('SELECT version::text, words::text, claims::text FROM x402_claim_filter_state');
  const row = rows[0];
  if (!row) throw new Error('no filter state');
  return { version: row.version, words: Number(row.words), claims: Number(row.claims) };
}

/** `n` claims, hot, of payments at `when` (the move cares for nothing else); returns their hashes. */
async function hotClaims(driver: SqlDriver, leaseId: string, n: number, when: Date): Promise<string[]> {
  const hashes = Array.from({ length: n }, randomHash);
  await driver.query(`INSERT INTO ${HOT_CLAIMS} (facilitator_tx_hash, lease_id, payment_id, payment_timestamp) SELECT h, $2, gen_random_uuid(), $3 FROM unnest($1::text[]) h`, [
    hashes,
    leaseId,
    when,
  ]);
  return hashes;
}

describe.each<'postgres' | 'pglite'>(['postgres', 'pglite'])('the cold claims filter on %s', (kind) => {
  let b: OpenSqlStore;
  let leaseId: string;
  beforeAll(async () => {
    b = await openSqlStore(kind);
    leaseId = await lease(b.db);
  }, 120_000);
  afterAll(async () => b?.dispose());

  it('the service computes the word and bits of a hash as the database does', async () => {
    const hashes = [...Array.from({ length: 500 }, randomHash), `0x${'F'.repeat(64)}`, `0x${'0'.repeat(64)}`, `0xAbCdEf01${'9'.repeat(56)}`];
    for (const words of [256, 768, 9_650_176]) {
      const { rows } = await b.driver.query<{ h: string; word: string; mask: number; covers: boolean }>(
        'SELECT h, x402_claim_filter_word(h, $2)::text AS word, x402_claim_filter_mask(h) AS mask, x402_claim_filter_covers(h) AS covers FROM unnest($1::text[]) h',
        [hashes, words],
      );
      expect(rows).toHaveLength(hashes.length);
      for (const row of rows) {
        expect(row.covers).toBe(true);
        expect(claimFilterKey(row.h, words)).toEqual({ word: Number(row.word), mask: row.mask });
      }
    }
    // A hash whose 16 digits after 0x are not hex is never left out by the service (it always probes).
    for (const odd of [`0xzz${'0'.repeat(62)}`, '0x12', 'not-a-hash']) {
      expect(claimFilterKey(odd, 256)).toBeNull();
      const { rows } = await b.driver.query<{ covers: boolean }>('SELECT x402_claim_filter_covers($1) AS covers', [odd]);
      expect(rows[0]?.covers).toBe(false);
    }
  });

  it('holds every claim the move made cold, rebuilt larger once past 8 bits a claim, then changed in place, a new version each time', async () => {
    const start = await state(b.driver);
    expect(start).toMatchObject({ words: 256, claims: 0 });
    const filter = new ColdClaimFilter(b.driver);
    await filter.refresh();
    expect(filter.view().version).toBe(start.version);

    // 1,500 claims do not fit 256 words at 8 bits each: the move rebuilds at 16 bits a claim.
    const first = await hotClaims(b.driver, leaseId, 1_500, at(3));
    expect((await moveClaimsToCold(b.driver, at(1))).moved).toBe(1_500);
    const rebuilt = await state(b.driver);
    expect(rebuilt).toMatchObject({ words: 768, claims: 1_500 });
    expect(rebuilt.version).not.toBe(start.version);
    expect(await count(b.driver, 'SELECT COUNT(*) AS n FROM x402_claim_filter_chunks')).toBe(3);
    await filter.refresh();
    let view = filter.view();
    expect(view.version).toBe(rebuilt.version);
    expect(first.filter((h) => !view.mayHold(h))).toEqual([]);
    const others = Array.from({ length: 20_000 }, randomHash);
    const falsePositives = others.filter((h) => view.mayHold(h)).length;
    expect(falsePositives / others.length).toBeLessThan(0.05);

    // 100 more fit: the same size, a new version, which the copy loads.
    const second = await hotClaims(b.driver, leaseId, 100, at(2));
    expect((await moveClaimsToCold(b.driver, at(1))).moved).toBe(100);
    const added = await state(b.driver);
    expect(added).toMatchObject({ words: 768, claims: 1_600 });
    expect(added.version).not.toBe(rebuilt.version);
    await filter.refresh();
    view = filter.view();
    expect(view.version).toBe(added.version);
    expect([...first, ...second].filter((h) => !view.mayHold(h))).toEqual([]);
    // A move with nothing to move leaves the filter as it is.
    expect((await moveClaimsToCold(b.driver, at(1))).moved).toBe(0);
    expect(await state(b.driver)).toEqual(added);
    await filter.close();
  });

  it('a payment statement told an older version probes every hash; told the current one, probes what the filter may hold', async () => {
    await ensurePaymentPartitions(b.driver, [utcDay(at(4))]);
    const original = await b.db.recordPayment(pay(leaseId, at(4, 1)));
    const before = await state(b.driver);
    await moveClaimsToCold(b.driver, at(1));
    expect(await count(b.driver, `SELECT COUNT(*) AS n FROM ${COLD_CLAIMS} WHERE facilitator_tx_hash = $1`, [original.facilitatorTxHash])).toBe(1);
    const run = (hash: string, view: { version: string; mayHold: (h: string) => boolean }) => {
      const statement = recordPaymentsStatement([{ input: validateRecordPayment(pay(leaseId, at(0, 0, 1), '1000', hash)), hash }], view);
      return b.driver.query<{ facilitator_tx_hash: string }>(statement.text, statement.values);
    };
    const copies = () => count(b.driver, 'SELECT COUNT(*) AS n FROM x402_payments WHERE facilitator_tx_hash = $1', [original.facilitatorTxHash]);

    // A copy from before the move, which truly did not hold the hash: the version differs, so the
    // statement probes the cold table and skips the replay.
    expect((await run(original.facilitatorTxHash, { version: before.version, mayHold: () => false })).rows).toEqual([]);
    // No copy loaded at all (version -1): the same.
    expect((await run(original.facilitatorTxHash, { version: '-1', mayHold: () => false })).rows).toEqual([]);
    // The current copy holds it, so the statement probes and skips it.
    const filter = new ColdClaimFilter(b.driver);
    await filter.refresh();
    const current = filter.view();
    expect(current.version).toBe((await state(b.driver)).version);
    expect(current.mayHold(original.facilitatorTxHash)).toBe(true);
    expect((await run(original.facilitatorTxHash, current)).rows).toEqual([]);
    expect(await copies()).toBe(1);
    // What the version check guards against: told the current version and, falsely, that the
    // filter does not hold the hash, the statement would not probe and would record it again.
    // (Rolled back: a transaction that is never committed.)
    await expect(
      b.driver.transaction(async (tx) => {
        const statement = recordPaymentsStatement([{ input: validateRecordPayment(pay(leaseId, at(0, 0, 2), '1000', original.facilitatorTxHash)), hash: original.facilitatorTxHash }], {
          version: current.version,
          mayHold: () => false,
        });
        const { rows } = await tx.query(statement.text, statement.values);
        expect(rows).toHaveLength(1);
        throw new Error('rolled back');
      }),
    ).rejects.toThrow('rolled back');
    expect(await copies()).toBe(1);
    // A new hash the filter does not hold is written without a probe.
    let fresh = randomHash();
    while (current.mayHold(fresh)) fresh = randomHash();
    expect((await run(fresh, current)).rows.map((r) => r.facilitator_tx_hash)).toEqual([fresh]);
    await filter.close();
  });

  it('the statement never runs the cold probe for hashes the current filter does not hold, and runs it otherwise', async () => {
    const current = (await state(b.driver)).version;
    const hashes = [randomHash(), randomHash(), randomHash()];
    /** Loops of the cold claims' scan in the executed plan (rolled back), and the rows inserted. */
    const probes = async (view: { version: string; mayHold: (h: string) => boolean }) => {
      let result: { loops: number; inserted: number } | undefined;
      await expect(
        b.driver.transaction(async (tx) => {
          const statement = recordPaymentsStatement(
            hashes.map((hash, i) => ({ input: validateRecordPayment(pay(leaseId, at(0, 0, 10 + i), '1000', hash)), hash })),
            view,
          );
          const { rows } = await tx.query<{ 'QUERY PLAN': unknown }>(`EXPLAIN (ANALYZE, FORMAT JSON) ${statement.text}`, statement.values);
          const plan = JSON.stringify(rows[0]?.['QUERY PLAN']);
          const cold = [...plan.matchAll(/"Relation Name":"x402_settlement_hashes_cold"[^}]*?"Actual Loops":(\d+)/g)].map((m) => Number(m[1]));
          expect(cold, plan).toHaveLength(1);
          const inserted = [...plan.matchAll(/"Relation Name":"x402_payments"[^}]*?"Actual Rows":(\d+)/g)].map((m) => Number(m[1]));
          result = { loops: cold[0] as number, inserted: inserted[0] ?? -1 };
          throw new Error('rolled back');
        }),
      ).rejects.toThrow('rolled back');
      return result;
    };
    // (With a cold table this small the planner may read it once into a hash instead of probing
    // its key per hash, so "ran" is at least one loop.)
    expect(await probes({ version: current, mayHold: () => false })).toEqual({ loops: 0, inserted: 3 });
    expect(await probes({ version: '-1', mayHold: () => false })).toMatchObject({ loops: expect.toSatisfy((n: number) => n >= 1), inserted: 3 });
    expect(await probes({ version: current, mayHold: (h) => h === hashes[1] })).toMatchObject({ loops: expect.toSatisfy((n: number) => n >= 1), inserted: 3 });
  });

  it('a filter larger than the memory allowed is not used', async () => {
    const filter = new ColdClaimFilter(b.driver, { maxBytes: 100 });
    await filter.refresh();
    const view = filter.view();
    expect(view.version).toBe('-1');
    expect(view.mayHold(randomHash())).toBe(true);
    await filter.close();
  });

  it('one process moves claims at a time', async () => {
    const leadership = await b.driver.tryLeadership('claims-move');
    expect(leadership).not.toBeNull();
    try {
      await expect(moveClaimsToCold(b.driver, at(1))).rejects.toSatisfy((e) => isStorageError(e, 'CONFLICT'));
    } finally {
      await leadership?.release();
    }
    await expect(moveClaimsToCold(b.driver, at(1))).resolves.toMatchObject({ moved: 0 });
  });

  it('clear() leaves an empty filter of the smallest size', async () => {
    const before = await state(b.driver);
    expect(before.claims).toBeGreaterThan(0);
    await b.db.clear();
    const after = await state(b.driver);
    expect(after).toMatchObject({ words: 256, claims: 0 });
    expect(after.version).not.toBe(before.version);
    expect(await count(b.driver, 'SELECT COUNT(*) AS n FROM x402_claim_filter_chunks WHERE words <> array_fill(0, ARRAY[256])')).toBe(0);
  });
});

describe('COLD_CLAIM_FILTER_MAX_MB', () => {
  it('sets the memory the service copy may take, and a bad value is refused by name', () => {
    expect(storeConfigFromEnv({}).sql).toBeUndefined();
    expect(storeConfigFromEnv({ COLD_CLAIM_FILTER_MAX_MB: '64' }).sql).toEqual({ payments: { coldClaimFilter: { maxBytes: 64 * 1024 * 1024 } } });
    expect(storeConfigFromEnv({ COLD_CLAIM_FILTER_MAX_MB: '0' }).sql).toEqual({ payments: { coldClaimFilter: { maxBytes: 0 } } });
    for (const bad of ['-1', '1.5', 'lots', '2000000']) {
      expect(() => storeConfigFromEnv({ COLD_CLAIM_FILTER_MAX_MB: bad })).toThrow(expect.objectContaining({ code: 'VALIDATION', message: expect.stringContaining('COLD_CLAIM_FILTER_MAX_MB') }));
    }
  });
});

describe('migration 014 on a store that already has cold claims (PostgreSQL)', () => {
  it('builds the first filter from them, past the pool statement timeout, and it holds every one', async () => {
    const t = await createTestDatabase();
    const before = await mkdtemp(join(tmpdir(), 'migrations-013-'));
    const olderDriver = createPgDriver(t.url);
    const older = new SqlDatabase(olderDriver);
    // The pool that applies 014: its statements may run 500 ms, and the first filter's read of
    // 1,000,000 claims takes several times that.
    const driver = createPgDriver(t.url, { env: { PG_STATEMENT_TIMEOUT_MS: '500' } });
    const db = new SqlDatabase(driver);
    try {
      const all = join(import.meta.dirname, '..', 'migrations');
      for (const file of await readdir(all)) if (/^\d{3}_.*\.sql$/.test(file) && Number(file.slice(0, 3)) < 14) await copyFile(join(all, file), join(before, file));
      await older.connect();
      expect((await older.migrator({ dir: before }).up()).error).toBeUndefined();
      await olderDriver.query(
        `INSERT INTO ${COLD_CLAIMS} SELECT '0x' || md5(n::text) || md5('c' || n), 'OLD', gen_random_uuid(), now() - interval '30 days' FROM generate_series(1, 1000000) AS n`,
      );
      await db.connect();
      expect((await db.migrator().up()).error).toBeUndefined();
      // What it built, read through the pool without the short timeout.
      expect(await state(olderDriver)).toMatchObject({ words: Math.ceil(1_000_000 / 2 / 256) * 256, claims: 1_000_000 });
      const filter = new ColdClaimFilter(olderDriver);
      await filter.refresh();
      const view = filter.view();
      expect(view.version).toBe((await state(olderDriver)).version);
      const { rows } = await olderDriver.query<{ h: string }>(`SELECT facilitator_tx_hash AS h FROM ${COLD_CLAIMS} ORDER BY random() LIMIT 5000`);
      expect(rows).toHaveLength(5000);
      expect(rows.filter((r) => !view.mayHold(r.h))).toEqual([]);
      await filter.close();
    } finally {
      await older.disconnect();
      await db.disconnect();
      await t.drop();
      await rm(before, { recursive: true, force: true });
    }
  }, 120_000);
});
