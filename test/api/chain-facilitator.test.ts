/**
 * The chain facilitator against a real node with the protocol's USDC: it verifies what only the
 * chain knows (nonce unused, balance, the token's own check) on top of the offline checks,
 * settles by sending transferWithAuthorization (the answer is the chain's transaction hash, the
 * balances move by exactly the amount), settles a replay to the same transaction without moving
 * money twice, tells the journal what became of a settle, and reports a dead node as no answer.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseEventLogs, type Address, type Hex } from 'viem';
import { privateKeyToAccount } from 'viem/accounts';
import { ChainFacilitator, CHAIN_FAILURE } from '../../src/api/facilitator/chain.js';
import { FacilitatorError } from '../../src/api/facilitator/facilitator.js';
import { createFacilitator } from '../../src/api/facilitator/index.js';
import { ConfigError, loadConfig } from '../../src/config.js';
import { paymentHeader, type PaymentOptions } from '../../src/api/x402/client.js';
import { decodePaymentHeader } from '../../src/api/x402/payment-header.js';
import type { PaymentRequirements } from '../../src/api/x402/types.js';
import { mintUsdc, usdcAbi } from '../../src/chain/index.js';
import { localChainRequirements, startDeployedChain, type DeployedChain } from '../support/chain.js';

let chain: DeployedChain;
let facilitator: ChainFacilitator;
let payer: { privateKey: Hex; address: string };
let lessor: Address;
const PRICE = 10_000n;

beforeAll(async () => {
  chain = await startDeployedChain();
  facilitator = new ChainFacilitator({ rpcUrl: chain.node.rpcUrl, privateKey: chain.keys[9]!, settleTimeoutMs: 20_000 });
  payer = { privateKey: chain.keys[2]!, address: chain.addresses[2]! };
  lessor = chain.addresses[1]!;
  await mintUsdc(chain.writers[0]!, chain.reader, chain.deployment.contracts.USDC, [chain.addresses[2]!], 1_000_000n);
});
afterAll(async () => {
  await chain?.stop();
});

const requirements = (overrides: Partial<PaymentRequirements> = {}) => localChainRequirements(chain, lessor, PRICE, overrides);
const payment = (r: PaymentRequirements, options: PaymentOptions = {}) => decodePaymentHeader(paymentHeader(r, { payer, version: 2, ...options }));
const balance = (who: string) => chain.reader.readContract({ address: chain.deployment.contracts.USDC, abi: usdcAbi, functionName: 'balanceOf', args: [who as Address] });

describe('chain facilitator', () => {
  it('supports exact on the node\'s own chain only, in both versions', async () => {
    expect(await facilitator.supported()).toEqual([
      { x402Version: 1, scheme: 'exact', network: 'anvil' },
      { x402Version: 2, scheme: 'exact', network: 'eip155:31337' },
    ]);
  });

  it('settles on chain: the answer is the transaction hash, its receipt holds the Transfer, balances move by exactly the amount', async () => {
    const r = requirements();
    const p = payment(r);
    expect(await facilitator.verify(p, r)).toEqual({ isValid: true, payer: payer.address });
    const [payerBefore, lessorBefore] = [await balance(payer.address), await balance(lessor)];

    const settled = await facilitator.settle(p, r);
    expect(settled).toMatchObject({ success: true, network: 'eip155:31337', payer: payer.address });
    const receipt = await chain.reader.getTransactionReceipt({ hash: settled.transaction as Hex });
    expect(receipt.status).toBe('success');
    expect(receipt.from.toLowerCase()).toBe(facilitator.address.toLowerCase());
    const transfers = parseEventLogs({ abi: usdcAbi, eventName: 'Transfer', logs: receipt.logs });
    expect(transfers.map((t) => t.args)).toEqual([{ from: payer.address, to: lessor, value: PRICE }]);
    expect(await balance(payer.address)).toBe(payerBefore - PRICE);
    expect(await balance(lessor)).toBe(lessorBefore + PRICE);

    // A replay settles to the same transaction and moves nothing.
    expect(await facilitator.verify(p, r)).toMatchObject({ isValid: false, invalidReason: CHAIN_FAILURE.nonceUsed });
    expect(await facilitator.settle(p, r)).toMatchObject({ success: true, transaction: settled.transaction });
    expect(await balance(payer.address)).toBe(payerBefore - PRICE);
    expect(await facilitator.lookup(p, r)).toEqual({ state: 'settled', transaction: settled.transaction, payer: payer.address, network: 'eip155:31337' });
  });

  it('tells the journal an unused authorization was not settled', async () => {
    const r = requirements();
    expect(await facilitator.lookup(payment(r), r)).toEqual({ state: 'not_settled', reason: 'the authorization nonce is unused on chain' });
  });

  it('settles concurrent payments, each once, in its own transaction', async () => {
    const r = requirements();
    const payments = Array.from({ length: 4 }, () => payment(r));
    const before = await balance(lessor);
    const results = await Promise.all(payments.map((p) => facilitator.settle(p, r)));
    expect(results.every((s) => s.success)).toBe(true);
    expect(new Set(results.map((s) => s.transaction)).size).toBe(4);
    expect(await balance(lessor)).toBe(before + 4n * PRICE);
  });

  it('refuses without sending anything: too little balance, a forged signature, another recipient or amount, an expired window, another chain', async () => {
    const poor = { privateKey: chain.keys[7]!, address: chain.addresses[7]! };
    const r = requirements();
    const nonceBefore = await chain.reader.getTransactionCount({ address: facilitator.address });
    const cases: [PaymentOptions, PaymentRequirements, string | RegExp][] = [
      [{ payer: poor }, r, CHAIN_FAILURE.insufficientBalance],
      [{ signedAuthorization: { value: '1' } }, r, 'signature_mismatch'],
      [{ to: chain.addresses[3]! }, r, /recipient|pay_?to/i],
      [{ value: '9999' }, r, /amount|value/i],
      [{ validAfter: '1', validBefore: '2' }, r, /valid_before|expired/i],
    ];
    for (const [options, req, reason] of cases) {
      const p = payment(req, options);
      const verified = await facilitator.verify(p, req);
      expect(verified.isValid).toBe(false);
      expect(verified.invalidReason).toMatch(reason);
      const settled = await facilitator.settle(p, req);
      expect(settled).toMatchObject({ success: false, transaction: '' });
    }
    // A payment for Base Sepolia is not this node's to settle.
    const elsewhere = requirements({ network: 'base-sepolia' });
    expect(await facilitator.verify(payment(elsewhere), elsewhere)).toMatchObject({ isValid: false, invalidReason: CHAIN_FAILURE.wrongChain });
    expect(await chain.reader.getTransactionCount({ address: facilitator.address })).toBe(nonceBefore);
  });

  it('a signature under another token name is refused by the token itself (the simulation), before any transaction', async () => {
    const r = requirements({ extra: { name: 'USD Coin', version: '2' } });
    const verified = await facilitator.verify(payment(r), r);
    expect(verified).toMatchObject({ isValid: false, invalidReason: CHAIN_FAILURE.signature });
  });

  it('a node that does not answer is no answer (FacilitatorError UNAVAILABLE), not a refusal', async () => {
    const dead = new ChainFacilitator({ rpcUrl: 'http://127.0.0.1:9', privateKey: chain.keys[9]!, settleTimeoutMs: 2_000 });
    const r = requirements();
    await expect(dead.verify(payment(r), r)).rejects.toMatchObject({ name: 'FacilitatorError', code: 'UNAVAILABLE', operation: 'verify' });
    await expect(dead.settle(payment(r), r)).rejects.toBeInstanceOf(FacilitatorError);
    await expect(dead.supported()).rejects.toMatchObject({ code: 'UNAVAILABLE' });
    expect(privateKeyToAccount(chain.keys[9]!).address).toBe(dead.address);
  });
});

describe('FACILITATOR=chain configuration', () => {
  const KEY = `0x${'11'.repeat(32)}`;
  const problems = (env: Record<string, string>) => {
    try {
      loadConfig({ LEASING_MODE: 'development', ...env });
    } catch (error) {
      expect(error).toBeInstanceOf(ConfigError);
      return (error as ConfigError).problems;
    }
    return [];
  };

  it('needs CHAIN_RPC_URL and a 32-byte FACILITATOR_PRIVATE_KEY, and no FACILITATOR_URL', () => {
    expect(problems({ FACILITATOR: 'chain' })).toEqual([
      'FACILITATOR=chain needs CHAIN_RPC_URL (the EVM node to settle on)',
      'FACILITATOR=chain needs FACILITATOR_PRIVATE_KEY: 0x followed by 64 hex digits (the account that sends the transfers)',
    ]);
    expect(problems({ FACILITATOR: 'chain', CHAIN_RPC_URL: 'http://127.0.0.1:8545', FACILITATOR_PRIVATE_KEY: '0x1234' })).toHaveLength(1);
    expect(problems({ FACILITATOR: 'chain', CHAIN_RPC_URL: 'http://127.0.0.1:8545', FACILITATOR_PRIVATE_KEY: KEY, FACILITATOR_URL: 'http://f.example' })).toEqual([
      'FACILITATOR=chain settles on the node itself: unset FACILITATOR_URL',
    ]);
    expect(problems({ FACILITATOR: 'http' })).toEqual(['FACILITATOR=http needs FACILITATOR_URL']);
    expect(problems({ FACILITATOR: 'mainnet' })).toEqual(['FACILITATOR must be one of local, http, chain, got "mainnet"']);
  });

  it('builds the chain facilitator, and production accepts it in place of FACILITATOR_URL', () => {
    const env = { FACILITATOR: 'chain', CHAIN_RPC_URL: 'http://127.0.0.1:8545', FACILITATOR_PRIVATE_KEY: KEY };
    const config = loadConfig({ LEASING_MODE: 'development', ...env });
    expect(config.facilitator.chain).toEqual({ rpcUrl: 'http://127.0.0.1:8545', privateKey: KEY });
    expect(createFacilitator(config.facilitator).kind).toBe('chain');
    expect(createFacilitator(loadConfig({ LEASING_MODE: 'development' }).facilitator).kind).toBe('local');
    const production = problems({ LEASING_MODE: 'production', ...env, API_KEY: 'k'.repeat(16), DATABASE_URL: 'postgres://x@127.0.0.1/y' });
    expect(production).toEqual([]);
  });
});
