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
 * Each scenario is one `killMidStream` call with its own load, database and data directory. The
 * second also runs chain ingestion in the service (a real local node with 1,000 events to apply
 * one per round) and kills it while payments stream and events are being applied: after the
 * restart every event's effects exist exactly once.
 */
import { readFile, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { localSettlementHash } from '../../src/api/facilitator/local.js';
import type { PaymentPayload } from '../../src/api/x402/types.js';
import { AUTH, http } from '../api/support.js';
import { openPostgres, type OpenBackend } from '../support/backends.js';
import { chainIngestionEnv, startDeployedChain, type DeployedChain } from '../support/chain.js';
import { createAssetType, registerAssets, token, waitFor } from '../support/ingestion.js';
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
    let record: { op: string; entry?: { payment: PaymentPayload | null; transaction?: string } };
    try {
      record = JSON.parse(line.slice(line.indexOf(' ') + 1)) as typeof record;
    } catch {
      continue;
    }
    if (record.op !== 'begin' || !record.entry) continue;
    const { payment, transaction } = record.entry;
    // A compacted file stores a resolved intent whose interval is over slim, without its payment:
    // its settlement hash is then its transaction (none when no money moved).
    if (payment !== null) hashes.add(localSettlementHash(payment.payload.authorization));
    else if (transaction !== undefined) hashes.add(transaction);
  }
  return hashes;
}

