-- 009: closed day partitions of x402_payments are rewritten in lease order (docs/scale.md,
-- "Compacted days"; partition-compaction.ts does the work):
--   * payments arrive in time order, so one lease's consecutive payments lie one per heap page
--     among every other lease's, and a page of 50 of them reads 50 pages. Once a day is over, its
--     partition is copied in (lease_id, payment_timestamp, id) order, the order of the keyset
--     index, and swapped in for the original: the same page then reads two or three heap pages,
--     however old the day.
--   * while the copy runs, payments may still reach the day (late ones) and carried late payments
--     are updated. A trigger on the partition logs the ids it changes into
--     x402_payment_compaction_changes; the swap, under a short exclusive lock of the payment table,
--     copies those rows again before the new partition replaces the old one. A TRUNCATE is logged
--     with a NULL id and abandons the compaction.
--   * x402_payment_compactions records the days done; retention forgets a day it drops.
-- Nothing is compacted here: the service compacts closed days at its hourly upkeep,
-- `leasing-store partitions compact` does it by hand.

CREATE TABLE x402_payment_compactions (
  partition_name TEXT PRIMARY KEY,
  compacted_at   TIMESTAMPTZ NOT NULL,
  payments       BIGINT NOT NULL
);

CREATE TABLE x402_payment_compaction_changes (
  partition_name TEXT NOT NULL,
  payment_id     UUID
);
CREATE INDEX idx_x402_payment_compaction_changes ON x402_payment_compaction_changes (partition_name, payment_id);

-- Row trigger (INSERT, UPDATE, DELETE) and statement trigger (TRUNCATE) of a partition being
-- compacted: which rows must be copied again at the swap.
CREATE FUNCTION x402_log_compaction_change() RETURNS TRIGGER
LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'TRUNCATE' THEN
    INSERT INTO x402_payment_compaction_changes VALUES (TG_TABLE_NAME, NULL);
  ELSIF TG_OP = 'DELETE' THEN
    INSERT INTO x402_payment_compaction_changes VALUES (TG_TABLE_NAME, OLD.id);
  ELSE
    INSERT INTO x402_payment_compaction_changes VALUES (TG_TABLE_NAME, NEW.id);
  END IF;
  RETURN NULL;
END $$;
