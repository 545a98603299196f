/**
 * The protocol's contracts on a real EVM node (Hardhat 2 / EDR): every function is called and
 * every event decoded with viem from the committed ABIs, with the exact arguments the domain
 * notes give (uint256 arguments come back as bigint). Ids start at 0.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { keccak256, parseEventLogs, parseSignature, toHex, type Abi, type Address, type Hash, type Hex } from 'viem';
import { privateKeyToAccount } from 'viem/accounts';
import { assetRegistryAbi, leaseFactoryAbi, marketplaceAbi, usdcAbi } from '../../src/chain/index.js';
import { startDeployedChain, type DeployedChain } from '../support/chain.js';

let chain: DeployedChain;
const ALL_ABIS = [...assetRegistryAbi, ...leaseFactoryAbi, ...marketplaceAbi, ...usdcAbi] as const;

beforeAll(async () => {
  chain = await startDeployedChain();
});

afterAll(async () => {
  await chain?.stop();
});

/** Waits for `hash`, requires success, and returns its logs decoded with every protocol ABI. */
async function events(hash: Hash) {
  const receipt = await chain.reader.waitForTransactionReceipt({ hash });
  expect(receipt.status).toBe('success');
  return parseEventLogs({ abi: ALL_ABIS as unknown as Abi, logs: receipt.logs }) as unknown as { eventName: string; args: Record<string, unknown>; address: Address; logIndex: number }[];
}

const account = (i: number) => {
  const writer = chain.writers[i];
  if (writer === undefined) throw new Error(`no account ${i}`);
  return writer;
};
const address = (i: number) => account(i).account.address;

const VEHICLE = keccak256(toHex('vehicle'));
const KEYS = [keccak256(toHex('vin')), keccak256(toHex('mileage'))] as const;

describe('deployment', () => {
  it('deploys four contracts with code, at or after the deployment block, and a 6-decimal USDC named as the service announces', async () => {
    const { contracts, deploymentBlock, chainId } = chain.deployment;
    expect(chainId).toBe(31337);
    expect(new Set(Object.values(contracts)).size).toBe(4);
    for (const contract of Object.values(contracts)) expect((await chain.reader.getCode({ address: contract }))?.length).toBeGreaterThan(2);
    expect(deploymentBlock).toBeGreaterThan(0n);
    expect(deploymentBlock).toBeLessThanOrEqual(await chain.reader.getBlockNumber());
    const usdc = { address: contracts.USDC, abi: usdcAbi } as const;
    expect(await chain.reader.readContract({ ...usdc, functionName: 'name' })).toBe('USDC');
    expect(await chain.reader.readContract({ ...usdc, functionName: 'version' })).toBe('2');
    expect(await chain.reader.readContract({ ...usdc, functionName: 'decimals' })).toBe(6);
    expect(await chain.reader.readContract({ ...usdc, functionName: 'minter' })).toBe(address(0));
  });
});

