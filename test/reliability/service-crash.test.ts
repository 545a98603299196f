/**
 * The service is killed with SIGKILL while it streams payments, then started again on the same
 * database and data directory. After the restart (whose startup resolves the settlement journal
 * and replays pending payments):
 *
 * - every payment answered 200 before the kill or after the restart is in the ledger once;
 * - every settlement the journal had begun when the process died (money that may have moved) is
 *   in the ledger once: nothing that settled is missing;
 * - no row exists that is neither a 200 nor a journaled settlement, and reconcile is clean.
 *
 * Each scenario is one `killMidStream` call with its own load; the chain-event processing
 * scenario (events applied once across a kill) belongs beside the payment one, driving its own
 * load through the same helper.
 */
import { readFile, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { localSettlementHash } from '../../src/api/facilitator/local.js';
import type { PaymentPayload } from '../../src/api/x402/types.js';
import { AUTH, http } from '../api/support.js';
import { openPostgres, type OpenBackend } from '../support/backends.js';
import { PayingStreams } from '../support/paying-streams.js';
import { isAlive, killLeftovers, type ServiceProcess } from '../support/service-process.js';
import { auditLedger, finishRecovery, seedLeases, startServiceOn } from './harness.js';

const STREAMS = 32;

/** Settlement hashes of every intent the journal in `dir` has begun (read before a restart compacts it). */
async function journaledSettlements(dir: string): Promise<Set<string>> {
  const text = await readFile(join(dir, 'settlement-journal.jsonl'), 'utf8').catch(() => '');
  const hashes = new Set<string>();
  for (const line of text.split('\n')) {
    if (line.trim() === '') continue;
    // `<crc32> <json>`; a torn last line (the kill came mid-write) is not a begun intent.
    let record: { op: string; entry?: { payment: PaymentPayload } };
    try {
      record = JSON.parse(line.slice(line.indexOf(' ') + 1)) as typeof record;
    } catch {
      continue;
    }
    if (record.op === 'begin' && record.entry) hashes.add(localSettlementHash(record.entry.payment.payload.authorization));
  }
  return hashes;
}

describe('the service killed with SIGKILL mid-stream', { timeout: 240_000 }, () => {
  let store: OpenBackend & { url: string };
  let dir: string;

  beforeAll(async () => {
    store = await openPostgres();
    dir = await mkdtemp(join(tmpdir(), 'service-crash-'));
  });

  afterAll(async () => {
    killLeftovers();
    await store?.dispose();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  /**
   * Starts the service, runs `load` until it has done some work, kills the service with SIGKILL,
   * lets `afterKill` read what the dead process left on disk, restarts it, and hands the new
   * service to `load` again.
   */
  async function killMidStream<L extends { retarget(base: string): void }>(
    start: (base: string) => Promise<L>,
    busy: (load: L) => Promise<void>,
  ): Promise<{ load: L; service: ServiceProcess; inFlightAtKill: number }> {
    let service = await startServiceOn(store.url, dir);
    const load = await start(service.url);
    await busy(load);
    const inFlightAtKill = (load as { inFlight?: number }).inFlight ?? 0;
    process.kill(service.pid, 'SIGKILL');
    await service.exit;
    expect(isAlive(service.pid)).toBe(false);
    service = await startServiceOn(store.url, dir);
    load.retarget(service.url);
    return { load, service, inFlightAtKill };
  }

  it('payments: nothing that settled is missing, nothing is counted twice, reconcile is clean', async () => {
    let settledBeforeRestart = new Set<string>();
    const { load: streams, service, inFlightAtKill } = await killMidStream(
      async (base) => new PayingStreams({ base, leases: await seedLeases(base, STREAMS) }).start(),
      async (streams) => {
        while (streams.paidCount() < 3 * STREAMS) await streams.nextPaid();
      },
    );
    // What the dead process had journaled; the restart already resolved it (startup recovery).
    settledBeforeRestart = await journaledSettlements(dir);
    try {
      const paidAtRestart = streams.paidCount();
      while (streams.paidCount() < paidAtRestart + STREAMS) await streams.nextPaid();
      const tally = await streams.stop();
      const left = await finishRecovery(service.url);
      const audit = await auditLedger(store.url, tally);
      const reconcile = await http(service.url, 'GET', '/api/system/reconcile', { headers: AUTH });
      console.log(
        `[reliability] ${JSON.stringify({
          scenario: 'service-sigkill',
          streams: STREAMS,
          paymentsInFlightAtKill: inFlightAtKill,
          paymentsUnansweredByTheKill: tally.paymentsUnanswered,
          journaledBeforeRestart: settledBeforeRestart.size,
          paid200: tally.hashes.size,
          ledgerRows: audit.rows.size,
          lost: audit.missing.length + [...settledBeforeRestart].filter((h) => !audit.rows.has(h)).length,
          duplicated: audit.duplicated.length,
        })}`,
      );

      expect(tally.unexpected).toEqual([]);
      expect(tally.abandoned).toBe(0);
      expect(left).toEqual({ pendingLeft: 0, settlementsLeft: 0 });
      expect(audit.missing, 'every 200 is in the ledger').toEqual([]);
      expect([...settledBeforeRestart].filter((h) => !audit.rows.has(h)), 'every journaled settlement is in the ledger').toEqual([]);
      expect(audit.duplicated, 'nothing stored twice').toEqual([]);
      // Rows no client heard of are payments the kill cut off; each was journaled first.
      expect(audit.unannounced.filter((h) => !settledBeforeRestart.has(h)), 'no row without a 200 or a journal entry').toEqual([]);
      expect(audit.unannounced.length).toBeLessThanOrEqual(tally.paymentsUnanswered);
      expect(audit.reconcileDifferences).toBe(0);
      expect(reconcile.body).toMatchObject({ unresolvedSettlements: [], pendingPayments: [] });
    } finally {
      process.kill(service.pid, 'SIGTERM');
      await service.exit;
    }
  });
});
