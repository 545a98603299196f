/**
 * The whole path a user follows, on the real local node and PostgreSQL: an asset registered on
 * chain, a lease offer posted and a bid accepted on chain (LeaseFactory mints the lease) -> the
 * service, started with CHAIN_DEPLOYMENT_FILE as `npm run dev:chain` writes it, ingests and
 * processes them: the asset and the active lease are stored under their on-chain ids -> the
 * lease's terms are attached offchain (its `agreement`) through PUT /api/leases/:id/agreement ->
 * the lessee pays access with the official `@x402/fetch` client and its own key, settled on chain
 * by FACILITATOR=chain -> USDC balances move by exactly the price, the stored settlement hash is
 * the chain's transaction, and each hour's batch total equals the token's Transfer events to the
 * lessor, read from the node. A replayed payment header moves nothing and counts nothing twice.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseEventLogs, type Address, type Hex } from 'viem';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { marketplaceAbi, usdcAbi } from '../../src/chain/contracts/index.js';
import { mintUsdc } from '../../src/chain/deploy.js';
import { writeDeploymentFile } from '../../src/chain/deployment-file.js';
import { startService, type RunningService } from '../../src/service.js';
import { API_KEY, AUTH, http } from '../api/support.js';
import { chainServiceEnv, localChainPayer, startDeployedChain, type DeployedChain } from '../support/chain.js';
import { createAssetType, mine, registerAssets, send, token, waitFor } from '../support/ingestion.js';
import { createTestDatabase, type TestDatabase } from '../support/pg.js';

// 36 tokens an hour (18 decimals): 10,000 USDC minor units a second.
const HOURLY = '36000000000000000000';
const PER_SECOND = 10_000n;
const BID = 1_000_000n;

let chain: DeployedChain;
let database: TestDatabase;
let dataDir: string;
let service: RunningService;
let lessor: Address;
let lessee: Address;
let acceptTx: Hex;

beforeAll(async () => {
  [chain, database, dataDir] = await Promise.all([startDeployedChain(), createTestDatabase(), mkdtemp(join(tmpdir(), 'chain-e2e-'))]);
  lessor = chain.addresses[1]!;
  lessee = chain.addresses[2]!;
  const { USDC } = chain.deployment.contracts;
  await mintUsdc(chain.writers[0]!, chain.reader, USDC, [lessee], 5_000_000n);
  // What `npm run dev:chain` writes, and the service reads with CHAIN_DEPLOYMENT_FILE.
  const deploymentFile = join(dataDir, 'local.json');
  await writeDeploymentFile(deploymentFile, {
    chainId: chain.deployment.chainId,
    rpcUrl: chain.node.rpcUrl,
    startBlock: Number(chain.deployment.deploymentBlock),
    contracts: chain.deployment.contracts,
  });
  service = await startService({
    signals: false,
    env: chainServiceEnv(chain, API_KEY, database.url, dataDir, { CHAIN_DEPLOYMENT_FILE: deploymentFile, CHAIN_CONFIRMATIONS: '2', CHAIN_POLL_MS: '50' }),
  });
}, 120_000);

afterAll(async () => {
  await service?.stop();
  await chain?.stop();
  await database?.drop();
  if (dataDir !== undefined) await rm(dataDir, { recursive: true, force: true });
});

const balance = (who: Address) => chain.reader.readContract({ address: chain.deployment.contracts.USDC, abi: usdcAbi, functionName: 'balanceOf', args: [who] });
type StoredPayment = { facilitatorTxHash: string; amountMinorUnits: string; paymentTimestamp: string; payer: string };
const payments = async (leaseId: string) => (await http(service.url, 'GET', `/api/leases/${leaseId}/payments?limit=100`)).body.items as StoredPayment[];

describe('chain to ledger, end to end', () => {
  let leaseId: string;
  let assetId: string;
  let firstHeader: string | undefined;
  let firstHash: string | undefined;

  it('an asset registered and a lease bid accepted on chain reach the store through the service\'s ingestion', async () => {
    const { Marketplace, USDC, AssetRegistry, LeaseFactory } = chain.deployment.contracts;
    await createAssetType(chain);
    await registerAssets(chain, [token(0xe2e)]);
    await send(chain, 1, { address: Marketplace, abi: marketplaceAbi, functionName: 'postLeaseOffer', args: [0n] });
    await send(chain, 2, { address: USDC, abi: usdcAbi, functionName: 'approve', args: [Marketplace, BID] });
    await send(chain, 2, { address: Marketplace, abi: marketplaceAbi, functionName: 'placeLeaseBid', args: [0n, BID] });
    acceptTx = await send(chain, 1, { address: Marketplace, abi: marketplaceAbi, functionName: 'acceptLeaseBid', args: [0n, 0n] });
    // Buried under the confirmations, so the service processes it.
    await mine(chain.node.rpcUrl, 3);

    const lease = await waitFor('the accepted lease to be stored active', async () => {
      const answer = await http(service.url, 'GET', '/api/leases/0');
      return answer.status === 200 && answer.body.status === 'active' ? answer.body : null;
    }, 60_000);
    // On-chain ids are the store's keys: lease token 0 of on-chain asset 0.
    leaseId = lease.leaseId;
    assetId = lease.assetId;
    expect(lease).toMatchObject({ leaseId: '0', assetId: '0', chainId: 31337, lessor, lessee, contractAddress: LeaseFactory.toLowerCase() });
    const asset = (await http(service.url, 'GET', `/api/assets/${assetId}`)).body;
    expect(asset).toMatchObject({ assetId: '0', chainId: 31337, contractAddress: AssetRegistry.toLowerCase() });
    expect(asset.tokenAddress.toLowerCase()).toBe(token(0xe2e));
    // The accept transaction carries LeaseMinted then LeaseAccepted; both are processed.
    const receipt = await chain.reader.getTransactionReceipt({ hash: acceptTx });
    const stored = await Promise.all(receipt.logs.map(async (log) => (await http(service.url, 'GET', `/api/events/${acceptTx}/${log.logIndex}`)).body));
    expect(stored.map((e: { eventName: string; processed: boolean }) => [e.eventName, e.processed])).toEqual(expect.arrayContaining([['LeaseMinted', true], ['LeaseAccepted', true]]));

    // Born on chain, the lease has no price terms yet: access cannot be paid for.
    const unpriced = await fetch(`${service.url}/api/leases/${leaseId}/access?mode=second`, { method: 'POST' });
    expect(unpriced.status).toBe(409);
    expect(((await unpriced.json()) as { error: { code: string } }).error.code).toBe('LEASE_NOT_PAYABLE');
  });

  it('the lease\'s terms are attached offchain, in its agreement, through the API', async () => {
    const day = 86_400_000;
    const agreement = {
      leaseId,
      assetId,
      lessorAddress: lessor,
      lesseeAddress: lessee,
      terms: {
        startDate: new Date(Date.now() - day).toISOString(),
        endDate: new Date(Date.now() + day).toISOString(),
        paymentAmount: HOURLY,
        paymentSchedule: 'per-second',
        currency: 'USDC',
        specificTerms: {},
      },
      status: 'active',
    };
    // Refused without the key, and a malformed price is a 400 that changes nothing.
    expect((await http(service.url, 'PUT', `/api/leases/${leaseId}/agreement`, { body: { agreement } })).status).toBe(401);
    const bad = await http(service.url, 'PUT', `/api/leases/${leaseId}/agreement`, { body: { agreement: { ...agreement, terms: { ...agreement.terms, paymentAmount: '1e3' } } }, headers: AUTH });
    expect(bad.status).toBe(400);
    expect(bad.body.error.code).toBe('VALIDATION');
    const other = await http(service.url, 'PUT', `/api/leases/${leaseId}/agreement`, { body: { agreement: { ...agreement, leaseId: 'L-other' } }, headers: AUTH });
    expect(other.status).toBe(400);
    expect((await http(service.url, 'GET', `/api/leases/${leaseId}`)).body.agreement.terms).toBeUndefined();

    const attached = await http(service.url, 'PUT', `/api/leases/${leaseId}/agreement`, { body: { agreement }, headers: AUTH });
    expect(attached.status).toBe(200);
    expect(attached.body).toMatchObject({ leaseId, status: 'active', lessor, lessee, agreement: { terms: { paymentAmount: HOURLY } } });
  });

  it('the lessee pays with its own key through @x402/fetch: balances move by exactly the price, the hash is the chain\'s', async () => {
    const { pay, sent } = localChainPayer(chain, chain.keys[2]!);
    const url = `${service.url}/api/leases/${leaseId}/access?mode=second`;

    const [payerBefore, lessorBefore] = [await balance(lessee), await balance(lessor)];
    const response = await pay(url, { method: 'POST' });
    expect(response.status).toBe(200);
    const body = (await response.json()) as { payment: { facilitatorTxHash: string; amountMinorUnits: string; payer: string } };
    expect(body.payment.amountMinorUnits).toBe(PER_SECOND.toString());
    expect(body.payment.payer.toLowerCase()).toBe(lessee.toLowerCase());
    firstHeader = sent.at(-1);
    firstHash = body.payment.facilitatorTxHash;
    expect(await balance(lessee)).toBe(payerBefore - PER_SECOND);
    expect(await balance(lessor)).toBe(lessorBefore + PER_SECOND);

    const receipt = await chain.reader.getTransactionReceipt({ hash: firstHash as Hex });
    expect(receipt.status).toBe('success');
    const transfers = parseEventLogs({ abi: usdcAbi, eventName: 'Transfer', logs: receipt.logs }).map((t) => t.args);
    expect(transfers).toEqual([{ from: lessee, to: lessor, value: PER_SECOND }]);

    for (let i = 0; i < 2; i++) expect((await pay(url, { method: 'POST' })).status).toBe(200);
    expect(await balance(lessor)).toBe(lessorBefore + 3n * PER_SECOND);
    expect(await balance(lessee)).toBe(payerBefore - 3n * PER_SECOND);
    const stored = await payments(leaseId);
    expect(stored).toHaveLength(3);
    for (const p of stored) expect((await chain.reader.getTransactionReceipt({ hash: p.facilitatorTxHash as Hex })).status).toBe('success');
  });

  it('a replayed payment header moves no money and is not counted twice', async () => {
    expect(firstHeader).toBeDefined();
    const before = { lessor: await balance(lessor), payments: await payments(leaseId), block: await chain.reader.getBlockNumber({ cacheTime: 0 }) };
    const replay = await fetch(`${service.url}/api/leases/${leaseId}/access?mode=second`, { method: 'POST', headers: { 'payment-signature': firstHeader! } });
    if (replay.status === 200) {
      expect(((await replay.json()) as { payment: { facilitatorTxHash: string } }).payment.facilitatorTxHash).toBe(firstHash);
    } else {
      expect(replay.status).toBeGreaterThanOrEqual(400);
      expect(replay.status).toBeLessThan(500);
    }
    expect(await balance(lessor)).toBe(before.lessor);
    expect(await payments(leaseId)).toEqual(before.payments);
    // No transaction was sent for it (the ingestion reads the chain, it never writes).
    expect(await chain.reader.getBlockNumber({ cacheTime: 0 })).toBe(before.block);
  });

  it('each hour\'s batch total equals the token\'s Transfer events to the lessor for that lease and hour, read from the node', async () => {
    const stored = await payments(leaseId);
    const batches = (await http(service.url, 'GET', `/api/leases/${leaseId}/batches`)).body.items as { hourBucket: string; totalAmountMinorUnits: string; paymentCount: number }[];
    expect(batches.length).toBeGreaterThan(0);
    // Every Transfer the lessor ever received (the accepted bid stays in the marketplace as revenue).
    const received = await chain.reader.getContractEvents({ address: chain.deployment.contracts.USDC, abi: usdcAbi, eventName: 'Transfer', args: { to: lessor }, fromBlock: chain.deployment.deploymentBlock });
    expect(received.map((t) => t.transactionHash).sort()).toEqual(stored.map((p) => p.facilitatorTxHash).sort());
    // Each transfer belongs to the hour of its block on the node's clock and to this lease through its payment.
    const onChainByHour = new Map<string, bigint>();
    for (const t of received) {
      const block = await chain.reader.getBlock({ blockNumber: t.blockNumber });
      const payment = stored.find((p) => p.facilitatorTxHash === t.transactionHash)!;
      expect(t.args.from).toBe(lessee);
      expect(t.args.value).toBe(BigInt(payment.amountMinorUnits));
      // The payment is booked at its access instant; its block is mined during the settle that
      // follows, so the block is never earlier than the booked second.
      const paidHour = `${payment.paymentTimestamp.slice(0, 13)}:00:00.000Z`;
      expect(Number(block.timestamp)).toBeGreaterThanOrEqual(Math.floor(Date.parse(payment.paymentTimestamp) / 1000) - 1);
      onChainByHour.set(paidHour, (onChainByHour.get(paidHour) ?? 0n) + (t.args.value ?? 0n));
    }
    for (const batch of batches) {
      expect(BigInt(batch.totalAmountMinorUnits)).toBe(onChainByHour.get(batch.hourBucket) ?? 0n);
      expect(batch.paymentCount).toBe(stored.filter((p) => p.paymentTimestamp.startsWith(batch.hourBucket.slice(0, 13))).length);
    }
    expect([...onChainByHour.keys()].sort()).toEqual(batches.map((b) => b.hourBucket).sort());
  });
});