describe('AssetRegistry', () => {
  it('creates an asset type: AssetTypeCreated(string indexed name, bytes32 indexed assetType, bytes32[] requiredLeaseKeys)', async () => {
    const registry = chain.deployment.contracts.AssetRegistry;
    const logs = await events(await account(1).writeContract({ address: registry, abi: assetRegistryAbi, functionName: 'createAssetType', args: ['vehicle', [...KEYS]] }));
    expect(logs).toHaveLength(1);
    expect(logs[0]).toMatchObject({
      eventName: 'AssetTypeCreated',
      address: registry.toLowerCase(),
      // An indexed string is stored as its hash: the topic is keccak256(name).
      args: { name: VEHICLE, assetType: VEHICLE, requiredLeaseKeys: [...KEYS] },
    });
    expect(await chain.reader.readContract({ address: registry, abi: assetRegistryAbi, functionName: 'requiredLeaseKeysOfType', args: [VEHICLE] })).toEqual([...KEYS]);
    await expect(account(1).writeContract({ address: registry, abi: assetRegistryAbi, functionName: 'createAssetType', args: ['vehicle', []] })).rejects.toThrow(/AssetTypeExists/);
  });

  it('registers assets from id 0, one at a time and in bulk: AssetRegistered(uint256 indexed assetId, bytes32 indexed assetType, address tokenAddress)', async () => {
    const registry = chain.deployment.contracts.AssetRegistry;
    const token = (n: number): Address => `0x${n.toString(16).padStart(40, '0')}`;
    const one = await events(await account(1).writeContract({ address: registry, abi: assetRegistryAbi, functionName: 'registerAsset', args: [VEHICLE, token(100)] }));
    expect(one).toMatchObject([{ eventName: 'AssetRegistered', args: { assetId: 0n, assetType: VEHICLE, tokenAddress: token(100) } }]);

    const bulk = await events(await account(1).writeContract({ address: registry, abi: assetRegistryAbi, functionName: 'registerAssets', args: [VEHICLE, [token(101), token(102), token(103)]] }));
    expect(bulk.map((l) => [l.eventName, l.args.assetId, l.args.tokenAddress])).toEqual([
      ['AssetRegistered', 1n, token(101)],
      ['AssetRegistered', 2n, token(102)],
      ['AssetRegistered', 3n, token(103)],
    ]);
    expect(bulk.map((l) => l.logIndex)).toEqual([0, 1, 2]);
    expect(await chain.reader.readContract({ address: registry, abi: assetRegistryAbi, functionName: 'assetCount' })).toBe(4n);
    expect(await chain.reader.readContract({ address: registry, abi: assetRegistryAbi, functionName: 'ownerOf', args: [2n] })).toBe(address(1));
    expect(await chain.reader.readContract({ address: registry, abi: assetRegistryAbi, functionName: 'assetOf', args: [3n] })).toEqual([VEHICLE, token(103)]);
    await expect(account(1).writeContract({ address: registry, abi: assetRegistryAbi, functionName: 'registerAsset', args: [keccak256(toHex('boat')), token(1)] })).rejects.toThrow(/UnknownAssetType/);
    await expect(account(2).writeContract({ address: registry, abi: assetRegistryAbi, functionName: 'transferAsset', args: [0n, address(2)] })).rejects.toThrow(/NotAllowed/);
  });
});

describe('LeaseFactory', () => {
  it('lets an asset owner mint leases from token id 0: LeaseMinted(uint256 indexed tokenId, address indexed lessor, address indexed lessee, uint256 assetId)', async () => {
    const factory = chain.deployment.contracts.LeaseFactory;
    const one = await events(await account(1).writeContract({ address: factory, abi: leaseFactoryAbi, functionName: 'mintLease', args: [address(1), address(2), 0n] }));
    expect(one).toMatchObject([{ eventName: 'LeaseMinted', args: { tokenId: 0n, lessor: address(1), lessee: address(2), assetId: 0n } }]);
    const bulk = await events(await account(1).writeContract({ address: factory, abi: leaseFactoryAbi, functionName: 'mintLeases', args: [address(3), [1n, 2n]] }));
    expect(bulk.map((l) => [l.args.tokenId, l.args.lessor, l.args.lessee, l.args.assetId])).toEqual([
      [1n, address(1), address(3), 1n],
      [2n, address(1), address(3), 2n],
    ]);
    expect(await chain.reader.readContract({ address: factory, abi: leaseFactoryAbi, functionName: 'leaseOf', args: [1n] })).toEqual([address(1), address(3), 1n]);
    // Only the owner of the asset (or the marketplace) may mint its leases.
    await expect(account(2).writeContract({ address: factory, abi: leaseFactoryAbi, functionName: 'mintLease', args: [address(2), address(2), 0n] })).rejects.toThrow(/NotAllowed/);
    await expect(account(2).writeContract({ address: factory, abi: leaseFactoryAbi, functionName: 'mintLeases', args: [address(2), [0n]] })).rejects.toThrow(/NotAllowed/);
  });
});

