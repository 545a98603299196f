// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

/// @title AssetRegistry: asset types and the assets registered under them.
/// @notice Minimal registry for the local development chain. Its events have exactly the
/// signatures of the Asset Leasing Protocol (docs/chain.md). Asset ids start at 0.
contract AssetRegistry {
    /// @notice A new asset type; `assetType` is keccak256 of `name`.
    event AssetTypeCreated(string indexed name, bytes32 indexed assetType, bytes32[] requiredLeaseKeys);
    /// @notice A new asset with its id, type and the token that represents it.
    event AssetRegistered(uint256 indexed assetId, bytes32 indexed assetType, address tokenAddress);

    struct Asset {
        address owner;
        address tokenAddress;
        bytes32 assetType;
    }

    address public immutable deployer;
    /// @notice The marketplace, the only caller allowed to move an asset to a buyer.
    address public marketplace;
    mapping(bytes32 => bool) public assetTypeExists;
    mapping(bytes32 => bytes32[]) private requiredLeaseKeysOf;
    Asset[] private assets;

    error UnknownAssetType(bytes32 assetType);
    error AssetTypeExists(bytes32 assetType);
    error UnknownAsset(uint256 assetId);
    error NotAllowed(address caller);
    error MarketplaceAlreadySet();

    constructor() {
        deployer = msg.sender;
    }

    /// @notice Sets the marketplace once (by the deployer).
    function setMarketplace(address marketplace_) external {
        if (msg.sender != deployer) revert NotAllowed(msg.sender);
        if (marketplace != address(0)) revert MarketplaceAlreadySet();
        marketplace = marketplace_;
    }

    /// @notice Creates an asset type named `name`; its id is keccak256(name).
    function createAssetType(string calldata name, bytes32[] calldata requiredLeaseKeys) external returns (bytes32 assetType) {
        assetType = keccak256(bytes(name));
        if (assetTypeExists[assetType]) revert AssetTypeExists(assetType);
        assetTypeExists[assetType] = true;
        requiredLeaseKeysOf[assetType] = requiredLeaseKeys;
        emit AssetTypeCreated(name, assetType, requiredLeaseKeys);
    }

    /// @notice Registers one asset owned by the caller; returns its id.
    function registerAsset(bytes32 assetType, address tokenAddress) external returns (uint256 assetId) {
        if (!assetTypeExists[assetType]) revert UnknownAssetType(assetType);
        assetId = _register(assetType, tokenAddress);
    }

    /// @notice Registers one asset per token in one transaction (bulk loading, benchmarks);
    /// returns the first new id, the others follow in order.
    function registerAssets(bytes32 assetType, address[] calldata tokenAddresses) external returns (uint256 firstAssetId) {
        if (!assetTypeExists[assetType]) revert UnknownAssetType(assetType);
        firstAssetId = assets.length;
        for (uint256 i = 0; i < tokenAddresses.length; i++) {
            _register(assetType, tokenAddresses[i]);
        }
    }

    /// @notice Moves an asset to a new owner; only the marketplace, when a sale is accepted.
    function transferAsset(uint256 assetId, address newOwner) external {
        if (msg.sender != marketplace) revert NotAllowed(msg.sender);
        if (assetId >= assets.length) revert UnknownAsset(assetId);
        assets[assetId].owner = newOwner;
    }

    /// @notice The owner of an asset (reverts for an unknown id).
    function ownerOf(uint256 assetId) external view returns (address) {
        if (assetId >= assets.length) revert UnknownAsset(assetId);
        return assets[assetId].owner;
    }

    /// @notice An asset's type and token address (reverts for an unknown id).
    function assetOf(uint256 assetId) external view returns (bytes32 assetType, address tokenAddress) {
        if (assetId >= assets.length) revert UnknownAsset(assetId);
        Asset storage asset = assets[assetId];
        return (asset.assetType, asset.tokenAddress);
    }

    /// @notice The lease keys an asset type requires.
    function requiredLeaseKeysOfType(bytes32 assetType) external view returns (bytes32[] memory) {
        if (!assetTypeExists[assetType]) revert UnknownAssetType(assetType);
        return requiredLeaseKeysOf[assetType];
    }

    /// @notice How many assets exist; the next asset gets this id.
    function assetCount() external view returns (uint256) {
        return assets.length;
    }

    function _register(bytes32 assetType, address tokenAddress) private returns (uint256 assetId) {
        assetId = assets.length;
        assets.push(Asset({owner: msg.sender, tokenAddress: tokenAddress, assetType: assetType}));
        emit AssetRegistered(assetId, assetType, tokenAddress);
    }
}
