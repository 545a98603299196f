/**
 * What each protocol event means for the stored assets and leases, as intents the store applies
 * atomically with the event's processed mark (storage/core/chain-effects.ts resolves them).
 * Handlers are pure: an event in, intents out; a malformed event throws, and the processor stops
 * there and retries rather than skipping it. Events without a handler are marked processed.
 *
 * - AssetRegistered(assetId, assetType, tokenAddress): creates or completes the asset.
 * - LeaseOfferPosted(offerId, lessor, assetId): remembers the offer (its lessor and asset).
 * - LeaseMinted(tokenId, lessor, lessee, assetId): creates the lease (pending) or completes it.
 * - LeaseAccepted(offerId, bidIndex, lessee, leaseTokenId): makes the lease active, building it
 *   from the offer when no mint came first.
 */
import type { ChainIntent, StoredEvent } from '../storage/contract/database.js';

/** Maps one stored event of `chainId` to its intents. */
export type EventHandler = (event: StoredEvent, chainId: number) => ChainIntent[];

const UINT = /^(0|[1-9][0-9]{0,77})$/;
const ADDRESS = /^0x[0-9a-fA-F]{40}$/;
const BYTES32 = /^0x[0-9a-fA-F]{64}$/;

function arg(event: StoredEvent, name: string, pattern: RegExp): string {
  const value = event.args[name];
  if (typeof value !== 'string' || !pattern.test(value)) {
    throw new Error(`${event.eventName} ${event.transactionHash}:${event.logIndex}: argument ${name} is missing or malformed (${JSON.stringify(value)})`);
  }
  return value;
}

const origin = (e: StoredEvent) => ({ blockNumber: e.blockNumber, transactionHash: e.transactionHash });

/** The handlers by event name. */
export const HANDLERS: Readonly<Record<string, EventHandler>> = {
  AssetRegistered: (e, chainId) => [
    {
      kind: 'asset-registered',
      chainId,
      contractAddress: e.contractAddress,
      onchainAssetId: arg(e, 'assetId', UINT),
      assetType: arg(e, 'assetType', BYTES32),
      tokenAddress: arg(e, 'tokenAddress', ADDRESS),
      ...origin(e),
    },
  ],
  LeaseOfferPosted: (e, chainId) => [
    { kind: 'offer-posted', chainId, onchainOfferId: arg(e, 'offerId', UINT), lessor: arg(e, 'lessor', ADDRESS), onchainAssetId: arg(e, 'assetId', UINT) },
  ],
  LeaseMinted: (e, chainId) => [
    {
      kind: 'lease',
      chainId,
      contractAddress: e.contractAddress,
      onchainLeaseTokenId: arg(e, 'tokenId', UINT),
      lessor: arg(e, 'lessor', ADDRESS),
      lessee: arg(e, 'lessee', ADDRESS),
      onchainAssetId: arg(e, 'assetId', UINT),
      status: 'pending',
      ...origin(e),
    },
  ],
  LeaseAccepted: (e, chainId) => [
    {
      kind: 'lease',
      chainId,
      contractAddress: e.contractAddress,
      onchainLeaseTokenId: arg(e, 'leaseTokenId', UINT),
      lessee: arg(e, 'lessee', ADDRESS),
      onchainOfferId: arg(e, 'offerId', UINT),
      status: 'active',
      ...origin(e),
    },
  ],
};

/** The intents of one event: none when no handler knows its name. */
export function intentsFor(event: StoredEvent, chainId: number, handlers: Readonly<Record<string, EventHandler>> = HANDLERS): ChainIntent[] {
  const handler = handlers[event.eventName];
  return handler ? handler(event, chainId) : [];
}
