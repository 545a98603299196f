/**
 * A deep reorg's readiness failure clears by an operator's acknowledgement, on the real node: it
 * is refused while processing has not re-applied the replacing blocks, accepted once it has
 * (through `leasing-store chain ack-reorg` and through the admin route), recorded with who, when
 * and why, and a later deep reorg needs its own. The store keeps the reorg until then, so a
 * restarted service fails readiness too.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ChainRunner } from '../../src/chain/runner.js';
import { API_KEY, AUTH, http, startApp, type Running } from '../api/support.js';
import { openPostgres, type OpenBackend } from '../support/backends.js';
import { runCli } from '../support/cli.js';
import { startDeployedChain, type DeployedChain } from '../support/chain.js';
import { createAssetType, mine, recordingLogger, registerAssets, rpc, runnerFor, token, waitFor } from '../support/ingestion.js';

let chain: DeployedChain;
let store: OpenBackend;
let runner: ChainRunner;
let api: Running;
const logger = recordingLogger();

beforeAll(async () => {
  chain = await startDeployedChain();
  await createAssetType(chain);
  store = await openPostgres();
  runner = runnerFor(store.db, chain, { confirmations: 1, logger });
  api = await startApp({ db: store.db, chain: runner });
  runner.start();
}, 60_000);

afterAll(async () => {
  await api?.close();
  await runner?.stop();
  await store?.dispose();
  await chain?.stop();
});

const head = async () => Number(await chain.reader.getBlockNumber({ cacheTime: 0 }));
const unacknowledgedMetric = async () => {
  const text = (await http(api.url, 'GET', '/metrics', { headers: AUTH })).body as string;
  const line = /^leasing_chain_unacknowledged_deep_reorgs (\d+)$/m.exec(text);
  return line === null ? null : Number(line[1]);
};
const acknowledge = (body: object, headers: Record<string, string> = AUTH) => http(api.url, 'POST', '/api/admin/chain/acknowledge-reorg', { body, headers });

/** Applies an asset on a fork, then replaces that fork with a shorter one: a deep reorg, detected. */
async function deepReorg(orphanToken: number, replacingToken: number): Promise<{ orphanTip: number }> {
  await waitFor('caught up', async () => ((await runner.status()).ingestedBlock ?? -1) >= (await head()));
  const before = (await runner.status()).unacknowledgedDeepReorgs.length;
  const snapshot = await rpc<string>(chain.node.rpcUrl, 'evm_snapshot');
  await registerAssets(chain, [token(orphanToken)]);
  await mine(chain.node.rpcUrl, 3);
  const orphanTip = await head();
  await waitFor('the doomed fork to be applied', () => store.db.getAssetByTokenAddress(token(orphanToken)));
  await waitFor('the doomed fork to be ingested to its tip', async () => ((await runner.status()).ingestedBlock ?? -1) >= orphanTip);
  await rpc(chain.node.rpcUrl, 'evm_revert', [snapshot]);
  // One block only: the replacing chain is shorter than the orphaned one, for now.
  await registerAssets(chain, [token(replacingToken)]);
  await waitFor('the deep reorg to be detected', async () => (await runner.status()).unacknowledgedDeepReorgs.length > before);
  return { orphanTip };
}

