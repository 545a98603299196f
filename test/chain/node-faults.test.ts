/**
 * Ingestion through a node that refuses large log ranges and one that drops connections mid-call
 * (a scripted JSON-RPC server in front of the Hardhat node): every event still arrives once, the
 * refused range is halved until accepted, and dropped calls are retried after a backoff.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ChainRunner } from '../../src/chain/runner.js';
import { openPostgres, type OpenBackend } from '../support/backends.js';
import { startDeployedChain, type DeployedChain } from '../support/chain.js';
import { createAssetType, mine, recordingLogger, registerAssets, runnerFor, token, waitFor } from '../support/ingestion.js';
import { startScriptedRpc, type ScriptedRpc } from '../support/scripted-rpc.js';

let chain: DeployedChain;
let store: OpenBackend;
const servers: ScriptedRpc[] = [];
const runners: ChainRunner[] = [];
const TOKENS = 12;

beforeAll(async () => {
  chain = await startDeployedChain();
  await createAssetType(chain);
  // One asset per block, with empty blocks between them.
  for (let i = 0; i < TOKENS; i += 1) {
    await registerAssets(chain, [token(1000 + i)]);
    await mine(chain.node.rpcUrl, 2);
  }
}, 60_000);

afterAll(async () => {
  for (const r of runners) await r.stop();
  for (const s of servers) await s.close();
  await store?.dispose();
  await chain?.stop();
});

async function ingestAllThrough(rpcUrl: string) {
  store = await openPostgres();
  const logger = recordingLogger();
  const runner = runnerFor(store.db, chain, { confirmations: 0, maxBlockRange: 1000, logger }, rpcUrl);
  runners.push(runner);
  runner.start();
  const head = Number(await chain.reader.getBlockNumber({ cacheTime: 0 }));
  await waitFor('every block to be processed', async () => ((await runner.status()).processedBlock ?? -1) >= head);
  await runner.stop();
  const assets = await store.db.getAllAssets();
  expect(assets.map((a) => a.tokenAddress.toLowerCase()).sort()).toEqual(Array.from({ length: TOKENS }, (_, i) => token(1000 + i)).sort());
  expect(await store.db.countPendingChainEvents(31337)).toBe(0);
  const status = await runner.status();
  await store.dispose();
  return { logger, status };
}

describe('a misbehaving node', () => {
  it('refusing ranges over 3 blocks: the range is halved until accepted and every event arrives once', async () => {
    const server = await startScriptedRpc(chain.node.rpcUrl, { refuseLogsOver: 3 });
    servers.push(server);
    const { logger } = await ingestAllThrough(server.url);
    const logs = server.calls.filter((c) => c.method === 'eth_getLogs');
    expect(logs.some((c) => c.outcome === 'refused')).toBe(true);
    for (const c of logs.filter((l) => l.outcome === 'passed')) {
      const f = c.params[0] as { fromBlock: string; toBlock: string };
      expect(Number(BigInt(f.toBlock) - BigInt(f.fromBlock)) + 1).toBeLessThanOrEqual(3);
    }
    expect(logger.lines.some((l) => l.message.includes('node refused the log range'))).toBe(true);
  });

  it('dropping connections mid-answer: the runner backs off, retries, and every event arrives once', async () => {
    const server = await startScriptedRpc(chain.node.rpcUrl, { drops: 4, dropMethod: 'eth_getLogs' });
    servers.push(server);
    const { logger, status } = await ingestAllThrough(server.url);
    expect(server.calls.filter((c) => c.outcome === 'dropped')).toHaveLength(4);
    const backoffs = logger.lines.filter((l) => l.message.includes('backing off'));
    expect(backoffs.length).toBeGreaterThanOrEqual(4);
    expect(status.lastError).toBeNull();
  });
});
