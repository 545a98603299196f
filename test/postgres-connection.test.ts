/**
 * PgDriver and driver-error mapping against a real PostgreSQL server (pool settings from the
 * environment: postgres-pool-config.test.ts).
 */
import { createServer, type Socket } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { StorageError } from '../src/storage/contract/errors.js';
import { poolConfigFromEnv, type PoolEnv } from '../src/storage/backends/postgres/pool-config.js';
import { PgDriver } from '../src/storage/backends/postgres/driver.js';
import { mapDriverError, redactConnectionString } from '../src/storage/backends/sql/map-driver-error.js';
import { ADMIN_URL, createTestDatabase, type TestDatabase } from './support/pg.js';
import { recordingLogger } from './support/logger.js';

let db: TestDatabase;
const drivers: PgDriver[] = [];
beforeAll(async () => {
  db = await createTestDatabase();
});
afterAll(async () => {
  await Promise.all(drivers.map((d) => d.close()));
  await db.drop();
});

function driverFor(env: PoolEnv = { NODE_ENV: 'test' }, connectionString = db.url) {
  const log = recordingLogger();
  const driver = new PgDriver(poolConfigFromEnv(env, { connectionString }, log.logger), { logger: log.logger });
  drivers.push(driver);
  return { driver, entries: log.entries };
}

/** The StorageError a promise rejects with (fails the test if it resolves). */
async function failure(promise: Promise<unknown>): Promise<StorageError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(StorageError);
  return error as StorageError;
}

async function admin<T>(work: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: ADMIN_URL });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}

describe('connection failures', () => {
  it('maps a refused connection to a retryable CONNECTION error without the password', async () => {
    for (const url of ['postgres://postgres@127.0.0.1:1/x', 'postgres://u:secret@127.0.0.1:1/x']) {
      const error = await failure(driverFor({ NODE_ENV: 'test' }, url).driver.open());
      expect(error).toMatchObject({ code: 'CONNECTION', retryable: true });
      expect(`${error.message} ${JSON.stringify(error.details)} ${String(error.stack)}`).not.toContain('secret');
    }
  });

  it('maps a connect timeout to CONNECTION (a server that accepts but never answers)', async () => {
    const sockets: Socket[] = [];
    const server = createServer((socket) => sockets.push(socket));
    await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
    const { port } = server.address() as { port: number };
    try {
      const { driver } = driverFor({ NODE_ENV: 'test', PGPOOL_CONNECT_TIMEOUT_MS: '200' }, `postgres://u:secret@127.0.0.1:${port}/x`);
      const error = await failure(driver.open());
      expect(error).toMatchObject({ code: 'CONNECTION', retryable: true });
      expect(error.message).not.toContain('secret');
    } finally {
      for (const socket of sockets) socket.destroy();
      await new Promise((done) => server.close(done));
    }
  });

  it('maps a TLS failure to a non-retryable CONNECTION error (TLS required, server without TLS)', async () => {
    const { rows } = await admin((c) => c.query<{ ssl: string }>('SHOW ssl'));
    if (rows[0]?.ssl === 'on') return; // a TLS-enabled test server cannot show this failure
    const error = await failure(driverFor({ NODE_ENV: 'test', PGSSLMODE: 'require' }).driver.open());
    expect(error).toMatchObject({ code: 'CONNECTION', retryable: false });
  });

  it('redacts passwords from connection strings and messages', () => {
    expect(redactConnectionString('postgres://u:secret@h:5432/db?sslmode=require')).toBe('postgres://u:***@h:5432/db?sslmode=require');
    expect(redactConnectionString('postgresql://h/db?password=secret')).not.toContain('secret');
    expect(redactConnectionString('host=h password=secret dbname=x')).toBe('host=h password=*** dbname=x');
    const mapped = mapDriverError(new Error('failed for postgresql://admin:s3cr3t@db.internal/x'), 'open');
    expect(mapped.message).toBe('open: failed for postgresql://admin:***@db.internal/x');
  });
});

describe('pool settings on the server', () => {
  it('reaches the server: statement_timeout and application_name are session settings', async () => {
    const { driver } = driverFor({ NODE_ENV: 'test', PG_STATEMENT_TIMEOUT_MS: '1234', PG_APPLICATION_NAME: 'conn-test' });
    await driver.open();
    const { rows } = await driver.query(`SELECT current_setting('statement_timeout') AS st, current_setting('application_name') AS app,
      current_setting('idle_in_transaction_session_timeout') AS idle, current_setting('jit') AS jit`);
    expect(rows[0]).toEqual({ st: '1234ms', app: 'conn-test', idle: '1min', jit: 'off' });
    const on = driverFor({ NODE_ENV: 'test', PG_JIT: 'on' }).driver;
    await on.open();
    try {
      expect((await on.query(`SELECT current_setting('jit') AS jit`)).rows[0]).toEqual({ jit: 'on' });
    } finally {
      await on.close();
    }
  });
});

