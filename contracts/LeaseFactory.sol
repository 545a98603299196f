// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {AssetRegistry} from "./AssetRegistry.sol";

/// @title LeaseFactory: mints leases of registered assets.
/// @notice Minimal lease factory for the local development chain. Lease token ids start at 0.
/// A lease is minted by the marketplace when a lessor accepts a bid, or directly by an asset's
/// owner (the lessor) for a lessee of their choice.
contract LeaseFactory {
    /// @notice A new lease `tokenId` of `assetId` from `lessor` to `lessee`.
    event LeaseMinted(uint256 indexed tokenId, address indexed lessor, address indexed lessee, uint256 assetId);

    struct Lease {
        address lessor;
        address lessee;
        uint256 assetId;
    }

    AssetRegistry public immutable registry;
    address public immutable deployer;
    address public marketplace;
    Lease[] private leases;

    error NotAllowed(address caller);
    error MarketplaceAlreadySet();
    error UnknownLease(uint256 tokenId);

    constructor(AssetRegistry registry_) {
        registry = registry_;
        deployer = msg.sender;
    }

    /// @notice Sets the marketplace once (by the deployer).
    function setMarketplace(address marketplace_) external {
        if (msg.sender != deployer) revert NotAllowed(msg.sender);
        if (marketplace != address(0)) revert MarketplaceAlreadySet();
        marketplace = marketplace_;
    }

    /// @notice Mints a lease; the caller is the marketplace, or the lessor who owns the asset.
    function mintLease(address lessor, address lessee, uint256 assetId) external returns (uint256 tokenId) {
        bool byOwner = msg.sender == lessor && registry.ownerOf(assetId) == lessor;
        if (msg.sender != marketplace && !byOwner) revert NotAllowed(msg.sender);
        tokenId = leases.length;
        leases.push(Lease({lessor: lessor, lessee: lessee, assetId: assetId}));
        emit LeaseMinted(tokenId, lessor, lessee, assetId);
    }

    /// @notice Mints one lease per asset to `lessee`, the caller being the owner (lessor) of every
    /// asset, in one transaction (bulk loading, benchmarks); returns the first new token id, the
    /// others follow in order.
    function mintLeases(address lessee, uint256[] calldata assetIds) external returns (uint256 firstTokenId) {
        firstTokenId = leases.length;
        for (uint256 i = 0; i < assetIds.length; i++) {
            if (registry.ownerOf(assetIds[i]) != msg.sender) revert NotAllowed(msg.sender);
            uint256 tokenId = leases.length;
            leases.push(Lease({lessor: msg.sender, lessee: lessee, assetId: assetIds[i]}));
            emit LeaseMinted(tokenId, msg.sender, lessee, assetIds[i]);
        }
    }

    /// @notice A lease's parties and asset (reverts for an unknown id).
    function leaseOf(uint256 tokenId) external view returns (address lessor, address lessee, uint256 assetId) {
        if (tokenId >= leases.length) revert UnknownLease(tokenId);
        Lease storage lease = leases[tokenId];
        return (lease.lessor, lease.lessee, lease.assetId);
    }

    /// @notice How many leases exist; the next lease gets this id.
    function leaseCount() external view returns (uint256) {
        return leases.length;
    }
}