describe('the service killed with SIGKILL mid-stream', { timeout: 240_000 }, () => {
  const stores: OpenBackend[] = [];
  const dirs: string[] = [];

  /** A database and data directory of one scenario's own. */
  async function target(): Promise<{ store: OpenBackend & { url: string }; dir: string }> {
    const store = await openPostgres();
    stores.push(store);
    const dir = await mkdtemp(join(tmpdir(), 'service-crash-'));
    dirs.push(dir);
    return { store, dir };
  }

  afterAll(async () => {
    killLeftovers();
    for (const store of stores) await store.dispose();
    for (const dir of dirs) await rm(dir, { recursive: true, force: true });
  });

  /**
   * Starts the service (with `env` added), runs `load` until `busy` says it has done enough, kills
   * the service with SIGKILL, restarts it on the same database and directory, and hands the new
   * service to `load` again.
   */
  async function killMidStream<L extends { retarget(base: string): void }>(
    on: { store: { url: string }; dir: string; env?: Record<string, string> },
    start: (base: string) => Promise<L>,
    busy: (load: L) => Promise<void>,
  ): Promise<{ load: L; service: ServiceProcess; inFlightAtKill: number }> {
    let service = await startServiceOn(on.store.url, on.dir, on.env);
    const load = await start(service.url);
    await busy(load);
    const inFlightAtKill = (load as { inFlight?: number }).inFlight ?? 0;
    process.kill(service.pid, 'SIGKILL');
    await service.exit;
    expect(isAlive(service.pid)).toBe(false);
    service = await startServiceOn(on.store.url, on.dir, on.env);
    load.retarget(service.url);
    return { load, service, inFlightAtKill };
  }

  /** Streams paid and audited after the restart: the payment half of every scenario. */
  async function expectPaymentsExact(
    store: { url: string },
    dir: string,
    streams: PayingStreams,
    service: ServiceProcess,
    scenario: string,
    inFlightAtKill: number,
    extra: Record<string, unknown> = {},
  ): Promise<void> {
    // What the dead process had journaled; the restart already resolved it (startup recovery).
    const settledBeforeRestart = await journaledSettlements(dir);
    const paidAtRestart = streams.paidCount();
    while (streams.paidCount() < paidAtRestart + STREAMS) await streams.nextPaid();
    const tally = await streams.stop();
    const left = await finishRecovery(service.url);
    const audit = await auditLedger(store.url, tally);
    const reconcile = await http(service.url, 'GET', '/api/system/reconcile', { headers: AUTH });
    console.log(
      `[reliability] ${JSON.stringify({
        scenario,
        streams: STREAMS,
        paymentsInFlightAtKill: inFlightAtKill,
        paymentsUnansweredByTheKill: tally.paymentsUnanswered,
        journaledBeforeRestart: settledBeforeRestart.size,
        paid200: tally.hashes.size,
        ledgerRows: audit.rows.size,
        lost: audit.missing.length + [...settledBeforeRestart].filter((h) => !audit.rows.has(h)).length,
        duplicated: audit.duplicated.length,
        ...extra,
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
  }

  it('payments: nothing that settled is missing, nothing is counted twice, reconcile is clean', async () => {
    const on = await target();
    const { load: streams, service, inFlightAtKill } = await killMidStream(
      on,
      async (base) => new PayingStreams({ base, leases: await seedLeases(base, STREAMS) }).start(),
      async (streams) => {
        while (streams.paidCount() < 3 * STREAMS) await streams.nextPaid();
      },
    );
    try {
      await expectPaymentsExact(on.store, on.dir, streams, service, 'service-sigkill', inFlightAtKill);
    } finally {
      process.kill(service.pid, 'SIGTERM');
      await service.exit;
    }
  });

  describe('with chain ingestion running in the service', () => {
    const ASSETS = 1000;
    let chain: DeployedChain;

    beforeAll(async () => {
      chain = await startDeployedChain();
      await createAssetType(chain);
      for (let i = 0; i < ASSETS; i += 500) await registerAssets(chain, Array.from({ length: 500 }, (_, j) => token(7000 + i + j)));
    }, 120_000);

    afterAll(async () => {
      await chain?.stop();
    });

    it('payments and chain events: every settled payment once, every event applied once', async () => {
      const on = await target();
      const env = {
        ...chainIngestionEnv(chain),
        // One event per round: the kill lands while events are still being applied.
        CHAIN_BATCH_SIZE: '1',
        CHAIN_POLL_MS: '50',
      };
      const chainCounts = () => chainState(on.store.url);
      let atKill = { events: 0, pending: 0, effects: 0 };
      const { load: streams, service, inFlightAtKill } = await killMidStream(
        { ...on, env },
        async (base) => new PayingStreams({ base, leases: await seedLeases(base, STREAMS) }).start(),
        async (streams) => {
          while (streams.paidCount() < STREAMS) await streams.nextPaid();
          atKill = await waitFor('events being applied', async () => {
            const counts = await chainCounts();
            return counts.effects > 0 && counts.pending > 0 ? counts : null;
          }, 60_000);
        },
      );
      try {
        await expectPaymentsExact(on.store, on.dir, streams, service, 'service-sigkill-with-chain', inFlightAtKill, { chainEventsPendingAtKill: atKill.pending });
        // The restarted service applies the rest; each event's effects exist once.
        const done = await waitFor('every event applied', async () => {
          const counts = await chainCounts();
          return counts.pending === 0 && counts.events === ASSETS + 1 ? counts : null;
        }, 120_000);
        expect(atKill.pending).toBeGreaterThan(0);
        expect(done).toEqual({ events: ASSETS + 1, pending: 0, failed: 0, effects: 2 * ASSETS, assetLinks: ASSETS, chainAssets: ASSETS });
      } finally {
        process.kill(service.pid, 'SIGTERM');
        await service.exit;
      }
    });
  });
});

/** Chain events and their effects as PostgreSQL holds them. */
async function chainState(url: string): Promise<{ events: number; pending: number; failed: number; effects: number; assetLinks: number; chainAssets: number }> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const { rows } = await client.query<Record<string, string>>(
      `SELECT (SELECT count(*) FROM events WHERE chain_id = 31337 AND NOT removed) AS events,
              (SELECT count(*) FROM events WHERE chain_id = 31337 AND NOT removed AND NOT processed) AS pending,
              (SELECT count(*) FROM events WHERE attempts > 0) AS failed,
              (SELECT count(*) FROM chain_effects) AS effects,
              (SELECT count(*) FROM chain_links WHERE kind = 'asset') AS asset_links,
              (SELECT count(*) FROM assets a JOIN chain_links l ON l.kind = 'asset' AND l.record_key = a.asset_id) AS chain_assets`,
    );
    const r = rows[0] ?? {};
    return {
      events: Number(r['events']),
      pending: Number(r['pending']),
      failed: Number(r['failed']),
      effects: Number(r['effects']),
      assetLinks: Number(r['asset_links']),
      chainAssets: Number(r['chain_assets']),
    };
  } finally {
    await client.end();
  }
}