describe('deep reorg acknowledgement', () => {
  it('readiness fails until an operator acknowledges, which is refused until the replacing chain is processed', async () => {
    await waitFor('ready', async () => (await http(api.url, 'GET', '/ready')).status === 200);
    // Nothing to acknowledge yet.
    const early = await acknowledge({ by: 'alice' });
    expect(early.status).toBe(409);
    expect(early.body.error.code).toBe('NO_DEEP_REORG');

    const { orphanTip } = await deepReorg(700, 701);
    const ready = await http(api.url, 'GET', '/ready');
    expect(ready.status).toBe(503);
    expect(ready.body.error.code).toBe('CHAIN_NOT_READY');
    // The store holds it: a restarted service (a new runner on the same store, never having seen
    // the reorg) fails readiness too, with the same reorg.
    const restarted = runnerFor(store.db, chain, { confirmations: 1, logger });
    expect(await restarted.notReadyReason()).toMatch(/deeper than the confirmation depth/);
    expect((await restarted.status()).unacknowledgedDeepReorgs).toEqual((await runner.status()).unacknowledgedDeepReorgs);

    // The key is required, and so is a name.
    expect((await acknowledge({ by: 'alice' }, {})).status).toBe(401);
    expect((await acknowledge({ note: 'no name' })).status).toBe(400);
    expect((await acknowledge({ by: '   ' })).status).toBe(400);
    // The replacing chain is one block long: the store does not reflect the chain up to the orphaned tip yet.
    const tooSoon = await acknowledge({ by: 'alice' });
    expect(tooSoon.status).toBe(409);
    expect(tooSoon.body.error).toMatchObject({ code: 'CHAIN_NOT_CAUGHT_UP', details: { neededBlock: orphanTip } });
    expect((await http(api.url, 'GET', '/ready')).status).toBe(503);
    expect(await unacknowledgedMetric()).toBe(1);

    await mine(chain.node.rpcUrl, 5);
    await waitFor('the replacing chain to be processed past the orphaned tip', async () => ((await runner.status()).processedBlock ?? -1) >= orphanTip);
    expect(await store.db.getAssetByTokenAddress(token(701))).not.toBeNull();
    expect(await store.db.getAssetByTokenAddress(token(700))).toBeNull();

    // Through the CLI, as an operator would.
    const { code, stdout, stderr } = await runCli(['chain', 'ack-reorg', '--url', api.url, '--api-key', API_KEY, '--by', 'alice', '--note', 'checked leases of blocks 10-14'], { LOG_LEVEL: 'silent' });
    expect(code, stderr).toBe(0);
    const recorded = JSON.parse(stdout) as { by: string; note: string; acknowledgedAt: string; reorgs: { deep: boolean; fromBlock: number; depth: number }[] };
    expect(recorded).toMatchObject({ by: 'alice', note: 'checked leases of blocks 10-14' });
    expect(recorded.reorgs).toHaveLength(1);
    expect(recorded.reorgs[0]).toMatchObject({ deep: true });
    expect(recorded.reorgs[0]!.fromBlock + recorded.reorgs[0]!.depth - 1).toBe(orphanTip);

    expect((await http(api.url, 'GET', '/ready')).status).toBe(200);
    expect(await restarted.notReadyReason()).toBeNull();
    expect(await unacknowledgedMetric()).toBe(0);
    const status = (await http(api.url, 'GET', '/api/system/status', { headers: AUTH })).body.chain;
    expect(status).toMatchObject({ deepReorg: false, unacknowledgedDeepReorgs: [], lastAcknowledgement: recorded, lastReorg: { deep: true } });
    expect(logger.lines.some((l) => l.level === 'warn' && l.message.startsWith('DEEP REORG ACKNOWLEDGED by alice'))).toBe(true);
    // Acknowledged once: a second acknowledgement has nothing to clear.
    expect((await acknowledge({ by: 'bob' })).body.error.code).toBe('NO_DEEP_REORG');
  });

  it('a later deep reorg fails readiness again and needs its own acknowledgement', async () => {
    const { orphanTip } = await deepReorg(702, 703);
    expect((await http(api.url, 'GET', '/ready')).status).toBe(503);
    await mine(chain.node.rpcUrl, 5);
    await waitFor('processed past the orphaned tip', async () => ((await runner.status()).processedBlock ?? -1) >= orphanTip);
    const answer = await acknowledge({ by: 'bob', note: 'second one' });
    expect(answer.status).toBe(200);
    expect(answer.body).toMatchObject({ by: 'bob', note: 'second one', reorgs: [{ deep: true }] });
    expect((await http(api.url, 'GET', '/ready')).status).toBe(200);
    expect((await runner.status()).lastAcknowledgement?.by).toBe('bob');
  });
});
