/**
 * A settled payment survives the service being killed between settle and commit. The compiled
 * service runs as a child process on its own PostgreSQL database; the test holds a lock on the
 * payments table, so the record of a settled payment blocks; once the journal shows the
 * settlement, the service is killed with SIGKILL. No row exists then. A restarted service
 * resolves its journal at startup and records the payment exactly once.
 */
import { readFile } from 'node:fs/promises';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { localSettlementHash } from '../../src/api/facilitator/local.js';
import { THROWAWAY_PAYER, createPaymentPayload } from '../../src/api/x402/client.js';
import { decodePaymentHeader, encodeJsonHeader } from '../../src/api/x402/payment-header.js';
import type { PaymentRequirements } from '../../src/api/x402/types.js';
import { AUTH, activeLease, http } from '../api/support.js';
import { openPostgres, type OpenBackend } from '../support/backends.js';
import { isAlive, killLeftovers, startCompiled, type ServiceProcess } from '../support/service-process.js';

const PAYER = THROWAWAY_PAYER.address;

describe('a service killed between settle and commit', () => {
  let store: OpenBackend & { url: string };
  let dir: string;
  let env: Record<string, string>;

  beforeAll(async () => {
    store = await openPostgres();
    dir = await mkdtemp(join(tmpdir(), 'settle-crash-'));
    // Development mode: the local facilitator, which can say what became of an earlier settle.
    env = { LEASING_MODE: 'development', DATABASE_URL: store.url, DATA_DIR: dir, API_KEY: AUTH.authorization.replace('Bearer ', ''), LOG_LEVEL: 'info' };
  });

  afterAll(async () => {
    killLeftovers();
    await store?.dispose();
    await rm(dir, { recursive: true, force: true });
  });

  /** The journal records written so far (each line is `<crc32> <json>`). */
  async function journal(): Promise<{ op: string; change?: { state: string; transaction?: string } }[]> {
    const text = await readFile(join(dir, 'settlement-journal.jsonl'), 'utf8').catch(() => '');
    return text
      .split('\n')
      .filter((l) => l.trim() !== '')
      .map((l) => JSON.parse(l.slice(l.indexOf(' ') + 1)) as { op: string; change?: { state: string } });
  }

  it('loses nothing: the restarted service records the settled payment once', async () => {
    let service: ServiceProcess = await startCompiled(env);
    await activeLease(service.url, 'A-1', 'L-1');
    const requirements = (await http(service.url, 'GET', '/api/leases/L-1/x402/requirements?mode=second')).body.accepts[0] as PaymentRequirements;
    const header = encodeJsonHeader(createPaymentPayload(requirements));
    const txHash = localSettlementHash(decodePaymentHeader(header).payload.authorization);

    // Hold the payments table, so the ledger commit of the settled payment waits behind us.
    const blocker = new pg.Client({ connectionString: store.url });
    blocker.on('error', () => undefined);
    await blocker.connect();
    await blocker.query('BEGIN');
    await blocker.query('LOCK TABLE x402_payments IN ACCESS EXCLUSIVE MODE');
    const request = http(service.url, 'POST', '/api/leases/L-1/access?mode=second', { headers: { 'x-payment': header } }).catch(
      (error: unknown) => error,
    );

    // Money has moved once the journal says so; the record is blocked: kill the service now.
    for (let i = 0; i < 200 && !(await journal()).some((l) => l.change?.state === 'settled'); i++) await sleep(25);
    const lines = await journal();
    expect(lines.map((l) => l.op)).toEqual(['begin', 'update']);
    expect(lines[1]?.change).toMatchObject({ state: 'settled', transaction: txHash });
    process.kill(service.pid, 'SIGKILL');
    await service.exit;
    expect(isAlive(service.pid)).toBe(false);
    expect(await request).toBeInstanceOf(Error);
    // A payment group is one statement, its own transaction: one sent before the kill would still
    // commit on the server once the lock is gone. End the dead service's statement waiting on our
    // lock (if it got as far as sending it), as a crash of the whole machine would, so the ledger
    // truly misses the settled payment.
    await blocker.query(
      `SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid() AND wait_event_type = 'Lock'`,
    );
    await blocker.query('ROLLBACK');
    await blocker.end();
    expect(await store.db.getPaymentByFacilitatorTxHash(txHash)).toBeNull();

    // The restarted service resolves its journal before it serves.
    service = await startCompiled(env);
    const recorded = await store.db.getPaymentByFacilitatorTxHash(txHash);
    expect(recorded).toMatchObject({ leaseId: 'L-1', amountMinorUnits: BigInt(requirements.amount), payer: PAYER });
    expect((await store.db.getX402PaymentsByLease('L-1')).length).toBe(1);
    const reconcile = await http(service.url, 'GET', '/api/system/reconcile', { headers: AUTH });
    expect(reconcile.body).toMatchObject({ consistent: true, differences: [], unresolvedSettlements: [] });
    expect((await journal()).some((l) => l.change?.state === 'recorded')).toBe(true);
    process.kill(service.pid, 'SIGTERM');
    expect(await service.exit).toBe(0);
  });
});
