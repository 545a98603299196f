/**
 * migrateData from a MockDatabase holding every kind of record (through a snapshot, and
 * directly) into every backend (memory, PostgreSQL, the embedded PGlite): verification, exact equality, idempotent
 * re-runs, refusal of damaged snapshots with nothing written, resumption after an interruption,
 * and differences reported when the target does not match.
 */
import { readFile, writeFile } from 'node:fs/promises';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { migrateData, type MigrationProgress } from '../../src/migration/migrate-data.js';
import { exportSnapshot } from '../../src/migration/snapshot-writer.js';
import { digestTable } from '../../src/migration/table-digest.js';
import type { MockDatabase } from '../../src/storage/backends/memory/mock-database.js';
import { TABLES } from '../../src/storage/contract/transfer.js';
import { MAX_AMOUNT, buildFullStore, dumpStore, isEmpty, summaries, type StoreDump } from './full-store.js';
import { BACKENDS, type OpenBackend } from '../support/backends.js';
import { quietLogger, tempDir } from './targets.js';

let source: MockDatabase;
let before: StoreDump;
let tmp: Awaited<ReturnType<typeof tempDir>>;
let snapshot: string;

beforeAll(async () => {
  source = await buildFullStore();
  before = await dumpStore(source);
  tmp = await tempDir();
  snapshot = tmp.file('store.jsonl');
  await exportSnapshot(source, snapshot);
});
afterAll(() => tmp?.remove());

