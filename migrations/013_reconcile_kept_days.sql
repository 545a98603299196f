-- 013: reconcile keeps what it found for each day that is over (docs/scale.md, "Reconcile").
--   * the whole-ledger check read every payment each time: 16 s at 20 M payments on the bench
--     machine, past the pool's 30 s statement timeout before one production day (86 M) is stored.
--   * a day partition whose day is over is read once; the sums of its on-time payments per hour,
--     its late payments and its row count are kept here, and later checks compare the batches
--     (always read afresh) with these.
--   * a day's kept result stays good only while nothing wrote to its partition since: a trigger on
--     the partition counts, once per writing transaction, the transactions that inserted, updated,
--     deleted or truncated in it (`changes`); the check records the count it read in the same
--     snapshot as the rows it summed (`checked_changes`). The partition's oid and file node (a
--     swap by compaction, a TRUNCATE, a restore) and the trigger being present and enabled are
--     checked as well, so anything else sends the day back to being read.
--   * today's and future partitions and the DEFAULT partition have no trigger (payments go there
--     at full rate) and are read at every check.

CREATE TABLE x402_reconcile_days (
  day              DATE PRIMARY KEY,
  -- the partition the trigger watches and the kept result was read from
  partition_oid    OID NOT NULL,
  -- transactions that changed the partition since the trigger was made
  changes          BIGINT NOT NULL DEFAULT 0,
  -- `changes` as the kept result's snapshot saw it; NULL while there is no kept result
  checked_changes  BIGINT,
  checked_filenode OID,
  -- every payment row of the day, late ones included
  payments         BIGINT,
  checked_at       TIMESTAMPTZ
);

-- Sums of the day's on-time payments per lease and hour (late payments are outside their batch).
CREATE TABLE x402_reconcile_hours (
  day           DATE NOT NULL REFERENCES x402_reconcile_days (day) ON DELETE CASCADE,
  lease_id      VARCHAR(255) NOT NULL,
  bucket_slot   TIMESTAMPTZ NOT NULL,
  total         NUMERIC NOT NULL,
  payment_count BIGINT NOT NULL,
  PRIMARY KEY (day, lease_id, bucket_slot)
);

-- The day's late payments, as the report lists them.
CREATE TABLE x402_reconcile_late (
  day                 DATE NOT NULL REFERENCES x402_reconcile_days (day) ON DELETE CASCADE,
  lease_id            VARCHAR(255) NOT NULL,
  bucket_slot         TIMESTAMPTZ NOT NULL,
  facilitator_tx_hash VARCHAR(66) COLLATE "C" NOT NULL,
  amount_minor_units  NUMERIC(20, 0) NOT NULL,
  carried_to_batch_id UUID
);
CREATE INDEX idx_x402_reconcile_late_day ON x402_reconcile_late (day);

-- The watch trigger's function; its argument is the day as YYYYMMDD. One update per transaction
-- and day (a transaction-local setting remembers it): an import of a whole day would otherwise
-- update this row once per payment. A rolled-back savepoint undoes the setting with the update.
CREATE FUNCTION x402_reconcile_day_changed() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  flag text := 'x402.reconcile_changed_' || TG_ARGV[0];
BEGIN
  IF current_setting(flag, true) IS DISTINCT FROM '1' THEN
    UPDATE x402_reconcile_days SET changes = changes + 1 WHERE day = to_date(TG_ARGV[0], 'YYYYMMDD');
    PERFORM set_config(flag, '1', true);
  END IF;
  RETURN NULL;
END
$$;
