-- 002: what the storage contract needs beyond the guide's schema (DESIGN.md, "The storage contract").

-- Timestamps at millisecond precision: JavaScript Dates carry exactly that, so the (created_at, id)
-- order a client sees is the order the server sorts by, and data migration copies them exactly.
ALTER TABLE assets ALTER COLUMN created_at SET DEFAULT date_trunc('milliseconds', now());
ALTER TABLE assets ALTER COLUMN updated_at SET DEFAULT date_trunc('milliseconds', now());
ALTER TABLE leases ALTER COLUMN created_at SET DEFAULT date_trunc('milliseconds', now());
ALTER TABLE leases ALTER COLUMN updated_at SET DEFAULT date_trunc('milliseconds', now());
ALTER TABLE events ALTER COLUMN created_at SET DEFAULT date_trunc('milliseconds', now());
ALTER TABLE x402_payments ALTER COLUMN created_at SET DEFAULT date_trunc('milliseconds', now());
ALTER TABLE x402_batches ALTER COLUMN created_at SET DEFAULT date_trunc('milliseconds', now());

-- updated_at moves forward on every update, by at least one millisecond, even within one
-- transaction or when the clock has not advanced.
CREATE OR REPLACE FUNCTION update_updated_at_column()
RETURNS TRIGGER AS $$
BEGIN
  NEW.updated_at = GREATEST(date_trunc('milliseconds', now()), OLD.updated_at + interval '1 millisecond');
  RETURN NEW;
END;
$$ language 'plpgsql';

-- Money is never negative.
ALTER TABLE x402_payments ADD CONSTRAINT x402_payments_amount_non_negative CHECK (amount_minor_units >= 0);
ALTER TABLE x402_batches ADD CONSTRAINT x402_batches_total_non_negative CHECK (total_amount_minor_units >= 0);
ALTER TABLE x402_batches ADD CONSTRAINT x402_batches_count_non_negative CHECK (payment_count >= 0);

-- One payment per facilitator settlement: a replayed payment is recorded once.
CREATE UNIQUE INDEX idx_x402_payments_facilitator_tx_hash ON x402_payments(facilitator_tx_hash);

-- A lease's payments in (payment_timestamp, id) order: keyset pages, daily revenue, ranges.
-- It serves every lookup the single-column lease index did, so that one is dropped to keep the
-- payment insert path (the hot path) to as few index writes as possible.
CREATE INDEX idx_x402_payments_lease_time ON x402_payments(lease_id, payment_timestamp, id);
DROP INDEX idx_x402_payments_lease_id;

-- Unprocessed events in chain order, so getUnprocessedEvents(limit) reads only what it returns.
CREATE INDEX idx_events_unprocessed_order ON events(block_number, log_index, id) WHERE NOT processed;

-- Leases of one status in (created_at, id) order.
CREATE INDEX idx_leases_status_created ON leases(status, created_at, id);