describe('PgDriver', () => {
  let driver: PgDriver;
  beforeAll(async () => {
    driver = driverFor().driver;
    await driver.open();
    await driver.query(`CREATE TABLE parent (key TEXT PRIMARY KEY);
      CREATE TABLE child (id SERIAL PRIMARY KEY, parent_key TEXT NOT NULL REFERENCES parent(key),
        amount NUMERIC(20, 0) NOT NULL CHECK (amount >= 0), big BIGINT, at TIMESTAMPTZ, doc JSONB, uid UUID)`);
    await driver.query('INSERT INTO parent (key) VALUES ($1)', ['p1']);
  });

  it('maps real PostgreSQL errors to storage codes', async () => {
    const run = (text: string, params: unknown[]) => driver.query(text, params).then(() => undefined, (e: unknown) => mapDriverError(e, 'test'));
    expect(await run('INSERT INTO parent (key) VALUES ($1)', ['p1'])).toMatchObject({ code: 'DUPLICATE', retryable: false, details: { constraint: 'parent_pkey' } });
    expect(await run('INSERT INTO child (parent_key, amount) VALUES ($1, $2)', ['nope', '1'])).toMatchObject({ code: 'REFERENCE_NOT_FOUND' });
    expect(await run('INSERT INTO child (parent_key, amount) VALUES ($1, $2)', ['p1', '-1'])).toMatchObject({ code: 'VALIDATION', details: { constraint: 'child_amount_check' } });
    expect(await run('INSERT INTO child (parent_key, amount, uid) VALUES ($1, $2, $3)', ['p1', '1', 'not-a-uuid'])).toMatchObject({ code: 'VALIDATION' });
    expect(await run('INSERT INTO child (parent_key, amount) VALUES ($1, $2)', ['p1', '1e30'])).toMatchObject({ code: 'VALIDATION' });
    const timeout = await driver
      .transaction(async (tx) => {
        await tx.query('SET LOCAL statement_timeout = 10');
        await tx.query('SELECT pg_sleep(1)');
      })
      .then(() => undefined, (e: unknown) => mapDriverError(e));
    expect(timeout).toMatchObject({ code: 'TIMEOUT', retryable: true, reason: 'statement_timeout', details: { driverCode: '57014', reason: 'statement_timeout' } });
  });

  it('maps the other classes and passes StorageErrors through', () => {
    const coded = (code: string, message = 'x') => Object.assign(new Error(message), { code });
    expect(mapDriverError(coded('40001'))).toMatchObject({ code: 'CONFLICT', retryable: true });
    expect(mapDriverError(coded('40P01'))).toMatchObject({ code: 'CONFLICT', retryable: true });
    expect(mapDriverError(coded('55P03'))).toMatchObject({ code: 'TIMEOUT', retryable: true, reason: 'lock_timeout', details: { reason: 'lock_timeout' } });
    expect(mapDriverError(coded('57014', 'canceling statement due to user request'))).toMatchObject({ code: 'TIMEOUT', reason: 'query_canceled' });
    expect(mapDriverError(coded('57P01'))).toMatchObject({ reason: undefined });
    for (const code of ['57P01', '08006', 'ECONNRESET', 'ENOTFOUND', 'EHOSTUNREACH', 'ETIMEDOUT']) {
      expect(mapDriverError(coded(code))).toMatchObject({ code: 'CONNECTION', retryable: true });
    }
    expect(mapDriverError(coded('28P01'))).toMatchObject({ code: 'CONNECTION', retryable: false });
    expect(mapDriverError(new Error('timeout exceeded when trying to connect'))).toMatchObject({ code: 'CONNECTION' });
    expect(mapDriverError(new Error('Connection terminated unexpectedly'))).toMatchObject({ code: 'CONNECTION' });
    const own = new StorageError('NOT_FOUND', 'gone');
    expect(mapDriverError(own)).toBe(own);
    expect(mapDriverError('weird')).toMatchObject({ code: 'INTERNAL', retryable: false });
  });

  it('returns NUMERIC and INT8 as strings, TIMESTAMPTZ as Date, JSONB parsed, even with a global parser set', async () => {
    pg.types.setTypeParser(20, (v: string) => Number(v));
    try {
      const { rows } = await driver.query(
        'INSERT INTO child (parent_key, amount, big, at, doc) VALUES ($1, $2, $3, $4, $5) RETURNING amount, big, at, doc',
        ['p1', 99999999999999999999n, 9007199254740993n, new Date('2024-05-06T07:00:00.000Z'), { a: [1, 'x'] }],
      );
      expect(rows[0]).toEqual({ amount: '99999999999999999999', big: '9007199254740993', at: new Date('2024-05-06T07:00:00.000Z'), doc: { a: [1, 'x'] } });
    } finally {
      pg.types.setTypeParser(20, (v: string) => v);
    }
  });

  it('commits, rolls back on throw, and keeps the original error when ROLLBACK fails', async () => {
    await driver.transaction((tx) => tx.query('INSERT INTO parent (key) VALUES ($1)', ['committed']));
    await expect(
      driver.transaction(async (tx) => {
        await tx.query('INSERT INTO parent (key) VALUES ($1)', ['rolled-back']);
        throw new Error('original');
      }),
    ).rejects.toThrow('original');
    // The connection dies mid-transaction, so ROLLBACK fails too; the caller still sees 'original'.
    await expect(
      driver.transaction(async (tx) => {
        const { rows } = await tx.query<{ pid: number }>('SELECT pg_backend_pid() AS pid');
        await admin((c) => c.query('SELECT pg_terminate_backend($1)', [rows[0]?.pid]));
        throw new Error('original');
      }),
    ).rejects.toThrow('original');
    // A failed statement whose error was swallowed aborts the transaction; COMMIT must not pass.
    const aborted = driver.transaction(async (tx) => {
      await tx.query('INSERT INTO parent (key) VALUES ($1)', ['aborted']);
      await tx.query('INSERT INTO parent (key) VALUES ($1)', ['p1']).catch(() => undefined);
    });
    await expect(aborted).rejects.toMatchObject({ code: 'INTERNAL', message: expect.stringContaining('rolled back') });
    const { rows } = await driver.query<{ key: string }>('SELECT key FROM parent ORDER BY key');
    expect(rows.map((r) => r.key)).toEqual(['committed', 'p1']);
    expect(driver.poolStats().waiting).toBe(0);
  });

  it('survives an idle connection being terminated, and keeps working', async () => {
    const { driver: victim, entries } = driverFor();
    const { rows } = await victim.query<{ pid: number }>('SELECT pg_backend_pid() AS pid');
    expect(victim.poolStats()).toMatchObject({ total: 1, idle: 1, waiting: 0 });
    await admin((c) => c.query('SELECT pg_terminate_backend($1)', [rows[0]?.pid]));
    for (let i = 0; i < 250 && !entries.some((e) => e.level === 'warn'); i += 1) await sleep(20);
    expect(entries.some((e) => e.level === 'warn')).toBe(true);
    expect((await victim.query('SELECT 1 AS one')).rows).toEqual([{ one: 1 }]);
  });

  it('serializes migration locks across pools and times out with TIMEOUT', async () => {
    const other = driverFor().driver;
    let release!: () => void;
    const held = new Promise<void>((done) => (release = done));
    let entered!: () => void;
    const inside = new Promise<void>((done) => (entered = done));
    const first = driver.withMigrationLock(1000, async () => {
      entered();
      await held;
    });
    await inside;
    expect(await failure(other.withMigrationLock(150, async () => 'never'))).toMatchObject({ code: 'TIMEOUT', retryable: true });
    const second = other.withMigrationLock(5000, async () => 'acquired');
    release();
    await first;
    expect(await second).toBe('acquired');
    // Only this file's database: other test files take the same advisory lock in theirs meanwhile.
    const { rows } = await driver.query(
      `SELECT count(*)::int AS n FROM pg_locks WHERE locktype = 'advisory' AND database = (SELECT oid FROM pg_database WHERE datname = current_database())`,
    );
    expect(rows[0]).toEqual({ n: 0 });
  });

  it('logs pool stats until stopped, and closes idempotently', async () => {
    const { driver: watched, entries } = driverFor();
    const stop = watched.startStatsLogging(10);
    await sleep(60);
    stop();
    const count = entries.length;
    expect(entries[0]).toMatchObject({ level: 'info', obj: { pool: { total: 0, idle: 0, waiting: 0 } } });
    await sleep(30);
    expect(entries).toHaveLength(count);
    await watched.close();
    await watched.close();
  });
});
