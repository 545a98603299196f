/**
 * The chain facilitator's lookup (the settlement journal's question after a crash) reads only the
 * blocks a settlement can be in: 100,000 blocks older than the authorization's validAfter are
 * never asked for. A recording JSON-RPC proxy in front of the real node shows every
 * `eth_getLogs` range and counts the block reads the search costs.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { type Address, type Hex } from 'viem';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ChainFacilitator } from '../../src/api/facilitator/chain.js';
import { ConfigError, loadConfig } from '../../src/config.js';
import { paymentHeader } from '../../src/api/x402/client.js';
import { decodePaymentHeader } from '../../src/api/x402/payment-header.js';
import { mintUsdc } from '../../src/chain/index.js';
import { localChainRequirements, startDeployedChain, type DeployedChain } from '../support/chain.js';
import { rpc } from '../support/ingestion.js';

const OLD_BLOCKS = 100_000;
const PRICE = 10_000n;

let chain: DeployedChain;
let proxy: Server;
let proxyUrl: string;
const calls: { method: string; params: unknown[] }[] = [];

beforeAll(async () => {
  chain = await startDeployedChain();
  await mintUsdc(chain.writers[0]!, chain.reader, chain.deployment.contracts.USDC, [chain.addresses[2]!], 1_000_000n);
  proxy = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (c: Buffer) => chunks.push(c));
    request.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      const parsed = JSON.parse(body) as { method: string; params?: unknown[] } | { method: string; params?: unknown[] }[];
      for (const call of Array.isArray(parsed) ? parsed : [parsed]) calls.push({ method: call.method, params: call.params ?? [] });
      void fetch(chain.node.rpcUrl, { method: 'POST', headers: { 'content-type': 'application/json' }, body }).then(async (answer) => {
        response.writeHead(answer.status, { 'content-type': 'application/json' });
        response.end(await answer.text());
      });
    });
  });
  await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
  proxyUrl = `http://127.0.0.1:${(proxy.address() as AddressInfo).port}`;
}, 60_000);

afterAll(async () => {
  await new Promise((resolve) => proxy?.close(resolve));
  await chain?.stop();
});

const requirements = () => localChainRequirements(chain, chain.addresses[1]!, PRICE);

describe('chain facilitator lookup', () => {
  it('searches only the blocks after validAfter: 100,000 older blocks are never read for logs', async () => {
    // 100,000 blocks, all stamped with the same second (interval 0), all at or before validAfter.
    await rpc(chain.node.rpcUrl, 'hardhat_mine', [`0x${OLD_BLOCKS.toString(16)}`, '0x0']);
    const old = await chain.reader.getBlock({ blockTag: 'latest' });
    // One block two seconds later: the node then simulates at a time after validAfter (old + 1).
    await rpc(chain.node.rpcUrl, 'evm_setNextBlockTimestamp', [Number(old.timestamp) + 2]);
    await rpc(chain.node.rpcUrl, 'evm_mine');
    const validAfter = old.timestamp + 1n;
    // The node's clock may run ahead of this one: the offline window check reads the later of the two.
    const nowSeconds = Math.max(Math.floor(Date.now() / 1000), Number(old.timestamp) + 3);
    const facilitator = new ChainFacilitator({ rpcUrl: proxyUrl, privateKey: chain.keys[9]!, settleTimeoutMs: 20_000, now: () => new Date(nowSeconds * 1000) });
    const r = requirements();
    const p = decodePaymentHeader(
      paymentHeader(r, { payer: { privateKey: chain.keys[2]!, address: chain.addresses[2]! }, version: 2, validAfter: validAfter.toString(), validBefore: String(nowSeconds + 50) }),
    );
    const settled = await facilitator.settle(p, r);
    expect(settled.errorReason).toBeUndefined();
    const receipt = await chain.reader.getTransactionReceipt({ hash: settled.transaction as Hex });
    expect(receipt.blockNumber).toBeGreaterThan(old.number);

    calls.length = 0;
    expect(await facilitator.lookup(p, r)).toEqual({ state: 'settled', transaction: settled.transaction, payer: chain.addresses[2] as Address, network: 'eip155:31337' });
    const ranges = calls.filter((c) => c.method === 'eth_getLogs').map((c) => c.params[0] as { fromBlock: Hex; toBlock: Hex });
    expect(ranges.length).toBeGreaterThan(0);
    for (const range of ranges) {
      expect(BigInt(range.fromBlock)).toBeGreaterThan(old.number);
      expect(BigInt(range.toBlock)).toBeGreaterThanOrEqual(receipt.blockNumber);
    }
    // Bisecting block timestamps: about log2(blocks) reads per bound, not one per block.
    const blockReads = calls.filter((c) => c.method === 'eth_getBlockByNumber').length;
    expect(blockReads).toBeLessThanOrEqual(2 * (Math.ceil(Math.log2(Number(receipt.blockNumber) + 2)) + 1));

    // A replayed settle of the same authorization answers the same transaction from the same bounded search.
    calls.length = 0;
    expect(await facilitator.settle(p, r)).toMatchObject({ success: true, transaction: settled.transaction });
    for (const c of calls.filter((x) => x.method === 'eth_getLogs')) expect(BigInt((c.params[0] as { fromBlock: Hex }).fromBlock)).toBeGreaterThan(old.number);
    expect(calls.some((c) => c.method === 'eth_sendRawTransaction')).toBe(false);
  });

  it('an unused nonce is answered from authorizationState, with no log search at all', async () => {
    const facilitator = new ChainFacilitator({ rpcUrl: proxyUrl, privateKey: chain.keys[9]!, settleTimeoutMs: 20_000 });
    const r = requirements();
    const p = decodePaymentHeader(paymentHeader(r, { payer: { privateKey: chain.keys[2]!, address: chain.addresses[2]! }, version: 2 }));
    calls.length = 0;
    expect(await facilitator.lookup(p, r)).toMatchObject({ state: 'not_settled' });
    expect(calls.filter((c) => c.method === 'eth_getLogs')).toEqual([]);
  });

  it('never reads below searchFromBlock, in ranges of searchBlockRange blocks, newest first', async () => {
    const head = await chain.reader.getBlockNumber({ cacheTime: 0 });
    const facilitator = new ChainFacilitator({ rpcUrl: proxyUrl, privateKey: chain.keys[9]!, settleTimeoutMs: 20_000, searchFromBlock: head - 5n, searchBlockRange: 2n });
    const r = requirements();
    // validAfter 0: only the floor bounds the search.
    const p = decodePaymentHeader(paymentHeader(r, { payer: { privateKey: chain.keys[2]!, address: chain.addresses[2]! }, version: 2, validAfter: '0' }));
    const settled = await facilitator.settle(p, r);
    expect(settled.success).toBe(true);
    calls.length = 0;
    expect(await facilitator.lookup(p, r)).toMatchObject({ state: 'settled', transaction: settled.transaction });
    const ranges = calls.filter((c) => c.method === 'eth_getLogs').map((c) => c.params[0] as { fromBlock: Hex; toBlock: Hex });
    // The settlement is the newest block: the first range of two finds it.
    expect(ranges).toHaveLength(1);
    expect(BigInt(ranges[0]!.toBlock) - BigInt(ranges[0]!.fromBlock)).toBe(1n);
    expect(BigInt(ranges[0]!.fromBlock)).toBeGreaterThanOrEqual(head - 5n);
  });

  it('FACILITATOR_SEARCH_FROM_BLOCK sets the floor (plain digits only)', () => {
    const env = { LEASING_MODE: 'development', FACILITATOR: 'chain', CHAIN_RPC_URL: 'http://127.0.0.1:8545', FACILITATOR_PRIVATE_KEY: `0x${'11'.repeat(32)}` };
    expect(loadConfig(env).facilitator.chain?.searchFromBlock).toBeUndefined();
    expect(loadConfig({ ...env, FACILITATOR_SEARCH_FROM_BLOCK: '123456' }).facilitator.chain?.searchFromBlock).toBe(123456);
    for (const bad of ['1e3', '0x10', '-1']) {
      expect(() => loadConfig({ ...env, FACILITATOR_SEARCH_FROM_BLOCK: bad })).toThrow(ConfigError);
    }
  });
});
