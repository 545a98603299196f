/**
 * A slow or locked database makes the payment path fail fast with a typed, retryable error that
 * names the real cause, never "cannot connect":
 *
 * - a table lock held past `lock_timeout`: 503 TIMEOUT `lock_timeout` with Retry-After, while the
 *   lock is still held (the request does not wait for it);
 * - every pooled connection busy past the pool wait: 503 TIMEOUT `pool_exhausted`;
 * - a statement running past `statement_timeout` (a runaway query): stopped by the server, 504
 *   TIMEOUT `statement_timeout`;
 * - an unreachable server stays CONNECTION.
 *
 * Nothing is lost: each refused payment succeeds when resent, a settled payment whose record was
 * locked out is kept pending and replayed, and the ledger holds each payment once.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import pg from 'pg';
import { paymentHeader } from '../../src/api/x402/client.js';
import type { PaymentRequirements } from '../../src/api/x402/types.js';
import { createPgDriver, PostgresDatabase } from '../../src/storage/backends/postgres/postgres-database.js';
import { isStorageError } from '../../src/storage/contract/errors.js';
import { mapDriverError } from '../../src/storage/backends/sql/map-driver-error.js';
import { AUTH, activeLease, http, startApp, type Answer, type Running } from '../api/support.js';
import { openPostgres, type OpenBackend } from '../support/backends.js';
import { freePort } from '../support/free-port.js';

describe('a slow or locked database', { timeout: 120_000 }, () => {
  let store: OpenBackend & { url: string };
  const opened: Array<{ server: Running; db: PostgresDatabase }> = [];

  beforeAll(async () => {
    store = await openPostgres();
  });
  afterAll(async () => {
    for (const { server, db } of opened) {
      await server.close();
      await db.disconnect();
    }
    await store?.dispose();
  });

  /** An app on the test database whose pool is configured by `env` (the variables a deployment sets). */
  async function appWith(env: Record<string, string>): Promise<{ base: string; db: PostgresDatabase }> {
    const db = new PostgresDatabase(store.url, { env });
    await db.connect();
    const server = await startApp({ db });
    opened.push({ server, db });
    return { base: server.url, db };
  }

  /** A session holding `table` in ACCESS EXCLUSIVE mode until `release()`. */
  async function lockTable(table: string): Promise<{ release(): Promise<void> }> {
    const client = new pg.Client({ connectionString: store.url });
    client.on('error', () => undefined);
    await client.connect();
    await client.query('BEGIN');
    await client.query(`LOCK TABLE ${table} IN ACCESS EXCLUSIVE MODE`);
    return {
      release: async () => {
        await client.query('ROLLBACK');
        await client.end();
      },
    };
  }

  async function quote(base: string, leaseId: string): Promise<PaymentRequirements> {
    const answer = await http(base, 'GET', `/api/leases/${leaseId}/x402/requirements?mode=second`);
    expect(answer.status).toBe(200);
    return answer.body.accepts[0] as PaymentRequirements;
  }

  const pay = (base: string, leaseId: string, header: string) => http(base, 'POST', `/api/leases/${leaseId}/access?mode=second`, { headers: { 'x-payment': header } });

  function expectTimeout(answer: Answer, status: number, reason: string): void {
    expect(answer.status, JSON.stringify(answer.body)).toBe(status);
    expect(answer.body.error).toMatchObject({ code: 'TIMEOUT', details: { reason } });
    expect(answer.headers.get('retry-after')).toBe('1');
  }

  async function rowsOf(leaseId: string): Promise<number> {
    return (await store.db.getX402PaymentsByLease(leaseId)).length;
  }

  it('a locked table: 503 TIMEOUT lock_timeout while the lock is held; the resent payment is recorded once', async () => {
    const { base } = await appWith({ PG_LOCK_TIMEOUT_MS: '300', PG_STATEMENT_TIMEOUT_MS: '60000' });
    await activeLease(base, 'A-LOCK', 'L-LOCK');
    const header = paymentHeader(await quote(base, 'L-LOCK'));

    const lock = await lockTable('leases');
    let answer: Answer;
    try {
      // The answer arrives while the lock is still held: the request did not wait it out.
      answer = await pay(base, 'L-LOCK', header);
    } finally {
      await lock.release();
    }
    expectTimeout(answer, 503, 'lock_timeout');
    expect(answer.body.error.code).not.toBe('CONNECTION');
    expect(await rowsOf('L-LOCK')).toBe(0);

    const resent = await pay(base, 'L-LOCK', header);
    expect(resent.status).toBe(200);
    expect(resent.body.ledger).toBe('recorded');
    expect(await rowsOf('L-LOCK')).toBe(1);
  });

  it('a locked ledger after settlement: the payment is kept pending, granted, and recorded once on replay', async () => {
    const { base } = await appWith({ PG_LOCK_TIMEOUT_MS: '300', PG_STATEMENT_TIMEOUT_MS: '60000' });
    await activeLease(base, 'A-LOCK', 'L-LEDGER');
    const header = paymentHeader(await quote(base, 'L-LEDGER'));

    const lock = await lockTable('x402_payments');
    let answer: Answer;
    try {
      answer = await pay(base, 'L-LEDGER', header);
    } finally {
      await lock.release();
    }
    // Money moved before the ledger was locked out, so access is granted and the record kept.
    expect(answer.status, JSON.stringify(answer.body)).toBe(200);
    expect(answer.body.ledger).toBe('pending');
    expect(await rowsOf('L-LEDGER')).toBe(0);
    const replay = await http(base, 'POST', '/api/admin/pending/replay', { headers: AUTH });
    expect(replay.body).toMatchObject({ remaining: 0 });
    expect(replay.body.recorded).toHaveLength(1);
    expect(await rowsOf('L-LEDGER')).toBe(1);
    expect((await http(base, 'POST', '/api/admin/pending/replay', { headers: AUTH })).body.recorded).toHaveLength(0);
    expect(await rowsOf('L-LEDGER')).toBe(1);
  });

  it('a full pool: 503 TIMEOUT pool_exhausted (not CONNECTION); every payment succeeds once the pool frees', async () => {
    // No lock timeout here: two requests hold both connections waiting on the lock.
    const { base } = await appWith({ PGPOOL_MAX: '2', PGPOOL_CONNECT_TIMEOUT_MS: '500', PG_LOCK_TIMEOUT_MS: '0', PG_STATEMENT_TIMEOUT_MS: '60000' });
    await activeLease(base, 'A-POOL', 'L-POOL');
    const requirements = await quote(base, 'L-POOL');
    const headers = [paymentHeader(requirements), paymentHeader(requirements), paymentHeader(requirements)];

    const lock = await lockTable('leases');
    let held: Promise<Answer>[];
    let refused: Answer;
    try {
      // One blocked request at a time until both connections are taken: requests that arrive
      // together would share one read statement (the store gathers concurrent lease reads).
      held = [];
      const admin = new pg.Client({ connectionString: store.url });
      await admin.connect();
      try {
        for (const header of headers.slice(0, 2)) {
          held.push(pay(base, 'L-POOL', header));
          for (let i = 0; i < 200; i++) {
            const { rows } = await admin.query<{ n: string }>("SELECT count(*) AS n FROM pg_locks WHERE relation = 'leases'::regclass AND NOT granted");
            if (Number(rows[0]?.n) >= held.length) break;
            await new Promise((r) => setTimeout(r, 50));
          }
        }
      } finally {
        await admin.end();
      }
      refused = await pay(base, 'L-POOL', headers[2] as string);
    } finally {
      await lock.release();
    }
    expectTimeout(refused, 503, 'pool_exhausted');
    const first = await Promise.all(held);
    expect(first.map((a) => a.status)).toEqual([200, 200]);
    const resent = await pay(base, 'L-POOL', headers[2] as string);
    expect(resent.status).toBe(200);
    expect(await rowsOf('L-POOL')).toBe(3);
  });

  it('a statement past statement_timeout: 504 TIMEOUT statement_timeout; the resent payment is recorded once', async () => {
    const { base } = await appWith({ PG_LOCK_TIMEOUT_MS: '0', PG_STATEMENT_TIMEOUT_MS: '500' });
    await activeLease(base, 'A-SLOW', 'L-SLOW');
    const header = paymentHeader(await quote(base, 'L-SLOW'));
    const lock = await lockTable('leases');
    let answer: Answer;
    try {
      answer = await pay(base, 'L-SLOW', header);
    } finally {
      await lock.release();
    }
    expectTimeout(answer, 504, 'statement_timeout');
    expect(await rowsOf('L-SLOW')).toBe(0);
    const resent = await pay(base, 'L-SLOW', header);
    expect(resent.status).toBe(200);
    expect(await rowsOf('L-SLOW')).toBe(1);
  });

  it('a runaway query is stopped by the server at statement_timeout', async () => {
    const driver = createPgDriver(store.url, { env: { PG_STATEMENT_TIMEOUT_MS: '300', PG_APPLICATION_NAME: 'runaway-test' } });
    try {
      const error = await driver.query('SELECT pg_sleep(30)').then(
        () => null,
        (e: unknown) => mapDriverError(e, 'runaway'),
      );
      expect(isStorageError(error, 'TIMEOUT')).toBe(true);
      expect(error?.reason).toBe('statement_timeout');
      expect(error?.retryable).toBe(true);
      // The server ended it: nothing of it still runs.
      const { rows } = await driver.query<{ n: string }>("SELECT count(*) AS n FROM pg_stat_activity WHERE application_name = 'runaway-test' AND query LIKE '%pg_sleep(30)%' AND state = 'active' AND pid <> pg_backend_pid()");
      expect(Number(rows[0]?.n)).toBe(0);
    } finally {
      await driver.close();
    }
  });

  it('an unreachable server is CONNECTION, not TIMEOUT', async () => {
    const url = new URL(store.url);
    url.port = String(await freePort());
    const db = new PostgresDatabase(url.toString(), { env: { PGPOOL_CONNECT_TIMEOUT_MS: '2000' } });
    const error = await db.connect().then(
      () => null,
      (e: unknown) => e,
    );
    expect(isStorageError(error, 'CONNECTION')).toBe(true);
    await db.disconnect();
  });
});
