/**
 * The protocol events the ingester decodes (docs/domain.md, "Contract events"), with the exact
 * signatures the contracts emit, so topic hashes match the deployed contracts'. The handlers read
 * these names and argument names.
 */
import { parseAbi } from 'viem';

/** Event ABI of AssetRegistry, LeaseFactory and Marketplace. */
export const PROTOCOL_EVENTS_ABI = parseAbi([
  'event AssetTypeCreated(string indexed name, bytes32 indexed assetType, bytes32[] requiredLeaseKeys)',
  'event AssetRegistered(uint256 indexed assetId, bytes32 indexed assetType, address tokenAddress)',
  'event LeaseMinted(uint256 indexed tokenId, address indexed lessor, address indexed lessee, uint256 assetId)',
  'event LeaseOfferPosted(uint256 indexed offerId, address indexed lessor, uint256 assetId)',
  'event LeaseBidPlaced(uint256 indexed offerId, uint256 indexed bidIndex, address indexed bidder, uint256 funds)',
  'event LeaseAccepted(uint256 indexed offerId, uint256 indexed bidIndex, address indexed lessee, uint256 leaseTokenId)',
  'event RevenueClaimed(address indexed account, uint256 share)',
]);
