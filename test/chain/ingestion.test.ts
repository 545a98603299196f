/**
 * Ingestion and processing against a real EVM node (Hardhat 2) and real PostgreSQL: the
 * protocol's events reach the store and keep assets and leases in step with the chain; a reorg
 * at the tip removes the orphaned events before they are processed; a reorg deeper than the
 * confirmations undoes applied effects and is reported loudly (error log, status, readiness).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { leaseFactoryAbi, marketplaceAbi, usdcAbi } from '../../src/chain/contracts/index.js';
import { mintUsdc } from '../../src/chain/deploy.js';
import type { ChainRunner } from '../../src/chain/runner.js';
import { AUTH, http, startApp } from '../api/support.js';
import { openPostgres, type OpenBackend } from '../support/backends.js';
import { startDeployedChain, type DeployedChain } from '../support/chain.js';
import { createAssetType, mine, recordingLogger, registerAssets, rpc, runnerFor, send, token, waitFor } from '../support/ingestion.js';

let chain: DeployedChain;
const stores: OpenBackend[] = [];
const runners: ChainRunner[] = [];

beforeAll(async () => {
  chain = await startDeployedChain();
  await createAssetType(chain);
}, 60_000);

afterAll(async () => {
  for (const r of runners) await r.stop();
  for (const s of stores) await s.dispose();
  await chain?.stop();
});

async function store(): Promise<OpenBackend> {
  const opened = await openPostgres();
  stores.push(opened);
  return opened;
}

async function head(): Promise<number> {
  return Number(await chain.reader.getBlockNumber({ cacheTime: 0 }));
}

async function caughtUp(runner: ChainRunner): Promise<void> {
  const target = await head();
  await waitFor('the runner to reach the head', async () => ((await runner.status()).ingestedBlock ?? -1) >= target);
}

describe('ingestion from a Hardhat node', () => {
  it('creates and completes assets, and leases minted or accepted, exactly as the chain says', async () => {
    const { db } = await store();
    const handMade = await db.saveAsset({
      assetId: 'sat-1',
      chainId: 31337,
      contractAddress: token(0xdead),
      tokenAddress: token(101),
      metadata: { name: 'Sat 1' },
      metadataHash: `0x${'ab'.repeat(32)}`,
      blockNumber: 0,
      transactionHash: `0x${'cd'.repeat(32)}`,
    });
    const logger = recordingLogger();
    const runner = runnerFor(db, chain, { confirmations: 2, logger });
    runners.push(runner);
    runner.start();

    const { Marketplace, LeaseFactory, USDC, AssetRegistry } = chain.deployment.contracts;
    await registerAssets(chain, [token(100), token(101)]);
    await send(chain, 1, { address: Marketplace, abi: marketplaceAbi, functionName: 'postLeaseOffer', args: [0n] });
    await mintUsdc(chain.writers[0]!, chain.reader, USDC, [chain.addresses[2]!], 5_000_000n);
    await send(chain, 2, { address: USDC, abi: usdcAbi, functionName: 'approve', args: [Marketplace, 1_000_000n] });
    const bidTx = await send(chain, 2, { address: Marketplace, abi: marketplaceAbi, functionName: 'placeLeaseBid', args: [0n, 1_000_000n] });
    const acceptTx = await send(chain, 1, { address: Marketplace, abi: marketplaceAbi, functionName: 'acceptLeaseBid', args: [0n, 0n] });
    await send(chain, 1, { address: LeaseFactory, abi: leaseFactoryAbi, functionName: 'mintLease', args: [chain.addresses[1]!, chain.addresses[3]!, 1n] });

    // Nothing of the last transactions is processed before it is 2 blocks deep.
    await caughtUp(runner);
    expect(await db.getLease('1')).toBeNull();
    await mine(chain.node.rpcUrl, 2);
    await waitFor('lease 1 to be stored', () => db.getLease('1'));

    expect(await db.getAsset('0')).toMatchObject({ chainId: 31337, contractAddress: AssetRegistry.toLowerCase(), tokenAddress: token(100), metadataHash: `0x${'0'.repeat(64)}` });
    // A hand-made asset with the same token is completed, not duplicated; the log says the chain won.
    expect(await db.getAsset('1')).toBeNull();
    const completed = await db.getAsset(handMade.assetId);
    expect(completed).toMatchObject({ contractAddress: AssetRegistry.toLowerCase(), tokenAddress: token(101), metadata: { name: 'Sat 1' } });
    expect(completed?.blockNumber).toBeGreaterThan(0);
    expect(logger.lines.some((l) => l.level === 'warn' && l.message.includes('asset sat-1: the chain (asset id 1) overrides'))).toBe(true);

    const accepted = await db.getLease('0');
    expect(accepted).toMatchObject({ assetId: '0', lessor: chain.addresses[1], lessee: chain.addresses[2], status: 'active', contractAddress: LeaseFactory.toLowerCase(), transactionHash: acceptTx });
    expect(await db.getLease('1')).toMatchObject({ assetId: handMade.assetId, lessee: chain.addresses[3], status: 'pending' });

    const event = (await db.getEvent(acceptTx, 1)) ?? (await db.getEvent(acceptTx, 2));
    expect(event?.processed).toBe(true);
    const bid = (await db.getPendingChainEvents(31337, 1_000_000, 100)).length;
    expect(bid).toBe(0);
    const status = await runner.status();
    expect(status).toMatchObject({ chainId: 31337, leader: true, backlog: 0, lastReorg: null, lastError: null, lag: 2 });
    expect(status.processedBlock).toBe((status.headBlock ?? 0) - 2);
    // An event without a handler is stored, decoded (uint256 as decimal strings) and marked processed.
    const bidEvent = await db.getEvent(bidTx, 1);
    expect(bidEvent).toMatchObject({ eventName: 'LeaseBidPlaced', processed: true, args: { offerId: '0', bidIndex: '0', funds: '1000000' } });
    await runner.stop();
  });

  it('a reorg at the tip removes the orphaned events before they are processed', async () => {
    const { db } = await store();
    const logger = recordingLogger();
    const runner = runnerFor(db, chain, { confirmations: 3, logger });
    runners.push(runner);
    runner.start();
    await caughtUp(runner);
    const snapshot = await rpc<string>(chain.node.rpcUrl, 'evm_snapshot');
    await registerAssets(chain, [token(500)]);
    const orphanBlock = await head();
    await waitFor('the orphan block to be ingested', async () => ((await runner.status()).ingestedBlock ?? -1) >= orphanBlock);
    const orphaned = (await db.getPendingChainEvents(31337, 1_000_000, 100)).find((e) => String(e.args['tokenAddress']).toLowerCase() === token(500));
    expect(orphaned).toBeDefined();

    await rpc(chain.node.rpcUrl, 'evm_revert', [snapshot]);
    await registerAssets(chain, [token(501)]);
    await mine(chain.node.rpcUrl, 4);
    await waitFor('the new fork to be processed', async () => (await db.getAssetByTokenAddress(token(501))) !== null);

    expect(await db.getAssetByTokenAddress(token(500))).toBeNull();
    const removed = await db.getEvent(orphaned!.transactionHash, orphaned!.logIndex);
    expect(removed).toMatchObject({ removed: true, processed: false });
    const status = await runner.status();
    expect(status.lastReorg).toMatchObject({ deep: false, fromBlock: orphanBlock });
    expect(status.lastReorg?.depth).toBeGreaterThanOrEqual(1);
    expect(await runner.notReadyReason()).toBeNull();
    expect(logger.lines.filter((l) => l.level === 'error')).toEqual([]);
    await runner.stop();
  });

  it('a reorg deeper than the confirmations undoes applied effects and is reported loudly', async () => {
    const { db } = await store();
    const logger = recordingLogger();
    const runner = runnerFor(db, chain, { confirmations: 1, logger });
    runners.push(runner);
    const api = await startApp({ db, chain: runner });
    runner.start();
    await caughtUp(runner);
    expect((await http(api.url, 'GET', '/ready')).status).toBe(200);
    const before = (await http(api.url, 'GET', '/api/system/status', { headers: AUTH })).body.chain;
    expect(before).toMatchObject({ chainId: 31337, leader: true, lastReorg: null, lastError: null, backlog: expect.any(Number) });
    expect(before.safeBlock).toBe(before.headBlock - 1);
    const snapshot = await rpc<string>(chain.node.rpcUrl, 'evm_snapshot');
    await registerAssets(chain, [token(600)]);
    await mine(chain.node.rpcUrl, 3);
    const applied = await waitFor('the asset of the doomed fork', () => db.getAssetByTokenAddress(token(600)));

    await rpc(chain.node.rpcUrl, 'evm_revert', [snapshot]);
    await registerAssets(chain, [token(601)]);
    await mine(chain.node.rpcUrl, 5);
    // The new fork registered a different token under the same on-chain asset id.
    await waitFor('the asset to follow the new fork', async () => (await db.getAsset(applied.assetId))?.tokenAddress === token(601));
    expect(await db.getAssetByTokenAddress(token(600))).toBeNull();

    const status = await runner.status();
    expect(status.lastReorg?.deep).toBe(true);
    expect(status.deepReorg).toBe(true);
    expect(status.lastReorg?.depth).toBeGreaterThan(1);
    expect(await runner.notReadyReason()).toMatch(/deeper than the confirmation depth/);
    expect(logger.lines.some((l) => l.level === 'error' && l.message.startsWith('DEEP REORG'))).toBe(true);
    // Loud everywhere an operator looks: status, readiness and metrics.
    const after = (await http(api.url, 'GET', '/api/system/status', { headers: AUTH })).body.chain;
    expect(after.lastReorg).toMatchObject({ deep: true, depth: status.lastReorg?.depth });
    const ready = await http(api.url, 'GET', '/ready');
    expect(ready.status).toBe(503);
    expect(ready.body.error.code).toBe('CHAIN_NOT_READY');
    const metrics = (await http(api.url, 'GET', '/metrics', { headers: AUTH })).body as string;
    expect(metrics).toMatch(/^leasing_chain_deep_reorgs_total 1$/m);
    expect(metrics).toMatch(/^leasing_chain_reorgs_total 1$/m);
    expect(metrics).toMatch(/^leasing_chain_lag_blocks \d+$/m);
    expect(metrics).toMatch(/^leasing_chain_backlog_events 0$/m);
    for (const name of ['head_block', 'processed_block', 'events_ingested_total', 'events_processed_total']) expect(metrics).toContain(`leasing_chain_${name} `);
    await api.close();
    await runner.stop();
  });

  it('readiness fails while processing lags the head by more than the bound, by the same lag status shows', async () => {
    const logger = recordingLogger();
    // Two confirmations keep the processed block two below the head: a bound of 1 is exceeded, 2 is
    // not. Each runner on a store of its own, so both lead (a standby never learns the head).
    const strict = runnerFor((await store()).db, chain, { confirmations: 2, maxLagBlocks: 1, logger });
    const lenient = runnerFor((await store()).db, chain, { confirmations: 2, maxLagBlocks: 2, logger });
    runners.push(strict, lenient);
    // Before a round the head is not known: no lag to judge.
    expect(await strict.notReadyReason()).toBeNull();
    strict.start();
    lenient.start();
    await mine(chain.node.rpcUrl, 3);
    const target = await head();
    for (const runner of [strict, lenient]) {
      await waitFor('processing to reach the safe block', async () => {
        const status = await runner.status();
        return status.headBlock === target && status.processedBlock === target - 2;
      }).catch(async (error: unknown) => {
        throw new Error(`${String(error)}; status ${JSON.stringify(await runner.status())}`);
      });
    }
    expect((await strict.status()).lag).toBe(2);
    expect(await strict.notReadyReason()).toBe('chain processing lags 2 blocks (bound 1)');
    expect(await lenient.notReadyReason()).toBeNull();
  });
});
