/**
 * The data commands end to end, as child processes: export / import through the embedded store,
 * migrate-data killed part way and run again, JSON progress lines when not on a terminal, and
 * the exit codes (0 verified, 1 differences or a refused snapshot, 2 could not run).
 */
import { readFile, writeFile } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { exportSnapshot } from '../../src/migration/snapshot-writer.js';
import type { MockDatabase } from '../../src/storage/backends/memory/mock-database.js';
import { TABLES } from '../../src/storage/contract/transfer.js';
import { buildFullStore, dumpStore, isEmpty, summaries, type StoreDump } from './full-store.js';
import { openPostgres, type OpenBackend } from '../support/backends.js';
import { runCli, startCli } from '../support/cli.js';
import { quietLogger, tempDir } from './targets.js';

let source: MockDatabase;
let before: StoreDump;
let tmp: Awaited<ReturnType<typeof tempDir>>;
let snapshot: string;
let target: OpenBackend & { url: string };

beforeAll(async () => {
  // Enough payments (1,202) that a migration in batches of 10 runs long enough to be killed.
  source = await buildFullStore(400);
  before = await dumpStore(source);
  tmp = await tempDir();
  snapshot = tmp.file('store.jsonl');
  await exportSnapshot(source, snapshot);
  target = await openPostgres({ logger: quietLogger() });
});
afterAll(async () => {
  await target?.dispose();
  await tmp?.remove();
});

describe('migrate-data command', () => {
  it('killed part way, a second run completes the migration and verifies it (exit 0)', async () => {
    await target.db.clear();
    const run = startCli(['migrate-data', '--from', snapshot, '--to', target.url, '--batch-size', '10', '--concurrency', '1']);
    const seen: Record<string, unknown>[] = [];
    run.onLine((line) => {
      let event: Record<string, unknown>;
      try {
        event = JSON.parse(line) as Record<string, unknown>;
      } catch {
        return;
      }
      seen.push(event);
      if (event['phase'] === 'copy' && event['table'] === 'x402_payments' && Number(event['done']) >= 100) run.kill();
    });
    expect(await run.exit).toBeNull();
    // Into an empty PostgreSQL target the snapshot is read once, checked as it streams into the load.
    expect(seen.filter((e) => e['event'] === 'progress').map((e) => e['phase'])).not.toContain('verify-source');
    expect(seen.filter((e) => e['event'] === 'progress').map((e) => e['phase'])).toContain('copy');
    // The target was empty, so the whole load was one transaction: killed, it left nothing.
    expect(await isEmpty(target.db)).toBe(true);

    const again = await runCli(['migrate-data', '--from', snapshot, '--to', target.url, '--json']);
    expect(again.code, again.stderr).toBe(0);
    const report = JSON.parse(again.stdout) as { ok: boolean; inserted: number; tables: { table: string; inserted: number; amountSumTarget: string }[] };
    expect(report.ok).toBe(true);
    expect(report.inserted).toBe(TABLES.reduce((n, t) => n + before[t].length, 0));
    expect(await dumpStore(target.db)).toEqual(before);
  });

  it('killed part way into a target that already holds records, a second run adds what is missing', async () => {
    await target.db.clear();
    await target.db.importRecords('assets', [before.assets[0]!]);
    const run = startCli(['migrate-data', '--from', snapshot, '--to', target.url, '--batch-size', '10', '--concurrency', '1']);
    run.onLine((line) => {
      if (line.includes('"phase":"copy"') && line.includes('"table":"x402_payments"') && /"done":(\d{3,})/.test(line)) run.kill();
    });
    expect(await run.exit).toBeNull();
    const partial = await summaries(target.db);
    expect(partial.leases.count).toBe(before.leases.length);
    expect(partial.x402_payments.count).toBeGreaterThanOrEqual(100);
    expect(partial.x402_payments.count).toBeLessThan(before.x402_payments.length);

    const again = await runCli(['migrate-data', '--from', snapshot, '--to', target.url, '--json']);
    expect(again.code, again.stderr).toBe(0);
    const report = JSON.parse(again.stdout) as { ok: boolean; inserted: number };
    expect(report.ok).toBe(true);
    expect(report.inserted).toBe(before.x402_payments.length - partial.x402_payments.count + before.x402_batches.length);
    expect(await dumpStore(target.db)).toEqual(before);
  });

  it('exits 1 when verification finds a difference, and when the snapshot is refused', async () => {
    const stray = { ...before.leases[0]!, id: 'ffffffff-ffff-4fff-bfff-fffffffffff0', leaseId: 'STRAY-LEASE' };
    await target.db.importRecords('leases', [stray]);
    const differs = await runCli(['migrate-data', '--from', snapshot, '--to', target.url]);
    expect(differs.code).toBe(1);
    expect(differs.stdout).toMatch(/leases .* DIFFER .* FAIL/);
    expect(differs.stdout).toContain(`only in target, e.g. ${stray.id}`);
    expect(differs.stdout).toContain('DIFFERENCES FOUND');
    // With --merge the stray lease is the target's own business: the source's records are all there.
    const merged = await runCli(['migrate-data', '--from', snapshot, '--to', target.url, '--merge', '--json']);
    expect(merged.code, merged.stderr).toBe(0);
    expect(JSON.parse(merged.stdout)).toMatchObject({ ok: true, inserted: 0 });

    const text = await readFile(snapshot, 'utf8');
    const truncated = tmp.file('truncated.jsonl');
    await writeFile(truncated, text.slice(0, text.length - 100));
    const refused = await runCli(['migrate-data', '--from', truncated, '--dry-run']);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/snapshot refused, nothing written: .*truncated/);
  });

  it('exits 2 when it cannot run, without printing the password', async () => {
    const url = new URL(target.url);
    url.password = 'hunter2-secret';
    url.pathname = '/no_such_database_here';
    const failed = await runCli(['migrate-data', '--from', snapshot, '--to', url.toString()]);
    expect(failed.code).toBe(2);
    expect(failed.stderr).toMatch(/error:/);
    expect(failed.stderr).not.toContain('hunter2-secret');
  });
});

