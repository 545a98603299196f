-- 003: settled x402 payments the ledger could not record yet (issue 6, "a settled payment is
-- never lost"). The facilitator has moved the money; the row keeps what recordPayment needs so
-- the payment can be replayed idempotently (recordPayment dedups on facilitator_tx_hash).
-- No foreign key to leases: a pending record must be writable whatever state the lease is in.

CREATE TABLE pending_payments (
  id                  UUID PRIMARY KEY DEFAULT uuid_generate_v4(),
  facilitator_tx_hash VARCHAR(66) NOT NULL UNIQUE,
  lease_id            VARCHAR(255) NOT NULL,
  payload             JSONB NOT NULL,
  error               TEXT NOT NULL,
  attempts            INTEGER NOT NULL DEFAULT 0 CHECK (attempts >= 0),
  created_at          TIMESTAMPTZ NOT NULL DEFAULT date_trunc('milliseconds', now()),
  resolved_at         TIMESTAMPTZ
);

-- Replay and reconcile read only the unresolved records, oldest first.
CREATE INDEX idx_pending_payments_unresolved ON pending_payments(created_at) WHERE resolved_at IS NULL;
