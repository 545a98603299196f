/**
 * End to end on a real chain: the service (PostgreSQL, FACILITATOR=chain) is paid by the official
 * `@x402/fetch` v2 client with a funded key of the local node. Each payment settles on chain by
 * transferWithAuthorization: the USDC balances move by exactly the price, the stored payment's
 * facilitatorTxHash is the chain's transaction whose receipt holds the Transfer, a replayed
 * payment header moves no money and records nothing twice, and each hour's batch total equals
 * the chain's Transfer events to the lessor for that lease and hour.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseEventLogs, type Address, type Hex } from 'viem';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startService, type RunningService } from '../../src/service.js';
import { mintUsdc, usdcAbi } from '../../src/chain/index.js';
import { API_KEY, AUTH, assetBody, http, leaseBody } from '../api/support.js';
import { chainServiceEnv, localChainPayer, startDeployedChain, type DeployedChain } from '../support/chain.js';
import { createTestDatabase, type TestDatabase } from '../support/pg.js';

// 36 tokens an hour (18 decimals): 10,000 USDC minor units a second.
const PRICE = { paymentAmount: '36000000000000000000' };
const PER_SECOND = 10_000n;

let chain: DeployedChain;
let database: TestDatabase;
let dataDir: string;
let service: RunningService;
let lessor: Address;
let payerKey: Hex;

beforeAll(async () => {
  [chain, database, dataDir] = await Promise.all([startDeployedChain(), createTestDatabase(), mkdtemp(join(tmpdir(), 'chain-settlement-'))]);
  lessor = chain.addresses[1]!;
  payerKey = chain.keys[2]!;
  await mintUsdc(chain.writers[0]!, chain.reader, chain.deployment.contracts.USDC, [chain.addresses[2]!], 5_000_000n);
  service = await startService({
    signals: false,
    env: chainServiceEnv(chain, API_KEY, database.url, dataDir),
  });
  const asset = await http(service.url, 'POST', '/api/assets', { body: { ...assetBody('A-CHAIN'), chainId: 31337 }, headers: AUTH });
  expect(asset.status).toBe(201);
  const lease = await http(service.url, 'POST', '/api/leases', { body: { ...leaseBody('L-CHAIN', 'A-CHAIN', PRICE), chainId: 31337, lessor }, headers: AUTH });
  expect(lease.status).toBe(201);
  expect((await http(service.url, 'PATCH', '/api/leases/L-CHAIN/status', { body: { status: 'active' }, headers: AUTH })).status).toBe(200);
});

afterAll(async () => {
  await service?.stop();
  await chain?.stop();
  await database?.drop();
  if (dataDir !== undefined) await rm(dataDir, { recursive: true, force: true });
});

const balance = (who: Address) => chain.reader.readContract({ address: chain.deployment.contracts.USDC, abi: usdcAbi, functionName: 'balanceOf', args: [who] });
const payments = async () => (await http(service.url, 'GET', '/api/leases/L-CHAIN/payments?limit=100')).body.items as { facilitatorTxHash: string; amountMinorUnits: string; paymentTimestamp: string; payer: string }[];
const transfersIn = async (hash: string) =>
  parseEventLogs({ abi: usdcAbi, eventName: 'Transfer', logs: (await chain.reader.getTransactionReceipt({ hash: hash as Hex })).logs }).filter((t) => t.args.to === lessor);

describe('x402 settled on the local chain', () => {
  const url = () => `${service.url}/api/leases/L-CHAIN/access?mode=second`;
  let firstHeader: string | undefined;
  let firstHash: string | undefined;

  it('the service announces the node\'s USDC on eip155:31337, and the official client pays: balances move by exactly the price, the hash is the chain\'s', async () => {
    // The local USDC is not one of x402's default assets: the client allows it explicitly, capped.
    const { pay, sent, address: payer } = localChainPayer(chain, payerKey);

    const [payerBefore, lessorBefore] = [await balance(payer), await balance(lessor)];
    const response = await pay(url(), { method: 'POST' });
    expect(response.status).toBe(200);
    const body = (await response.json()) as { payment: { facilitatorTxHash: string; amountMinorUnits: string; payer: string } };
    expect(body.payment.amountMinorUnits).toBe(PER_SECOND.toString());
    expect(body.payment.payer.toLowerCase()).toBe(payer.toLowerCase());
    firstHeader = sent.at(-1);
    firstHash = body.payment.facilitatorTxHash;
    expect(firstHeader).toBeDefined();

    expect(await balance(payer)).toBe(payerBefore - PER_SECOND);
    expect(await balance(lessor)).toBe(lessorBefore + PER_SECOND);
    const receipt = await chain.reader.getTransactionReceipt({ hash: body.payment.facilitatorTxHash as Hex });
    expect(receipt.status).toBe('success');
    expect((await transfersIn(receipt.transactionHash)).map((t) => t.args)).toEqual([{ from: payer, to: lessor, value: PER_SECOND }]);
    expect((await payments()).map((p) => p.facilitatorTxHash)).toEqual([receipt.transactionHash]);

    // Two more payments through the same client: each its own transaction.
    for (let i = 0; i < 2; i++) expect((await pay(url(), { method: 'POST' })).status).toBe(200);
    expect(await balance(lessor)).toBe(lessorBefore + 3n * PER_SECOND);
  });

  it('a replayed payment header moves no money and records nothing twice', async () => {
    expect(firstHeader).toBeDefined();
    const before = { lessor: await balance(lessor), payments: await payments(), block: await chain.reader.getBlockNumber() };
    const replay = await fetch(url(), { method: 'POST', headers: { 'payment-signature': firstHeader! } });
    // Inside the interval it paid for, the same grant; after it, a refusal: never a new settle.
    if (replay.status === 200) {
      const body = (await replay.json()) as { payment: { facilitatorTxHash: string } };
      expect(body.payment.facilitatorTxHash).toBe(firstHash);
    } else {
      expect(replay.status).toBeGreaterThanOrEqual(400);
      expect(replay.status).toBeLessThan(500);
    }
    expect(await balance(lessor)).toBe(before.lessor);
    expect(await payments()).toEqual(before.payments);
    expect(await chain.reader.getBlockNumber()).toBe(before.block);
  });

  it('each hour\'s batch total equals the chain\'s Transfer events to the lessor for that lease and hour', async () => {
    const stored = await payments();
    expect(stored).toHaveLength(3);
    const batches = (await http(service.url, 'GET', '/api/leases/L-CHAIN/batches')).body.items as { hourBucket: string; totalAmountMinorUnits: string; paymentCount: number }[];
    const hourOf = (iso: string) => `${iso.slice(0, 13)}:00:00.000Z`;
    for (const batch of batches) {
      const hashes = stored.filter((p) => hourOf(p.paymentTimestamp) === batch.hourBucket).map((p) => p.facilitatorTxHash);
      expect(hashes).toHaveLength(batch.paymentCount);
      let onChain = 0n;
      for (const hash of hashes) for (const t of await transfersIn(hash)) onChain += t.args.value;
      expect(BigInt(batch.totalAmountMinorUnits)).toBe(onChain);
    }
    // And overall: every Transfer the lessor ever received is one of this lease's payments.
    const all = await chain.reader.getContractEvents({ address: chain.deployment.contracts.USDC, abi: usdcAbi, eventName: 'Transfer', args: { to: lessor }, fromBlock: chain.deployment.deploymentBlock });
    expect(all.map((t) => t.transactionHash).sort()).toEqual(stored.map((p) => p.facilitatorTxHash).sort());
    expect(batches.reduce((sum, b) => sum + BigInt(b.totalAmountMinorUnits), 0n)).toBe(all.reduce((sum, t) => sum + (t.args.value ?? 0n), 0n));
  });
});
