-- 001_initial_schema: the initial schema, exactly the DDL of DATABASE_MIGRATION_GUIDE.md section 3.1.
-- Immutable once released: later schema changes are new numbered files (the migrator refuses
-- to run when an applied file changes).

-- Enable required extensions
CREATE EXTENSION IF NOT EXISTS "uuid-ossp";

-- Assets table
CREATE TABLE assets (
  id              UUID PRIMARY KEY DEFAULT uuid_generate_v4(),
  asset_id        VARCHAR(255) NOT NULL UNIQUE,
  chain_id        INTEGER NOT NULL,
  contract_address VARCHAR(42) NOT NULL,
  token_address   VARCHAR(42) NOT NULL,
  metadata        JSONB NOT NULL DEFAULT '{}',
  metadata_hash   VARCHAR(66) NOT NULL,
  block_number    BIGINT NOT NULL DEFAULT 0,
  transaction_hash VARCHAR(66) NOT NULL,
  created_at      TIMESTAMPTZ NOT NULL DEFAULT NOW(),
  updated_at      TIMESTAMPTZ NOT NULL DEFAULT NOW()
);

CREATE INDEX idx_assets_chain_id ON assets(chain_id);
CREATE INDEX idx_assets_token_address ON assets(LOWER(token_address));
CREATE INDEX idx_assets_metadata_hash ON assets(metadata_hash);

-- Leases table
CREATE TABLE leases (
  id              UUID PRIMARY KEY DEFAULT uuid_generate_v4(),
  lease_id        VARCHAR(255) NOT NULL UNIQUE,
  asset_id        VARCHAR(255) NOT NULL REFERENCES assets(asset_id),
  chain_id        INTEGER NOT NULL,
  contract_address VARCHAR(42) NOT NULL,
  lessor          VARCHAR(42) NOT NULL,
  lessee          VARCHAR(42) NOT NULL,
  agreement       JSONB NOT NULL DEFAULT '{}',
  status          VARCHAR(20) NOT NULL DEFAULT 'pending'
                  CHECK (status IN ('pending', 'active', 'completed', 'terminated')),
  block_number    BIGINT NOT NULL DEFAULT 0,
  transaction_hash VARCHAR(66) NOT NULL,
  created_at      TIMESTAMPTZ NOT NULL DEFAULT NOW(),
  updated_at      TIMESTAMPTZ NOT NULL DEFAULT NOW()
);

CREATE INDEX idx_leases_asset_id ON leases(asset_id);
CREATE INDEX idx_leases_status ON leases(status);
CREATE INDEX idx_leases_lessor ON leases(LOWER(lessor));
CREATE INDEX idx_leases_lessee ON leases(LOWER(lessee));

-- Events table
CREATE TABLE events (
  id              UUID PRIMARY KEY DEFAULT uuid_generate_v4(),
  event_name      VARCHAR(100) NOT NULL,
  contract_address VARCHAR(42) NOT NULL,
  block_number    BIGINT NOT NULL,
  transaction_hash VARCHAR(66) NOT NULL,
  log_index       INTEGER NOT NULL,
  args            JSONB NOT NULL DEFAULT '{}',
  processed       BOOLEAN NOT NULL DEFAULT FALSE,
  created_at      TIMESTAMPTZ NOT NULL DEFAULT NOW(),
  UNIQUE(transaction_hash, log_index)
);

CREATE INDEX idx_events_processed ON events(processed) WHERE NOT processed;
CREATE INDEX idx_events_block_number ON events(block_number);
CREATE INDEX idx_events_event_name ON events(event_name);

-- X402 streaming payments
CREATE TABLE x402_payments (
  id              UUID PRIMARY KEY DEFAULT uuid_generate_v4(),
  lease_id        VARCHAR(255) NOT NULL REFERENCES leases(lease_id),
  mode            VARCHAR(20) NOT NULL CHECK (mode IN ('second', 'batch-5s')),
  interval_seconds INTEGER NOT NULL,
  amount_minor_units NUMERIC(20, 0) NOT NULL,
  payer           VARCHAR(42) NOT NULL,
  payment_timestamp TIMESTAMPTZ NOT NULL,
  facilitator_tx_hash VARCHAR(66) NOT NULL,
  bucket_slot     TIMESTAMPTZ NOT NULL,
  created_at      TIMESTAMPTZ NOT NULL DEFAULT NOW()
);

CREATE INDEX idx_x402_payments_lease_id ON x402_payments(lease_id);
CREATE INDEX idx_x402_payments_bucket ON x402_payments(bucket_slot);
CREATE INDEX idx_x402_payments_payer ON x402_payments(LOWER(payer));

-- X402 batch settlements
CREATE TABLE x402_batches (
  id              UUID PRIMARY KEY DEFAULT uuid_generate_v4(),
  lease_id        VARCHAR(255) NOT NULL REFERENCES leases(lease_id),
  hour_bucket     TIMESTAMPTZ NOT NULL,
  total_amount_minor_units NUMERIC(20, 0) NOT NULL DEFAULT 0,
  payment_count   INTEGER NOT NULL DEFAULT 0,
  revenue_round_id VARCHAR(255),
  settlement_tx_hash VARCHAR(66),
  started_at      TIMESTAMPTZ NOT NULL,
  closed_at       TIMESTAMPTZ NOT NULL,
  created_at      TIMESTAMPTZ NOT NULL DEFAULT NOW()
);

CREATE INDEX idx_x402_batches_lease_id ON x402_batches(lease_id);
CREATE INDEX idx_x402_batches_hour_bucket ON x402_batches(hour_bucket);
CREATE UNIQUE INDEX idx_x402_batches_lease_bucket ON x402_batches(lease_id, hour_bucket);

-- Auto-update updated_at trigger
CREATE OR REPLACE FUNCTION update_updated_at_column()
RETURNS TRIGGER AS $$
BEGIN
  NEW.updated_at = NOW();
  RETURN NEW;
END;
$$ language 'plpgsql';

CREATE TRIGGER update_assets_updated_at BEFORE UPDATE ON assets
  FOR EACH ROW EXECUTE FUNCTION update_updated_at_column();

CREATE TRIGGER update_leases_updated_at BEFORE UPDATE ON leases
  FOR EACH ROW EXECUTE FUNCTION update_updated_at_column();
