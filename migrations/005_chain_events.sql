-- 005: chain ingestion. Events learn which chain and block (by hash) they came from, whether a
-- reorg orphaned them (removed: never processed again, effects undone), and how often their
-- handler failed. Existing rows keep working: the new columns are nullable or defaulted.
ALTER TABLE events ADD COLUMN chain_id INTEGER;
ALTER TABLE events ADD COLUMN block_hash VARCHAR(66);
ALTER TABLE events ADD COLUMN removed BOOLEAN NOT NULL DEFAULT FALSE;
ALTER TABLE events ADD COLUMN attempts INTEGER NOT NULL DEFAULT 0;
ALTER TABLE events ADD COLUMN last_error TEXT;

-- The processor's queue: one chain's pending events in chain order.
CREATE INDEX idx_events_chain_pending ON events (chain_id, block_number, log_index) WHERE NOT processed AND NOT removed;
-- A reorg marks everything above the common ancestor.
CREATE INDEX idx_events_chain_block ON events (chain_id, block_number) WHERE chain_id IS NOT NULL;

-- One ingestion cursor per chain: the last block whose logs are stored (and its hash), and the
-- last block whose events are all processed. Moved in the same transaction as what it covers.
CREATE TABLE chain_cursors (
  chain_id        INTEGER PRIMARY KEY CHECK (chain_id > 0),
  ingested_block  BIGINT NOT NULL CHECK (ingested_block >= 0),
  ingested_hash   VARCHAR(66) NOT NULL,
  processed_block BIGINT CHECK (processed_block >= 0),
  updated_at      TIMESTAMPTZ NOT NULL DEFAULT NOW()
);

-- Hashes of recently ingested blocks (each range's last block and every block with a log), for
-- reorg detection; pruned beyond a retention window.
CREATE TABLE chain_blocks (
  chain_id     INTEGER NOT NULL,
  block_number BIGINT NOT NULL,
  block_hash   VARCHAR(66) NOT NULL,
  PRIMARY KEY (chain_id, block_number)
);

-- On-chain ids and the stored records they map to: kind 'asset' (AssetRegistry asset id ->
-- assets.asset_id), 'lease' (LeaseFactory token id -> leases.lease_id), 'offer' (Marketplace
-- offer id -> the lease it became, with the offer's lessor and asset in data). Ids are uint256
-- decimal strings; 0 is a valid id.
CREATE TABLE chain_links (
  chain_id    INTEGER NOT NULL,
  kind        VARCHAR(20) NOT NULL CHECK (kind IN ('asset', 'lease', 'offer')),
  onchain_id  VARCHAR(78) NOT NULL,
  record_key  VARCHAR(255),
  data        JSONB NOT NULL DEFAULT '{}',
  PRIMARY KEY (chain_id, kind, onchain_id)
);

-- What each processed event changed, as before-images, so a reorg can undo it.
CREATE TABLE chain_effects (
  event_id   UUID NOT NULL REFERENCES events(id) ON DELETE CASCADE,
  seq        INTEGER NOT NULL,
  target     VARCHAR(20) NOT NULL CHECK (target IN ('asset', 'lease', 'link')),
  record_key VARCHAR(400) NOT NULL,
  before     JSONB,
  PRIMARY KEY (event_id, seq)
);
