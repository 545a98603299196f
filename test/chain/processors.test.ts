/**
 * One processor applies events at a time, and every effect is applied exactly once: two runners
 * on one PostgreSQL database (one leads, the other stands by), and `leasing-store chain run`
 * child processes where the leader is killed with SIGKILL mid-run, a standby takes over and the
 * killed one is restarted; then `chain status` reports where they left the chain.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ChainRunner } from '../../src/chain/runner.js';
import { PostgresDatabase } from '../../src/storage/backends/postgres/postgres-database.js';
import { openPostgres, type OpenBackend } from '../support/backends.js';
import { chainIngestionEnv, startDeployedChain, type DeployedChain } from '../support/chain.js';
import { createAssetType, recordingLogger, registerAssets, runnerFor, token, waitFor } from '../support/ingestion.js';
import { CLI, runCli } from '../support/cli.js';
import { repo } from '../support/service-process.js';

let chain: DeployedChain;
const stores: OpenBackend[] = [];
const children: ChildProcess[] = [];
const ASSETS = 300;

beforeAll(async () => {
  chain = await startDeployedChain();
  await createAssetType(chain);
  for (let i = 0; i < ASSETS; i += 100) await registerAssets(chain, Array.from({ length: 100 }, (_, j) => token(5000 + i + j)));
}, 60_000);

afterAll(async () => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  for (const s of stores) await s.dispose();
  await chain?.stop();
});

/** Every effect once: each AssetRegistered created its asset and link (two undo rows), nothing failed. */
async function expectExactlyOnce(url: string): Promise<void> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const { rows } = await client.query<{ effects: string; assets: string; failed: string; pending: string }>(
      `SELECT (SELECT count(*) FROM chain_effects) AS effects, (SELECT count(*) FROM assets) AS assets,
              (SELECT count(*) FROM events WHERE attempts > 0) AS failed, (SELECT count(*) FROM events WHERE NOT processed) AS pending`,
    );
    expect(rows[0]).toEqual({ effects: String(2 * ASSETS), assets: String(ASSETS), failed: '0', pending: '0' });
  } finally {
    await client.end();
  }
}

describe('processors', () => {
  it('two runners on one database: exactly one leads and applies, each effect once', async () => {
    const store = await openPostgres();
    stores.push(store);
    const second = new PostgresDatabase(store.url);
    await second.connect();
    const counts = [0, 0];
    const runners: ChainRunner[] = [store.db, second].map((db, i) =>
      runnerFor(db, chain, { confirmations: 0, batchSize: 20, logger: recordingLogger(), onProcessed: (n) => void (counts[i]! += n) }),
    );
    for (const r of runners) r.start();
    let bothLed = false;
    await waitFor('all assets', async () => {
      if (runners.every((r) => r.isLeader)) bothLed = true;
      return (await store.db.getAllAssets()).length === ASSETS && (await store.db.countPendingChainEvents(31337)) === 0;
    });
    expect(bothLed).toBe(false);
    expect(counts.filter((c) => c > 0)).toHaveLength(1);
    expect(counts[0]! + counts[1]!).toBe(ASSETS + 1);
    for (const r of runners) await r.stop();
    await second.disconnect();
    await expectExactlyOnce(store.url);
  });

  it('the leader killed with SIGKILL mid-run: a standby takes over, the killed one restarts, each effect once', async () => {
    const store = await openPostgres();
    stores.push(store);
    const env = {
      PATH: process.env['PATH'] ?? '',
      DATABASE_URL: store.url,
      ...chainIngestionEnv(chain),
      CHAIN_BATCH_SIZE: '1',
      CHAIN_POLL_MS: '50',
    };
    const start = () => {
      const child = spawn(process.execPath, [CLI, 'chain', 'run'], { cwd: repo, env, stdio: ['ignore', 'pipe', 'pipe'] });
      let output = '';
      child.stdout?.on('data', (d: Buffer) => (output += d.toString()));
      child.stderr?.on('data', (d: Buffer) => (output += d.toString()));
      children.push(child);
      return { child, output: () => output };
    };
    const pending = () => store.db.countPendingChainEvents(31337);
    // Both start together (a process takes seconds to boot), so the standby is waiting on the
    // lock while the leader is still working through the events one at a time.
    const both = [start(), start()];
    const leading = () => both.find((p) => p.output().includes('chain processor: leader'));
    await waitFor('one process to lead and the other to wait', async () => leading() !== undefined && both.every((p) => p.output().includes('chain ingestion started')), 30_000);
    const leader = leading()!;
    const standby = both.find((p) => p !== leader)!;
    await waitFor('processing to be under way', async () => {
      const left = await pending();
      return (await store.db.getChainCursor(31337)) !== null && left > 0 && left < ASSETS - 20;
    }, 30_000);
    leader.child.kill('SIGKILL');
    await new Promise((resolve) => leader.child.once('exit', resolve));
    const left = await pending();
    expect(left).toBeGreaterThan(0);
    await waitFor('the standby to take over', async () => standby.output().includes('chain processor: leader'), 10_000);
    const restarted = start();
    await waitFor('everything processed', async () => (await pending()) === 0 && (await store.db.getAllAssets()).length === ASSETS, 60_000);
    for (const p of [standby, restarted]) {
      p.child.kill('SIGTERM');
      await new Promise((resolve) => (p.child.exitCode === null ? p.child.once('exit', resolve) : resolve(null)));
    }
    await expectExactlyOnce(store.url);
    // What an operator reads afterwards: the cursor where the processes left it, nothing pending.
    const statusRun = await runCli(['chain', 'status'], env);
    expect(statusRun.code, statusRun.stderr).toBe(0);
    const status = JSON.parse(statusRun.stdout) as { chainId: number; cursor: unknown; backlog: number };
    expect(status).toMatchObject({ chainId: 31337, backlog: 0 });
    expect(status.cursor).not.toBeNull();
  });
});