describe.each(BACKENDS.map((b) => [b.name, b] as const))('migrateData into %s', (_name, backend) => {
  let target: OpenBackend;
  beforeAll(async () => {
    target = await backend.open({ logger: quietLogger() });
  });
  afterAll(() => target?.dispose());
  beforeEach(async () => {
    await target.db.clear();
  });

  it('the source holds every kind of record the test promises', () => {
    const amounts = before.x402_payments.map((p) => p.amountMinorUnits);
    expect(amounts).toContain(0n);
    expect(amounts).toContain(MAX_AMOUNT);
    expect(new Set(before.x402_payments.map((p) => p.mode))).toEqual(new Set(['second', 'batch-5s']));
    expect(new Set(before.events.map((e) => e.processed))).toEqual(new Set([true, false]));
    expect(before.x402_batches.some((b) => b.settlementTxHash !== undefined)).toBe(true);
    expect(before.x402_batches.some((b) => b.settlementTxHash === undefined && b.paymentCount > 0)).toBe(true);
    expect(before.x402_batches.some((b) => b.paymentCount === 0)).toBe(true);
    expect(JSON.stringify(before.assets)).toContain('😀👍🏽');
    expect(before.assets.length).toBeGreaterThanOrEqual(5);
  });

  it('migrates a snapshot: verified, equal record for record, and a second run adds nothing', async () => {
    const steps: MigrationProgress[] = [];
    const report = await migrateData(snapshot, target.db, { batchSize: 25, onProgress: (p) => steps.push(p) });
    expect(report.ok).toBe(true);
    for (const t of report.tables) {
      expect(t).toMatchObject({ ok: true, idsMatch: true, sourceCount: before[t.table].length, targetCount: before[t.table].length, inserted: before[t.table].length });
      expect(t.amountSumTarget).toBe(t.amountSumSource);
    }
    expect(report.tables.find((t) => t.table === 'x402_payments')?.amountSumTarget).toBe(before.x402_payments.reduce((s, p) => s + p.amountMinorUnits, 0n));
    expect(await dumpStore(target.db)).toEqual(before);
    const copySteps = steps.filter((s) => s.phase === 'copy' && s.table === 'x402_payments');
    expect(copySteps.length).toBe(Math.ceil(before.x402_payments.length / 25));
    expect(Math.max(...copySteps.map((s) => s.done))).toBe(before.x402_payments.length);
    expect(copySteps.every((s) => s.total === before.x402_payments.length)).toBe(true);

    const again = await migrateData(snapshot, target.db, { batchSize: 25 });
    expect(again.ok).toBe(true);
    expect(again.inserted).toBe(0);
    expect(await dumpStore(target.db)).toEqual(before);
  });

  it('migrates straight from the MockDatabase, and reconcile finds the ledger consistent', async () => {
    const report = await migrateData(source, target.db, { batchSize: 40, concurrency: 3 });
    expect(report.ok).toBe(true);
    expect(report.source).toBe('memory');
    expect(await dumpStore(target.db)).toEqual(before);
    expect((await target.db.reconcile()).differences).toEqual((await source.reconcile()).differences);
    expect((await migrateData(source, target.db)).inserted).toBe(0);
  });

  it('refuses a truncated or an edited snapshot with nothing written', async () => {
    const text = await readFile(snapshot, 'utf8');
    const truncated = tmp.file(`truncated-${target.name}.jsonl`);
    await writeFile(truncated, text.slice(0, Math.floor(text.length * 0.8)));
    await expect(migrateData(truncated, target.db)).rejects.toThrow(/truncated/);
    expect(await isEmpty(target.db)).toBe(true);
    const edited = tmp.file(`edited-${target.name}.jsonl`);
    await writeFile(edited, text.replace(/"amountMinorUnits":"1007"/, '"amountMinorUnits":"1008"'));
    expect(await readFile(edited, 'utf8')).not.toBe(text);
    await expect(migrateData(edited, target.db)).rejects.toThrow(/checksum/);
    expect(await isEmpty(target.db)).toBe(true);
  });

  // PostgreSQL loads an empty target in one transaction (loadEmpty); the other backends batch by batch.
  const bulk = backend.name === 'postgres';

  it('completes correctly when run again after being interrupted part way through the payments', async () => {
    const interrupt = (p: MigrationProgress) => {
      if (p.phase === 'copy' && p.table === 'x402_payments') throw new Error('interrupted');
    };
    await expect(migrateData(snapshot, target.db, { batchSize: 20, concurrency: 1, onProgress: interrupt })).rejects.toThrow('interrupted');
    const partial = await summaries(target.db);
    if (bulk) {
      // Nothing half-done is visible: the whole load rolled back.
      expect(await isEmpty(target.db)).toBe(true);
    } else {
      expect(partial.leases.count).toBe(before.leases.length);
      expect(partial.x402_payments.count).toBe(20);
      expect(partial.x402_batches.count).toBe(0);
    }

    const resumed = await migrateData(snapshot, target.db, { batchSize: 20 });
    expect(resumed.ok).toBe(true);
    expect(resumed.tables.find((t) => t.table === 'x402_payments')?.inserted).toBe(before.x402_payments.length - (bulk ? 0 : 20));
    expect(resumed.tables.find((t) => t.table === 'assets')?.inserted).toBe(bulk ? before.assets.length : 0);
    expect(await dumpStore(target.db)).toEqual(before);
  });

  it('into a target that already holds records, copies batch by batch and resumes after an interruption', async () => {
    // One asset of the source already there: the target is not empty, so no bulk load.
    expect(await target.db.importRecords('assets', [before.assets[0]!])).toBe(1);
    const interrupt = (p: MigrationProgress) => {
      if (p.phase === 'copy' && p.table === 'x402_payments') throw new Error('interrupted');
    };
    await expect(migrateData(snapshot, target.db, { batchSize: 20, concurrency: 1, onProgress: interrupt })).rejects.toThrow('interrupted');
    const partial = await summaries(target.db);
    expect(partial.leases.count).toBe(before.leases.length);
    expect(partial.x402_payments.count).toBe(20);
    const resumed = await migrateData(snapshot, target.db, { batchSize: 20 });
    expect(resumed.ok).toBe(true);
    expect(resumed.tables.find((t) => t.table === 'x402_payments')?.inserted).toBe(before.x402_payments.length - 20);
    expect(await dumpStore(target.db)).toEqual(before);
  });

  it('computes the same table digests in the store as the migration computes over the records', async () => {
    await migrateData(snapshot, target.db);
    for (const table of TABLES) {
      const inStore = await target.db.digestTable(table);
      const streamed = await digestTable(target.db, table);
      if (backend.name === 'memory') expect(inStore).toBeNull();
      else expect(inStore).toEqual(streamed);
    }
  });

  it('a load into an empty target whose verification fails commits nothing', async () => {
    const result = await target.db.loadEmpty(
      (async function* () {
        yield { table: 'assets' as const, records: before.assets };
      })(),
      async (digests) => {
        expect(digests.assets.count).toBe(before.assets.length);
        return false;
      },
    );
    if (bulk) expect(result?.committed).toBe(false);
    else expect(result).toBeNull();
    expect(await isEmpty(target.db)).toBe(true);
  });

  it('a load into a target that is not empty reads nothing and returns null', async () => {
    expect(await target.db.importRecords('assets', [before.assets[0]!])).toBe(1);
    let read = false;
    const result = await target.db.loadEmpty(
      (async function* () {
        read = true;
        yield { table: 'assets' as const, records: before.assets.slice(1) };
      })(),
      async () => true,
    );
    expect(result).toBeNull();
    expect(read).toBe(false);
    expect((await summaries(target.db)).assets.count).toBe(1);
  });

  it('reports a target that holds records the source does not have', async () => {
    await migrateData(snapshot, target.db);
    const stray = { ...before.assets[0]!, id: 'ffffffff-ffff-4fff-bfff-ffffffffffff', assetId: 'STRAY-ASSET' };
    expect(await target.db.importRecords('assets', [stray])).toBe(1);
    const report = await migrateData(snapshot, target.db);
    expect(report.ok).toBe(false);
    const assets = report.tables.find((t) => t.table === 'assets');
    expect(assets).toMatchObject({ ok: false, idsMatch: false, sourceCount: before.assets.length, targetCount: before.assets.length + 1, extraIds: [stray.id], missingIds: [] });
    expect(report.tables.filter((t) => t.table !== 'assets').every((t) => t.ok)).toBe(true);
  });

  it('merge: into a target holding other records, verifies that every source record is there and equal', async () => {
    const stray = { ...before.assets[0]!, id: 'ffffffff-ffff-4fff-bfff-ffffffffffff', assetId: 'STRAY-ASSET' };
    expect(await target.db.importRecords('assets', [stray])).toBe(1);
    const report = await migrateData(snapshot, target.db, { merge: true, batchSize: 25 });
    expect(report.ok).toBe(true);
    const assets = report.tables.find((t) => t.table === 'assets');
    expect(assets).toMatchObject({ ok: true, idsMatch: true, sourceCount: before.assets.length, targetCount: before.assets.length + 1, inserted: before.assets.length });
    for (const t of report.tables) expect(t.amountSumTarget).toBe(t.amountSumSource);
    // Without merge the same target is not equal to the source.
    expect((await migrateData(snapshot, target.db)).ok).toBe(false);
    // Run again: nothing inserted, still verified.
    const again = await migrateData(snapshot, target.db, { merge: true });
    expect(again).toMatchObject({ ok: true, inserted: 0 });
  });

  it('merge: a target record that differs from the source record with the same id is reported', async () => {
    const [first, ...rest] = before.assets as [StoreDump['assets'][number], ...StoreDump['assets']];
    const changed = { ...first, metadata: { ...first.metadata, name: 'changed' } };
    expect(await target.db.importRecords('assets', [changed])).toBe(1);
    const report = await migrateData(snapshot, target.db, { merge: true });
    expect(report.ok).toBe(false);
    const assets = report.tables.find((t) => t.table === 'assets');
    expect(assets).toMatchObject({ ok: false, idsMatch: true, inserted: rest.length, differingIds: [first.id] });
    expect(assets?.notes?.join()).toMatch(/differ/);
    expect(report.tables.filter((t) => t.table !== 'assets').every((t) => t.ok)).toBe(true);
  });

  it('a dry run from a database reads and validates the source and leaves the target alone', async () => {
    const report = await migrateData(source, target.db, { dryRun: true });
    expect(report).toMatchObject({ ok: true, dryRun: true, inserted: 0 });
    expect(report.tables.map((t) => t.sourceCount)).toEqual(TABLES.map((t) => before[t].length));
    expect(await isEmpty(target.db)).toBe(true);
  });
});
