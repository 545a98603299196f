/**
 * PostgreSQL fails under 64 concurrent paying streams, and the ledger stays exact. The compiled
 * service runs as a child process on a private cluster (test/support/pg-cluster.ts) that the
 * test crashes (`pg_ctl stop -m immediate`: no checkpoint, WAL recovery on restart) or whose
 * backends it terminates (`pg_terminate_backend`). Then:
 *
 * - every payment answered 200 is in the ledger exactly once, and no row exists that no client
 *   was told about;
 * - every failed request got a retryable status (503/504 with Retry-After) and succeeded when
 *   resent (the streams resend until answered);
 * - reconcile finds no difference between batches and payments;
 * - the same service process (no restart) answers a payment within 5 s of the server coming back.
 *
 * The figures (payments in flight at the fault, requests, retryable answers, recovery time) are
 * printed for docs/reliability.md.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PayingStreams, type StreamTally } from '../support/paying-streams.js';
import { startPrivateCluster, type PrivateCluster } from '../support/pg-cluster.js';
import { killLeftovers, type ServiceProcess } from '../support/service-process.js';
import { auditLedger, finishRecovery, seedLeases, startServiceOn } from './harness.js';

const STREAMS = 64;
/** The bound: the service serves again this soon after the server is back. */
const RECOVERY_BOUND_MS = 5_000;

describe('PostgreSQL crashes under 64 paying streams', { timeout: 240_000 }, () => {
  let cluster: PrivateCluster;
  let dir: string;

  beforeAll(async () => {
    cluster = await startPrivateCluster();
    dir = await mkdtemp(join(tmpdir(), 'db-crash-'));
  });

  afterAll(async () => {
    killLeftovers();
    await cluster?.destroy();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  /**
   * Runs the streams against a fresh database, applies `fault` once they pay, and audits. `fault`
   * returns the instant the server is usable again.
   */
  async function underFault(name: string, fault: (streams: PayingStreams) => Promise<number>) {
    const url = await cluster.createDatabase(name);
    const data = join(dir, name);
    const service: ServiceProcess = await startServiceOn(url, data);
    try {
      const leases = await seedLeases(service.url, STREAMS);
      const streams = new PayingStreams({ base: service.url, leases }).start();
      // Load first: the fault must hit payments in every stage of their way.
      while (streams.paidCount() < 2 * STREAMS) await streams.nextPaid();
      const inFlight = streams.inFlight;
      const paidBefore = streams.paidCount();
      const backAt = await fault(streams);
      // Recovery: the first payment that starts after the server is back and is answered 200.
      await streams.nextPaid();
      const recoveryMs = Date.now() - backAt;
      await sleep(1_000);
      const tally: StreamTally = await streams.stop();
      const left = await finishRecovery(service.url);
      const audit = await auditLedger(url, tally);
      const figures = {
        scenario: name,
        streams: STREAMS,
        paymentsInFlightAtFault: inFlight,
        paidBeforeFault: paidBefore,
        requests: tally.requests,
        paid200: tally.hashes.size,
        paidByLedgerState: tally.paid,
        retryableAnswers: tally.retryable,
        lost: audit.missing.length,
        duplicated: audit.duplicated.length,
        recoveryMs,
      };
      console.log(`[reliability] ${JSON.stringify(figures)}`);
      return { tally, audit, left, recoveryMs, service };
    } finally {
      process.kill(service.pid, 'SIGKILL');
      await service.exit;
    }
  }

  function expectExact(result: Awaited<ReturnType<typeof underFault>>) {
    const { tally, audit, left } = result;
    expect(tally.unexpected, 'only 200s and retryable refusals').toEqual([]);
    expect(tally.retryAfterMissing, 'every retryable refusal says when to retry').toBe(0);
    expect(tally.abandoned, 'every refused payment succeeded when resent').toBe(0);
    expect(tally.resigned, 'no payment had to be signed again').toBe(0);
    expect(tally.unanswered, 'the service itself kept answering').toBe(0);
    expect(left).toEqual({ pendingLeft: 0, settlementsLeft: 0 });
    expect(audit.missing, 'a payment answered 200 is in the ledger').toEqual([]);
    expect(audit.duplicated, 'no payment is stored twice').toEqual([]);
    expect(audit.unannounced, 'no row without a 200').toEqual([]);
    expect([...tally.hashes.values()].every((n) => n === 1), 'each payment answered once').toBe(true);
    expect(audit.rows.size).toBe(tally.hashes.size);
    expect(audit.reconcileDifferences).toBe(0);
    expect(result.recoveryMs).toBeLessThan(RECOVERY_BOUND_MS);
  }

  it('pg_ctl stop -m immediate and a restart: nothing lost, nothing doubled, serving again without a service restart', async () => {
    const result = await underFault('crash', async () => {
      await cluster.stop('immediate');
      // Down long enough for the retries of settled payments to run out (they go pending).
      await sleep(2_500);
      await cluster.start();
      return Date.now();
    });
    expectExact(result);
    expect(result.tally.retryable[503] ?? 0, 'requests were refused while the server was down').toBeGreaterThan(0);
  });

  it('pg_terminate_backend of every backend, repeatedly: nothing lost, nothing doubled', async () => {
    const result = await underFault('terminate', async () => {
      let ended = 0;
      for (let i = 0; i < 5; i++) {
        ended += await cluster.terminateBackends();
        await sleep(200);
      }
      expect(ended).toBeGreaterThan(0);
      return Date.now();
    });
    expectExact(result);
  });
});