describe('Marketplace', () => {
  const FUNDS = 2_500_000n; // 2.5 USDC

  async function fund(i: number, amount: bigint) {
    const { USDC, Marketplace } = chain.deployment.contracts;
    await events(await account(0).writeContract({ address: USDC, abi: usdcAbi, functionName: 'mint', args: [address(i), amount] }));
    await events(await account(i).writeContract({ address: USDC, abi: usdcAbi, functionName: 'approve', args: [Marketplace, amount] }));
  }
  const balance = (who: Address) => chain.reader.readContract({ address: chain.deployment.contracts.USDC, abi: usdcAbi, functionName: 'balanceOf', args: [who] });

  it('runs a lease offer: posted, two bids in escrow, one accepted (LeaseMinted and LeaseAccepted with the same token id), the other withdrawn, revenue claimed', async () => {
    const { Marketplace, LeaseFactory } = chain.deployment.contracts;
    const market = { address: Marketplace, abi: marketplaceAbi } as const;
    await fund(2, FUNDS);
    await fund(3, FUNDS);

    const posted = await events(await account(1).writeContract({ ...market, functionName: 'postLeaseOffer', args: [3n] }));
    expect(posted).toMatchObject([{ eventName: 'LeaseOfferPosted', args: { offerId: 0n, lessor: address(1), assetId: 3n } }]);
    await expect(account(2).writeContract({ ...market, functionName: 'postLeaseOffer', args: [3n] })).rejects.toThrow(/NotAssetOwner/);

    const bid0 = await events(await account(2).writeContract({ ...market, functionName: 'placeLeaseBid', args: [0n, FUNDS] }));
    expect(bid0.find((l) => l.eventName === 'LeaseBidPlaced')).toMatchObject({ args: { offerId: 0n, bidIndex: 0n, bidder: address(2), funds: FUNDS } });
    expect(bid0.find((l) => l.eventName === 'Transfer')).toMatchObject({ args: { from: address(2), to: Marketplace, value: FUNDS } });
    const bid1 = await events(await account(3).writeContract({ ...market, functionName: 'placeLeaseBid', args: [0n, 1_000_000n] }));
    expect(bid1.find((l) => l.eventName === 'LeaseBidPlaced')).toMatchObject({ args: { offerId: 0n, bidIndex: 1n, bidder: address(3), funds: 1_000_000n } });
    expect(await balance(Marketplace)).toBe(FUNDS + 1_000_000n);

    await expect(account(2).writeContract({ ...market, functionName: 'acceptLeaseBid', args: [0n, 0n] })).rejects.toThrow(/NotAllowed/);
    const accepted = await events(await account(1).writeContract({ ...market, functionName: 'acceptLeaseBid', args: [0n, 0n] }));
    const minted = accepted.find((l) => l.eventName === 'LeaseMinted');
    const acceptedEvent = accepted.find((l) => l.eventName === 'LeaseAccepted');
    // Leases 0..2 were minted directly above, so this one is token 3.
    expect(minted).toMatchObject({ address: LeaseFactory.toLowerCase(), args: { tokenId: 3n, lessor: address(1), lessee: address(2), assetId: 3n } });
    expect(acceptedEvent).toMatchObject({ address: Marketplace.toLowerCase(), args: { offerId: 0n, bidIndex: 0n, lessee: address(2), leaseTokenId: 3n } });
    expect(await chain.reader.readContract({ ...market, functionName: 'offerOf', args: [0n] })).toEqual([address(1), 3n, false]);
    await expect(account(3).writeContract({ ...market, functionName: 'placeLeaseBid', args: [0n, 0n] })).rejects.toThrow(/ListingClosed/);

    await expect(account(2).writeContract({ ...market, functionName: 'withdrawLeaseBid', args: [0n, 0n] })).rejects.toThrow(/BidNotActive/);
    await expect(account(2).writeContract({ ...market, functionName: 'withdrawLeaseBid', args: [0n, 1n] })).rejects.toThrow(/NotAllowed/);
    const withdrawn = await events(await account(3).writeContract({ ...market, functionName: 'withdrawLeaseBid', args: [0n, 1n] }));
    expect(withdrawn).toMatchObject([{ eventName: 'Transfer', args: { from: Marketplace, to: address(3), value: 1_000_000n } }]);

    expect(await chain.reader.readContract({ ...market, functionName: 'revenueOf', args: [address(1)] })).toBe(FUNDS);
    const lessorBefore = await balance(address(1));
    const claimed = await events(await account(1).writeContract({ ...market, functionName: 'claimRevenue' }));
    expect(claimed.find((l) => l.eventName === 'RevenueClaimed')).toMatchObject({ args: { account: address(1), share: FUNDS } });
    expect(await balance(address(1))).toBe(lessorBefore + FUNDS);
    expect(await balance(Marketplace)).toBe(0n);
    await expect(account(1).writeContract({ ...market, functionName: 'claimRevenue' })).rejects.toThrow(/NothingToClaim/);
  });

  it('runs a sale: SalePosted, SaleBidPlaced twice, SaleBidAccepted moves the asset, SaleBidRefunded returns the other bid', async () => {
    const { Marketplace, AssetRegistry } = chain.deployment.contracts;
    const market = { address: Marketplace, abi: marketplaceAbi } as const;
    await fund(4, 5_000_000n);
    await fund(5, 4_000_000n);

    const posted = await events(await account(1).writeContract({ ...market, functionName: 'postSale', args: [2n, 5_000_000n] }));
    expect(posted).toMatchObject([{ eventName: 'SalePosted', args: { saleId: 0n, seller: address(1), assetId: 2n, price: 5_000_000n } }]);
    const bid0 = await events(await account(4).writeContract({ ...market, functionName: 'placeSaleBid', args: [0n, 5_000_000n] }));
    expect(bid0.find((l) => l.eventName === 'SaleBidPlaced')).toMatchObject({ args: { saleId: 0n, bidIndex: 0n, bidder: address(4), amount: 5_000_000n } });
    const bid1 = await events(await account(5).writeContract({ ...market, functionName: 'placeSaleBid', args: [0n, 4_000_000n] }));
    expect(bid1.find((l) => l.eventName === 'SaleBidPlaced')).toMatchObject({ args: { saleId: 0n, bidIndex: 1n, bidder: address(5), amount: 4_000_000n } });

    const accepted = await events(await account(1).writeContract({ ...market, functionName: 'acceptSaleBid', args: [0n, 0n] }));
    expect(accepted).toMatchObject([{ eventName: 'SaleBidAccepted', args: { saleId: 0n, bidIndex: 0n, buyer: address(4), amount: 5_000_000n } }]);
    expect(await chain.reader.readContract({ address: AssetRegistry, abi: assetRegistryAbi, functionName: 'ownerOf', args: [2n] })).toBe(address(4));
    expect(await chain.reader.readContract({ ...market, functionName: 'saleOf', args: [0n] })).toEqual([address(1), 2n, 5_000_000n, false]);

    const refunded = await events(await account(5).writeContract({ ...market, functionName: 'refundSaleBid', args: [0n, 1n] }));
    expect(refunded.find((l) => l.eventName === 'SaleBidRefunded')).toMatchObject({ args: { saleId: 0n, bidIndex: 1n, bidder: address(5), amount: 4_000_000n } });
    expect(await balance(address(5))).toBe(4_000_000n);
    await expect(account(5).writeContract({ ...market, functionName: 'refundSaleBid', args: [0n, 1n] })).rejects.toThrow(/BidNotActive/);
    // The old owner can no longer offer or sell it; the buyer can.
    await expect(account(1).writeContract({ ...market, functionName: 'postSale', args: [2n, 1n] })).rejects.toThrow(/NotAssetOwner/);
    const resale = await events(await account(4).writeContract({ ...market, functionName: 'postSale', args: [2n, 7n] }));
    expect(resale).toMatchObject([{ eventName: 'SalePosted', args: { saleId: 1n, seller: address(4), assetId: 2n, price: 7n } }]);
  });
});

