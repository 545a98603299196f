/**
 * Backup then restore into a fresh database (plain, gzip and custom format) round-trips every
 * record with identical counts and sums; a non-empty target is refused unless forced; a damaged
 * backup restores nothing. Also once through the CLI, with the password kept off the command line.
 */
import { readFile, writeFile } from 'node:fs/promises';
import { gunzipSync, gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NotEmptyError, backupDatabase, listUserTables, restoreDatabase, type BackupFormat, type BackupResult } from '../../src/migration/backup.js';
import { connectionArgs } from '../../src/migration/pg-tools.js';
import { migrateData } from '../../src/migration/migrate-data.js';
import { PostgresDatabase } from '../../src/storage/backends/postgres/postgres-database.js';
import { createTestDatabase } from '../support/pg.js';
import { buildFullStore, dumpStore, summaries, type StoreDump } from './full-store.js';
import { openPostgres, type OpenBackend } from '../support/backends.js';
import { runCli } from '../support/cli.js';
import { quietLogger, tempDir } from './targets.js';

let source: OpenBackend & { url: string };
let before: StoreDump;
let tmp: Awaited<ReturnType<typeof tempDir>>;
const FORMATS: [BackupFormat, string][] = [
  ['plain', 'backup.sql'],
  ['gzip', 'backup.sql.gz'],
  ['custom', 'backup.dump'],
];
const backups = new Map<BackupFormat, BackupResult>();

beforeAll(async () => {
  source = await openPostgres({ logger: quietLogger() });
  const report = await migrateData(await buildFullStore(), source.db);
  if (!report.ok) throw new Error('seeding the source failed');
  before = await dumpStore(source.db);
  tmp = await tempDir();
  for (const [format, name] of FORMATS) backups.set(format, await backupDatabase({ databaseUrl: source.url }, tmp.file(name)));
});
afterAll(async () => {
  await source?.dispose();
  await tmp?.remove();
});

/** Runs `work` with a new, empty database and a connected PostgresDatabase on it. */
async function withFreshDatabase(work: (url: string, db: PostgresDatabase) => Promise<void>): Promise<void> {
  const created = await createTestDatabase();
  const db = new PostgresDatabase(created.url, { logger: quietLogger() });
  try {
    await work(created.url, db);
  } finally {
    await db.disconnect();
    await created.drop();
  }
}

describe.each(FORMATS)('%s backup', (format, name) => {
  it('restores into a fresh database with identical records, counts and sums', async () => {
    const path = tmp.file(name);
    const result = backups.get(format);
    expect(result).toMatchObject({ format, path });
    if (result === undefined) return;
    expect(result.bytes).toBeGreaterThan(1000);
    await withFreshDatabase(async (url, db) => {
      await restoreDatabase({ databaseUrl: url }, path);
      await db.connect();
      expect(await summaries(db)).toEqual(await summaries(source.db));
      expect(await dumpStore(db)).toEqual(before);
      // The migration history came along, so the restored database is current.
      expect((await db.migrator().status()).every((s) => s.state === 'applied')).toBe(true);
    });
  });

  it('refuses a database that has tables, and replaces them with force', async () => {
    const path = tmp.file(name);
    await withFreshDatabase(async (url, db) => {
      await db.connect();
      await db.migrator().up();
      await expect(restoreDatabase({ databaseUrl: url }, path)).rejects.toThrow(NotEmptyError);
      expect((await summaries(db)).assets.count).toBe(0);
      await restoreDatabase({ databaseUrl: url }, path, { force: true });
      expect(await summaries(db)).toEqual(await summaries(source.db));
    });
  });
});

describe('damaged backups restore nothing', () => {
  it.each([
    ['a truncated plain dump', 'cut.sql', async () => (await readFile(tmp.file('backup.sql'), 'utf8')).slice(0, 20_000)],
    ['a truncated gzip file', 'cut.sql.gz', async () => (await readFile(tmp.file('backup.sql.gz'))).subarray(0, 3_000)],
    ['a gzip of a truncated dump', 'short.sql.gz', async () => gzipSync(gunzipSync(await readFile(tmp.file('backup.sql.gz'))).subarray(0, 30_000))],
    ['a truncated custom dump', 'cut.dump', async () => (await readFile(tmp.file('backup.dump'))).subarray(0, 15_000)],
  ])('%s', async (_what, name, make) => {
    const path = tmp.file(name);
    await writeFile(path, await make());
    await withFreshDatabase(async (url) => {
      await expect(restoreDatabase({ databaseUrl: url }, path)).rejects.toThrow();
      expect(await listUserTables(url)).toEqual([]);
    });
  });
});

describe('backup and restore commands', () => {
  it('round-trip through the CLI; the password travels in PGPASSWORD, not in the arguments', async () => {
    const withPassword = new URL(source.url);
    withPassword.password = 'not-needed-with-trust';
    const { dbname, env } = connectionArgs(withPassword.toString());
    expect(dbname).not.toContain('not-needed-with-trust');
    expect(env['PGPASSWORD']).toBe('not-needed-with-trust');

    const path = tmp.file('cli.dump');
    const backup = await runCli(['backup', '--out', path], { DATABASE_URL: withPassword.toString() });
    expect(backup.code, backup.stderr).toBe(0);
    expect(backup.stdout).toMatch(/wrote custom backup/);
    await withFreshDatabase(async (url, db) => {
      const restored = await runCli(['restore', '--in', path, '--database-url', url]);
      expect(restored.code, restored.stderr).toBe(0);
      expect(restored.stdout).toMatch(/x402_payments\s+\d+ rows {2}amount sum \d+/);
      await db.connect();
      expect(await summaries(db)).toEqual(await summaries(source.db));
      const refused = await runCli(['restore', '--in', path, '--database-url', url]);
      expect(refused.code).toBe(1);
      expect(refused.stderr).toContain('not empty');
    });
  });
});
