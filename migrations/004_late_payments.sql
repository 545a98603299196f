-- 004: payments recorded after their hour's batch was settled (or could no longer take them).
-- Money had already moved, so the ledger keeps them: flagged late, outside the settled batch's
-- totals, until the lease's next settlement carries them (carried_to_batch_id). The batch id is
-- not a foreign key: payments are copied before batches in data migration, and reconcile checks
-- that every carried id names a batch of the same lease.
ALTER TABLE x402_payments ADD COLUMN late BOOLEAN NOT NULL DEFAULT FALSE;
ALTER TABLE x402_payments ADD COLUMN carried_to_batch_id UUID;
CREATE INDEX idx_x402_payments_late_uncarried ON x402_payments (lease_id) WHERE late AND carried_to_batch_id IS NULL;