describe('USDC (EIP-3009)', () => {
  const types = {
    TransferWithAuthorization: [
      { name: 'from', type: 'address' },
      { name: 'to', type: 'address' },
      { name: 'value', type: 'uint256' },
      { name: 'validAfter', type: 'uint256' },
      { name: 'validBefore', type: 'uint256' },
      { name: 'nonce', type: 'bytes32' },
    ],
  } as const;

  async function authorize(payer: number, to: Address, value: bigint, window: { validAfter?: bigint; validBefore?: bigint } = {}) {
    const key = chain.keys[payer] as Hex;
    const now = BigInt(Math.floor(Date.now() / 1000));
    const message = {
      from: address(payer),
      to,
      value,
      validAfter: window.validAfter ?? now - 600n,
      validBefore: window.validBefore ?? now + 600n,
      nonce: keccak256(toHex(`${payer}-${to}-${value}-${Math.random()}`)),
    };
    const signature = await privateKeyToAccount(key).signTypedData({
      domain: { name: 'USDC', version: '2', chainId: 31337, verifyingContract: chain.deployment.contracts.USDC },
      types,
      primaryType: 'TransferWithAuthorization',
      message,
    });
    return { message, signature };
  }
  const usdc = () => ({ address: chain.deployment.contracts.USDC, abi: usdcAbi }) as const;
  const args = (m: Awaited<ReturnType<typeof authorize>>['message']) => [m.from, m.to, m.value, m.validAfter, m.validBefore, m.nonce] as const;

  it('mints for the minter only: Transfer(address(0) -> to)', async () => {
    const logs = await events(await account(0).writeContract({ ...usdc(), functionName: 'mint', args: [address(6), 10_000_000n] }));
    expect(logs).toMatchObject([{ eventName: 'Transfer', args: { from: '0x0000000000000000000000000000000000000000', to: address(6), value: 10_000_000n } }]);
    await expect(account(6).writeContract({ ...usdc(), functionName: 'mint', args: [address(6), 1n] })).rejects.toThrow(/not the minter/);
  });

  it('transfers by a signed authorization in both forms (v, r, s and bytes), once per nonce, within its window', async () => {
    const payee = address(7);
    const bytesForm = await authorize(6, payee, 1_000n);
    const logs = await events(await account(9).writeContract({ ...usdc(), functionName: 'transferWithAuthorization', args: [...args(bytesForm.message), bytesForm.signature] }));
    expect(logs).toMatchObject([
      { eventName: 'AuthorizationUsed', args: { authorizer: address(6), nonce: bytesForm.message.nonce } },
      { eventName: 'Transfer', args: { from: address(6), to: payee, value: 1_000n } },
    ]);
    expect(await chain.reader.readContract({ ...usdc(), functionName: 'authorizationState', args: [address(6), bytesForm.message.nonce] })).toBe(true);
    await expect(account(9).writeContract({ ...usdc(), functionName: 'transferWithAuthorization', args: [...args(bytesForm.message), bytesForm.signature] })).rejects.toThrow(/authorization is used/);

    const vrsForm = await authorize(6, payee, 2_000n);
    const { v, r, s, yParity } = parseSignature(vrsForm.signature);
    const vrs = await events(await account(9).writeContract({ ...usdc(), functionName: 'transferWithAuthorization', args: [...args(vrsForm.message), Number(v ?? BigInt(yParity + 27)), r, s] }));
    expect(vrs.find((l) => l.eventName === 'Transfer')).toMatchObject({ args: { from: address(6), to: payee, value: 2_000n } });
    expect(await chain.reader.readContract({ ...usdc(), functionName: 'balanceOf', args: [payee] })).toBe(3_000n);

    const notYet = await authorize(6, payee, 1n, { validAfter: BigInt(Math.floor(Date.now() / 1000)) + 3600n, validBefore: BigInt(Math.floor(Date.now() / 1000)) + 7200n });
    await expect(account(9).writeContract({ ...usdc(), functionName: 'transferWithAuthorization', args: [...args(notYet.message), notYet.signature] })).rejects.toThrow(/not yet valid/);
    const expired = await authorize(6, payee, 1n, { validAfter: 0n, validBefore: 1n });
    await expect(account(9).writeContract({ ...usdc(), functionName: 'transferWithAuthorization', args: [...args(expired.message), expired.signature] })).rejects.toThrow(/expired/);
    const forged = await authorize(8, payee, 1n);
    await expect(account(9).writeContract({ ...usdc(), functionName: 'transferWithAuthorization', args: [...args({ ...forged.message, from: address(6) }), forged.signature] })).rejects.toThrow(/invalid signature/);
    const tooMuch = await authorize(6, payee, 10n ** 12n);
    await expect(account(9).writeContract({ ...usdc(), functionName: 'transferWithAuthorization', args: [...args(tooMuch.message), tooMuch.signature] })).rejects.toThrow(/exceeds balance/);
    expect(await chain.reader.readContract({ ...usdc(), functionName: 'balanceOf', args: [address(6)] })).toBe(10_000_000n - 3_000n);
  });
});
