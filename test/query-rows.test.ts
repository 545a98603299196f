/**
 * queryRows: keyed reads go as named prepared statements (one name per text), everything else
 * unnamed; on PostgreSQL a prepared read returns the same records as before and is kept on its
 * connection.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PostgresDatabase } from '../src/storage/backends/postgres/postgres-database.js';
import type { SqlDriver } from '../src/storage/backends/sql/driver.js';
import { preparedName, queryRows } from '../src/storage/backends/sql/query-rows.js';
import { StorageError } from '../src/storage/contract/errors.js';
import { createTestDatabase, type TestDatabase } from './support/pg.js';

describe('preparedName', () => {
  it('names a keyed read, one name per text, and leaves other operations unnamed', () => {
    const a = preparedName('getLease', 'SELECT * FROM leases WHERE lease_id = $1 /* a */');
    const b = preparedName('getLease', 'SELECT * FROM leases WHERE lease_id = $1 /* b */');
    expect(a).toMatch(/^read_\d+$/);
    expect(b).toMatch(/^read_\d+$/);
    expect(b).not.toBe(a);
    expect(preparedName('getEvent', 'SELECT * FROM leases WHERE lease_id = $1 /* a */')).toBe(a);
    expect(preparedName('import leases', 'INSERT INTO leases SELECT * FROM unnest($1::text[])')).toBeUndefined();
    expect(preparedName('retention leases', "SELECT * FROM leases WHERE lease_id IN ('L-1')")).toBeUndefined();
  });
});

describe('queryRows on PostgreSQL', () => {
  let t: TestDatabase;
  let db: PostgresDatabase;
  let driver: SqlDriver;

  beforeAll(async () => {
    t = await createTestDatabase();
    const migrating = new PostgresDatabase(t.url);
    await migrating.connect();
    try {
      const result = await migrating.migrator().up();
      if (result.error) throw result.error;
    } finally {
      await migrating.disconnect();
    }
    // One connection, so the prepared statement and the catalog query meet on the same session.
    db = new PostgresDatabase(t.url, { pool: { max: 1 } });
    await db.connect();
    driver = (db as unknown as { driver: SqlDriver }).driver;
  }, 120_000);
  afterAll(async () => {
    await db?.disconnect();
    await t?.drop();
  });

  it('runs a keyed read as a prepared statement, with the same rows on every call', async () => {
    const text = 'SELECT $1::text AS k, 42::bigint AS n';
    const first = await queryRows(driver, 'getAsset', text, ['x']);
    const second = await queryRows(driver, 'getAsset', text, ['y']);
    expect(first).toEqual([{ k: 'x', n: '42' }]);
    expect(second).toEqual([{ k: 'y', n: '42' }]);
    const { rows } = await driver.query<{ name: string }>('SELECT name FROM pg_prepared_statements WHERE statement = $1', [text]);
    expect(rows.map((r) => r.name)).toEqual([preparedName('getAsset', text)]);
  });

  it('reads records through prepared statements as before', async () => {
    expect(await db.getLease('LEASE-none')).toBeNull();
    expect(await db.getUnprocessedEvents(100)).toEqual([]);
    expect(await db.getUnprocessedEvents(100)).toEqual([]);
  });

  it('maps a failing prepared read to a StorageError named after the operation', async () => {
    const error = await queryRows(driver, 'getLease', 'SELECT * FROM no_such_table WHERE id = $1', [1]).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(StorageError);
    expect(String((error as Error).message)).toContain('getLease');
  });
});
