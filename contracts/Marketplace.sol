// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {AssetRegistry} from "./AssetRegistry.sol";
import {LeaseFactory} from "./LeaseFactory.sol";

/// @notice The part of ERC-20 the marketplace uses to hold bids in escrow.
interface IERC20Escrow {
    function transfer(address to, uint256 value) external returns (bool);
    function transferFrom(address from, address to, uint256 value) external returns (bool);
}

/// @title Marketplace: lease offers and bids, asset sales, and the lessors' revenue.
/// @notice Minimal marketplace for the local development chain. Offer ids, sale ids and bid
/// indexes (per offer or sale) start at 0. Bids are paid in the payment token (USDC) and held
/// here: an accepted bid becomes the seller's revenue, claimed with claimRevenue. A bid of 0 moves
/// no tokens (handy in tests).
contract Marketplace {
    /// @notice Lessor `lessor` offers asset `assetId` for lease as offer `offerId`.
    event LeaseOfferPosted(uint256 indexed offerId, address indexed lessor, uint256 assetId);
    /// @notice `bidder` bids `funds` (token minor units) on lease offer `offerId`.
    event LeaseBidPlaced(uint256 indexed offerId, uint256 indexed bidIndex, address indexed bidder, uint256 funds);
    /// @notice The lessor accepted bid `bidIndex`: lease `leaseTokenId` was minted to `lessee`.
    event LeaseAccepted(uint256 indexed offerId, uint256 indexed bidIndex, address indexed lessee, uint256 leaseTokenId);
    /// @notice `account` withdrew `share` of its revenue (token minor units).
    event RevenueClaimed(address indexed account, uint256 share);
    /// @notice `seller` puts asset `assetId` up for sale as sale `saleId`, asking `price`.
    event SalePosted(uint256 indexed saleId, address indexed seller, uint256 assetId, uint256 price);
    /// @notice `bidder` bids `amount` on sale `saleId`.
    event SaleBidPlaced(uint256 indexed saleId, uint256 indexed bidIndex, address indexed bidder, uint256 amount);
    /// @notice The seller accepted bid `bidIndex`: the asset now belongs to `buyer`.
    event SaleBidAccepted(uint256 indexed saleId, uint256 indexed bidIndex, address indexed buyer, uint256 amount);
    /// @notice Bid `bidIndex` on sale `saleId` was returned to `bidder`.
    event SaleBidRefunded(uint256 indexed saleId, uint256 indexed bidIndex, address indexed bidder, uint256 amount);

    enum BidState {
        None,
        Active,
        Accepted,
        Returned
    }

    struct Bid {
        address bidder;
        uint256 amount;
        BidState state;
    }

    struct Listing {
        address owner;
        uint256 assetId;
        uint256 price;
        bool open;
    }

    AssetRegistry public immutable registry;
    LeaseFactory public immutable leaseFactory;
    IERC20Escrow public immutable paymentToken;

    Listing[] private offers;
    Listing[] private sales;
    mapping(uint256 => Bid[]) private leaseBids;
    mapping(uint256 => Bid[]) private saleBids;
    /// @notice Revenue an account may claim (token minor units).
    mapping(address => uint256) public revenueOf;

    error NotAssetOwner(uint256 assetId, address caller);
    error UnknownListing(uint256 id);
    error ListingClosed(uint256 id);
    error UnknownBid(uint256 id, uint256 bidIndex);
    error BidNotActive(uint256 id, uint256 bidIndex);
    error NotAllowed(address caller);
    error NothingToClaim(address account);
    error TokenTransferFailed();

    constructor(AssetRegistry registry_, LeaseFactory leaseFactory_, IERC20Escrow paymentToken_) {
        registry = registry_;
        leaseFactory = leaseFactory_;
        paymentToken = paymentToken_;
    }

    // ----- leases -----

    /// @notice Offers an asset the caller owns for lease; returns the offer id.
    function postLeaseOffer(uint256 assetId) external returns (uint256 offerId) {
        if (registry.ownerOf(assetId) != msg.sender) revert NotAssetOwner(assetId, msg.sender);
        offerId = offers.length;
        offers.push(Listing({owner: msg.sender, assetId: assetId, price: 0, open: true}));
        emit LeaseOfferPosted(offerId, msg.sender, assetId);
    }

    /// @notice Bids `funds` on an open lease offer (the caller approved them first); returns the bid index.
    function placeLeaseBid(uint256 offerId, uint256 funds) external returns (uint256 bidIndex) {
        _openListing(offers, offerId);
        bidIndex = leaseBids[offerId].length;
        leaseBids[offerId].push(Bid({bidder: msg.sender, amount: funds, state: BidState.Active}));
        _pull(msg.sender, funds);
        emit LeaseBidPlaced(offerId, bidIndex, msg.sender, funds);
    }

    /// @notice The lessor accepts a bid: the offer closes, the lease is minted to the bidder and
    /// the bid becomes the lessor's revenue. Returns the lease token id.
    function acceptLeaseBid(uint256 offerId, uint256 bidIndex) external returns (uint256 leaseTokenId) {
        Listing storage offer = _openListing(offers, offerId);
        if (offer.owner != msg.sender) revert NotAllowed(msg.sender);
        Bid storage bid = _activeBid(leaseBids[offerId], offerId, bidIndex);
        offer.open = false;
        bid.state = BidState.Accepted;
        revenueOf[offer.owner] += bid.amount;
        leaseTokenId = leaseFactory.mintLease(offer.owner, bid.bidder, offer.assetId);
        emit LeaseAccepted(offerId, bidIndex, bid.bidder, leaseTokenId);
    }

    /// @notice A bidder takes back a lease bid that was not accepted (no protocol event; the
    /// token's Transfer records it).
    function withdrawLeaseBid(uint256 offerId, uint256 bidIndex) external {
        Bid storage bid = _activeBid(leaseBids[offerId], offerId, bidIndex);
        if (bid.bidder != msg.sender) revert NotAllowed(msg.sender);
        bid.state = BidState.Returned;
        _push(bid.bidder, bid.amount);
    }

    // ----- sales -----

    /// @notice Puts an asset the caller owns up for sale at an asking price (the seller may
    /// accept any bid); returns the sale id.
    function postSale(uint256 assetId, uint256 price) external returns (uint256 saleId) {
        if (registry.ownerOf(assetId) != msg.sender) revert NotAssetOwner(assetId, msg.sender);
        saleId = sales.length;
        sales.push(Listing({owner: msg.sender, assetId: assetId, price: price, open: true}));
        emit SalePosted(saleId, msg.sender, assetId, price);
    }

    /// @notice Bids `amount` on an open sale (the caller approved it first); returns the bid index.
    function placeSaleBid(uint256 saleId, uint256 amount) external returns (uint256 bidIndex) {
        _openListing(sales, saleId);
        bidIndex = saleBids[saleId].length;
        saleBids[saleId].push(Bid({bidder: msg.sender, amount: amount, state: BidState.Active}));
        _pull(msg.sender, amount);
        emit SaleBidPlaced(saleId, bidIndex, msg.sender, amount);
    }

    /// @notice The seller accepts a bid: the sale closes, the asset moves to the bidder and the
    /// bid becomes the seller's revenue.
    function acceptSaleBid(uint256 saleId, uint256 bidIndex) external {
        Listing storage sale = _openListing(sales, saleId);
        if (sale.owner != msg.sender) revert NotAllowed(msg.sender);
        if (registry.ownerOf(sale.assetId) != msg.sender) revert NotAssetOwner(sale.assetId, msg.sender);
        Bid storage bid = _activeBid(saleBids[saleId], saleId, bidIndex);
        sale.open = false;
        bid.state = BidState.Accepted;
        revenueOf[sale.owner] += bid.amount;
        registry.transferAsset(sale.assetId, bid.bidder);
        emit SaleBidAccepted(saleId, bidIndex, bid.bidder, bid.amount);
    }

    /// @notice Returns a sale bid that was not accepted to its bidder (called by the bidder).
    function refundSaleBid(uint256 saleId, uint256 bidIndex) external {
        Bid storage bid = _activeBid(saleBids[saleId], saleId, bidIndex);
        if (bid.bidder != msg.sender) revert NotAllowed(msg.sender);
        bid.state = BidState.Returned;
        _push(bid.bidder, bid.amount);
        emit SaleBidRefunded(saleId, bidIndex, bid.bidder, bid.amount);
    }

    // ----- revenue -----

    /// @notice Pays the caller all of its revenue.
    function claimRevenue() external returns (uint256 share) {
        share = revenueOf[msg.sender];
        if (share == 0) revert NothingToClaim(msg.sender);
        revenueOf[msg.sender] = 0;
        _push(msg.sender, share);
        emit RevenueClaimed(msg.sender, share);
    }

    // ----- views -----

    /// @notice A lease offer: lessor, asset and whether it still takes bids.
    function offerOf(uint256 offerId) external view returns (address lessor, uint256 assetId, bool open) {
        if (offerId >= offers.length) revert UnknownListing(offerId);
        Listing storage offer = offers[offerId];
        return (offer.owner, offer.assetId, offer.open);
    }

    /// @notice A sale: seller, asset, asking price and whether it still takes bids.
    function saleOf(uint256 saleId) external view returns (address seller, uint256 assetId, uint256 price, bool open) {
        if (saleId >= sales.length) revert UnknownListing(saleId);
        Listing storage sale = sales[saleId];
        return (sale.owner, sale.assetId, sale.price, sale.open);
    }

    function _openListing(Listing[] storage listings, uint256 id) private view returns (Listing storage listing) {
        if (id >= listings.length) revert UnknownListing(id);
        listing = listings[id];
        if (!listing.open) revert ListingClosed(id);
    }

    function _activeBid(Bid[] storage bids, uint256 id, uint256 bidIndex) private view returns (Bid storage bid) {
        if (bidIndex >= bids.length) revert UnknownBid(id, bidIndex);
        bid = bids[bidIndex];
        if (bid.state != BidState.Active) revert BidNotActive(id, bidIndex);
    }

    function _pull(address from, uint256 amount) private {
        if (amount > 0 && !paymentToken.transferFrom(from, address(this), amount)) revert TokenTransferFailed();
    }

    function _push(address to, uint256 amount) private {
        if (amount > 0 && !paymentToken.transfer(to, amount)) revert TokenTransferFailed();
    }
}
