/**
 * The protocol events the ingester decodes: the event entries of the compiled AssetRegistry,
 * LeaseFactory and Marketplace ABIs (src/chain/contracts, generated from contracts/*.sol), whose
 * signatures are the protocol's (docs/domain.md, "Contract events"). The handlers read these
 * names and argument names.
 */
import type { Abi } from 'viem';
import { assetRegistryAbi, leaseFactoryAbi, marketplaceAbi } from './contracts/index.js';

/** Event ABI of AssetRegistry, LeaseFactory and Marketplace. */
export const PROTOCOL_EVENTS_ABI: Abi = [...assetRegistryAbi, ...leaseFactoryAbi, ...marketplaceAbi].filter((item) => item.type === 'event');