describe('export and import commands', () => {
  it('export from PostgreSQL, import into an embedded store, export again: the same records', async () => {
    const out = tmp.file('from-postgres.jsonl');
    const exported = await runCli(['export', '--database-url', target.url, '--out', out]);
    expect(exported.code, exported.stderr).toBe(0);
    expect(exported.stdout).toMatch(/^wrote \d+ records/);
    expect((await runCli(['export', '--database-url', target.url, '--out', out])).code).toBe(2);

    const dataDir = tmp.file('pglite');
    const notReady = await runCli(['import', '--in', out, '--data-dir', dataDir]);
    expect(notReady.code).toBe(1);
    expect(notReady.stderr).toContain('--apply-schema');
    const imported = await runCli(['import', '--in', out, '--data-dir', dataDir, '--apply-schema']);
    expect(imported.code, imported.stderr).toBe(0);
    expect(imported.stdout).toContain('VERIFIED');

    const back = tmp.file('from-pglite.jsonl');
    expect((await runCli(['export', '--data-dir', dataDir, '--out', back])).code).toBe(0);
    const records = async (file: string) => (await readFile(file, 'utf8')).trimEnd().split('\n').slice(1, -1).length;
    expect(await records(back)).toBe(await records(out));
    const dry = await runCli(['import', '--in', back, '--dry-run', '--json']);
    expect(dry.code).toBe(0);
    expect((JSON.parse(dry.stdout) as { tables: { sourceCount: number }[] }).tables.map((t) => t.sourceCount)).toEqual(
      await Promise.all(TABLES.map(async (t) => (await target.db.summarizeTable(t)).count)),
    );
    expect(await isEmpty(target.db)).toBe(false);
  });
});
