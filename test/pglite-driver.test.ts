/**
 * PgliteDriver: row types like PgDriver, one connection shared safely, data directory ownership.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readLockOwner } from '../src/util/file-lock.js';
import { PgliteDriver } from '../src/storage/backends/pglite/driver.js';
import { PgliteDatabase } from '../src/storage/backends/pglite/pglite-database.js';
import { newAsset } from './conformance/fixtures.js';
import { pgliteDatabase, pgliteDriver } from './support/pglite-template.js';
import { mapDriverError } from '../src/storage/backends/sql/map-driver-error.js';

describe('PgliteDriver in memory', () => {
  const driver = new PgliteDriver();
  beforeAll(async () => {
    await driver.open();
    await driver.query(`CREATE EXTENSION IF NOT EXISTS "uuid-ossp";
      CREATE TABLE item (id UUID PRIMARY KEY DEFAULT uuid_generate_v4(), key TEXT UNIQUE, amount NUMERIC(20, 0),
        big BIGINT, at TIMESTAMPTZ, doc JSONB)`);
  });
  afterAll(() => driver.close());

  it('returns NUMERIC and INT8 as strings, TIMESTAMPTZ as Date, JSONB parsed, UUIDs from uuid-ossp', async () => {
    const { rows, rowCount } = await driver.query(
      'INSERT INTO item (key, amount, big, at, doc) VALUES ($1, $2, $3, $4, $5) RETURNING *',
      ['a', 99999999999999999999n, 42n, new Date('2024-05-06T07:00:00.123Z'), { list: [1, 'x'], n: null }],
    );
    expect(rowCount).toBe(1);
    expect(rows[0]).toMatchObject({ amount: '99999999999999999999', big: '42', at: new Date('2024-05-06T07:00:00.123Z'), doc: { list: [1, 'x'], n: null } });
    expect(rows[0]?.id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-/);
  });

  it('reports rowCount like pg and runs several statements when there are no parameters', async () => {
    expect((await driver.query('UPDATE item SET big = big + 1 WHERE key = $1', ['none'])).rowCount).toBe(0);
    expect(await driver.query('SELECT 1 AS a; SELECT 2 AS b')).toEqual({ rows: [{ b: 2 }], rowCount: 1 });
  });

  it('keeps a query issued during an open transaction out of it (queued until the transaction ends)', async () => {
    const order: string[] = [];
    const tx = driver.transaction(async (t) => {
      await t.query('INSERT INTO item (key) VALUES ($1)', ['uncommitted']);
      order.push('tx wrote');
      await sleep(50);
      expect(driver.poolStats()).toMatchObject({ total: 1, idle: 0, waiting: 1 });
      throw new Error('rollback');
    });
    await sleep(5);
    const outside = driver.query<{ n: number }>(`SELECT count(*)::int AS n FROM item WHERE key = 'uncommitted'`).then((r) => {
      order.push('outside read');
      return r.rows[0]?.n;
    });
    await expect(tx).rejects.toThrow('rollback');
    expect(await outside).toBe(0);
    expect(order).toEqual(['tx wrote', 'outside read']);
    expect(driver.poolStats()).toEqual({ total: 1, idle: 1, waiting: 0, max: 1 });
  });

  it('fails a transaction whose failed statement was swallowed, as PgDriver does', async () => {
    const aborted = driver.transaction(async (tx) => {
      await tx.query('INSERT INTO item (key) VALUES ($1)', ['aborted']);
      await tx.query('INSERT INTO item (key) VALUES ($1)', ['a']).catch(() => undefined);
    });
    expect(await aborted.catch((e: unknown) => mapDriverError(e))).toMatchObject({ code: 'INTERNAL' });
    expect((await driver.query(`SELECT count(*)::int AS n FROM item WHERE key = 'aborted'`)).rows).toEqual([{ n: 0 }]);
  });

  it('rejects using the driver itself inside a transaction instead of deadlocking', async () => {
    await expect(driver.transaction(() => driver.query('SELECT 1'))).rejects.toThrow(/use the executor/);
  });

  it('maps errors with the same codes as PostgreSQL', async () => {
    const error = await driver.query('INSERT INTO item (key) VALUES ($1)', ['a']).catch((e: unknown) => mapDriverError(e));
    expect(error).toMatchObject({ code: 'DUPLICATE', details: { constraint: 'item_key_key' } });
  });

  it('serializes migration locks in-process and times out with TIMEOUT', async () => {
    const events: string[] = [];
    const first = driver.withMigrationLock(1000, async () => {
      events.push('first in');
      await sleep(50);
      events.push('first out');
    });
    const second = driver.withMigrationLock(1000, async (session) => {
      events.push('second in');
      return (await session.query('SELECT 1 AS one')).rows;
    });
    await expect(driver.withMigrationLock(10, async () => 'never')).rejects.toMatchObject({ code: 'TIMEOUT', retryable: true });
    await first;
    expect(await second).toEqual([{ one: 1 }]);
    expect(events).toEqual(['first in', 'first out', 'second in']);
  });
});

describe('PgliteDriver from a copy of a data directory', () => {
  // The originals start from the suite's own copy (pglite-template.ts): the tests above start from nothing.
  it('starts an in-memory database from the copy, which then goes its own way', async () => {
    const original = await pgliteDriver();
    await original.open();
    await original.query(`CREATE TABLE kept (v TEXT); INSERT INTO kept VALUES ('before the copy')`);
    const copy = await original.dumpDataDir();
    await original.query(`INSERT INTO kept VALUES ('after the copy')`);
    const loaded = new PgliteDriver(undefined, { loadDataDir: copy });
    await loaded.open();
    expect((await loaded.query('SELECT v FROM kept')).rows).toEqual([{ v: 'before the copy' }]);
    await loaded.query(`INSERT INTO kept VALUES ('in the copy')`);
    expect((await original.query('SELECT v FROM kept ORDER BY v')).rows).toEqual([{ v: 'after the copy' }, { v: 'before the copy' }]);
    await Promise.all([original.close(), loaded.close()]);
  });

  it('refuses a copy for a data directory, and a dump before open', async () => {
    const copy = new Blob([]);
    expect(() => new PgliteDriver(join(tmpdir(), 'never-made'), { loadDataDir: copy })).toThrow(expect.objectContaining({ code: 'VALIDATION', field: 'loadDataDir' }));
    await expect(new PgliteDriver().dumpDataDir()).rejects.toMatchObject({ code: 'NOT_CONNECTED' });
  });

  it('gives a PgliteDatabase its records and schema: the store from the copy applies no migration', async () => {
    const source = await pgliteDatabase();
    await expect(source.dumpDataDir()).rejects.toMatchObject({ code: 'NOT_CONNECTED' });
    await source.connect();
    expect((await source.schema.up()).error).toBeUndefined();
    const asset = await source.saveAsset(newAsset());
    const copy = await source.dumpDataDir();
    await source.disconnect();
    const store = new PgliteDatabase(undefined, { loadDataDir: copy });
    await store.connect();
    const up = await store.schema.up();
    expect(up.error).toBeUndefined();
    expect(up.applied).toEqual([]);
    expect(await store.getAsset(asset.assetId)).toEqual(asset);
    await store.disconnect();
  });
});

describe('PgliteDriver on disk', () => {
  let root: string;
  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), 'pglite-'));
  });
  afterAll(() => rm(root, { recursive: true, force: true }));

  it('persists data in a created directory and refuses a second owner', async () => {
    const dir = join(root, 'nested', 'db');
    const first = new PgliteDriver(dir);
    await first.open();
    await first.query('CREATE TABLE kept (v TEXT); INSERT INTO kept VALUES (\'x\')');
    await expect(new PgliteDriver(dir).open()).rejects.toMatchObject({ code: 'CONFLICT' });
    await first.close();
    await first.close();
    expect(await readLockOwner(dir)).toMatchObject({ releasedAt: expect.any(String) });
    const again = new PgliteDriver(dir);
    await again.open();
    expect((await again.query('SELECT v FROM kept')).rows).toEqual([{ v: 'x' }]);
    await again.close();
  });
});
