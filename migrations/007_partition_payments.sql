-- 007: x402_payments becomes a table partitioned by payment_timestamp, one partition per UTC day,
-- plus a DEFAULT partition; every row and id is kept. docs/scale.md explains the choices:
--   * payment_timestamp, not created_at: keyset reads by (lease_id, payment_timestamp, id) and
--     revenue ranges prune to the days they ask for, and a UTC day is 24 whole hours, so every
--     hourly batch (bucket_slot = the hour of payment_timestamp) lies in exactly one partition,
--     which is what lets retention check a day's batches and drop the day as one unit. A late
--     payment lands in its own (older) day, beside the batch it belongs to.
--   * a DEFAULT partition, so a payment is never refused for want of a partition (money that has
--     moved is always recorded); x402_ensure_payment_partition() moves such rows into the day's
--     partition when that day is created.
-- The ids are UUIDs (uuid_generate_v4()); there is no sequence to carry over.
--
-- One settlement (facilitator) hash is recorded once: a unique index on a partitioned table must
-- contain the partition key, so uniqueness moves to x402_settlement_hashes (primary key = hash),
-- written in the same statement as the payment. Its rows outlive retention on purpose: a replay
-- of an archived payment is still recognised and never counted twice.
--
-- The payment indexes present before this migration (whatever earlier migrations made them) are
-- recreated on the partitioned table by reading their definitions from the catalog; only the
-- primary key (now (id, payment_timestamp)) and the unique hash index (now the table above) change.

-- (lease_id, payment_id, payment_timestamp) is the payment's full key, so the lookup of a hash
-- reaches its one row through the payment table's primary key and one partition (and, on Citus,
-- one shard: docs/scale.md).
CREATE TABLE x402_settlement_hashes (
  facilitator_tx_hash VARCHAR(66) PRIMARY KEY,
  lease_id            VARCHAR(255) NOT NULL,
  payment_id          UUID NOT NULL,
  payment_timestamp   TIMESTAMPTZ NOT NULL
);

CREATE FUNCTION x402_payment_partition_name(day DATE) RETURNS TEXT
LANGUAGE sql IMMUTABLE AS $$ SELECT 'x402_payments_p' || to_char(day, 'YYYYMMDD') $$;

-- Creates the partition of one UTC day unless it exists; true when it was created. Rows of that
-- day waiting in the DEFAULT partition are moved into it first (attaching a range the DEFAULT
-- partition still holds rows of would fail). Serialized by an advisory lock, so several service
-- instances and the CLI can call it at once.
CREATE FUNCTION x402_ensure_payment_partition(day DATE) RETURNS BOOLEAN
LANGUAGE plpgsql AS $$
DECLARE
  part TEXT := x402_payment_partition_name(day);
  lower_bound TIMESTAMPTZ := day::timestamp AT TIME ZONE 'UTC';
  upper_bound TIMESTAMPTZ := (day + 1)::timestamp AT TIME ZONE 'UTC';
BEGIN
  PERFORM pg_advisory_xact_lock(hashtext('x402_payments partitions'));
  IF to_regclass(part) IS NOT NULL THEN
    RETURN FALSE;
  END IF;
  EXECUTE format('CREATE TABLE %I (LIKE x402_payments INCLUDING DEFAULTS INCLUDING CONSTRAINTS)', part);
  EXECUTE format(
    'WITH moved AS (DELETE FROM x402_payments_default WHERE payment_timestamp >= $1 AND payment_timestamp < $2 RETURNING *)
     INSERT INTO %I SELECT * FROM moved', part) USING lower_bound, upper_bound;
  EXECUTE format('ALTER TABLE x402_payments ATTACH PARTITION %I FOR VALUES FROM (%L) TO (%L)', part, lower_bound, upper_bound);
  RETURN TRUE;
END $$;

DO $$
DECLARE
  index_defs TEXT[] := '{}';
  foreign_keys TEXT[] := '{}';
  item RECORD;
  statement TEXT;
  day DATE;
BEGIN
  FOR item IN
    SELECT c.relname AS name, pg_get_indexdef(i.indexrelid) AS def, i.indisunique AS is_unique, i.indisprimary AS is_primary
      FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
     WHERE i.indrelid = 'x402_payments'::regclass
  LOOP
    IF item.is_primary THEN
      CONTINUE;
    ELSIF item.is_unique AND item.name <> 'idx_x402_payments_facilitator_tx_hash' THEN
      RAISE EXCEPTION 'x402_payments has unique index %, which cannot be carried over to the partitioned table', item.name;
    ELSIF NOT item.is_unique THEN
      index_defs := index_defs || item.def;
    END IF;
    EXECUTE format('DROP INDEX %I', item.name);
  END LOOP;
  FOR item IN
    SELECT conname, pg_get_constraintdef(oid) AS def FROM pg_constraint WHERE conrelid = 'x402_payments'::regclass AND contype = 'f'
  LOOP
    foreign_keys := foreign_keys || format('ALTER TABLE x402_payments ADD CONSTRAINT %I %s', item.conname, item.def);
  END LOOP;

  ALTER TABLE x402_payments RENAME TO x402_payments_unpartitioned;
  ALTER TABLE x402_payments_unpartitioned RENAME CONSTRAINT x402_payments_pkey TO x402_payments_unpartitioned_pkey;

  CREATE TABLE x402_payments (LIKE x402_payments_unpartitioned INCLUDING DEFAULTS INCLUDING CONSTRAINTS)
    PARTITION BY RANGE (payment_timestamp);
  ALTER TABLE x402_payments ADD CONSTRAINT x402_payments_pkey PRIMARY KEY (id, payment_timestamp);
  CREATE TABLE x402_payments_default PARTITION OF x402_payments DEFAULT;

  -- A partition for every day that has payments, and for today and the next seven days.
  FOR day IN
    SELECT DISTINCT (payment_timestamp AT TIME ZONE 'UTC')::date FROM x402_payments_unpartitioned
    UNION
    SELECT (now() AT TIME ZONE 'UTC')::date + n FROM generate_series(0, 7) AS n
  LOOP
    PERFORM x402_ensure_payment_partition(day);
  END LOOP;

  INSERT INTO x402_payments SELECT * FROM x402_payments_unpartitioned;
  INSERT INTO x402_settlement_hashes (facilitator_tx_hash, lease_id, payment_id, payment_timestamp)
    SELECT facilitator_tx_hash, lease_id, id, payment_timestamp FROM x402_payments_unpartitioned;
  DROP TABLE x402_payments_unpartitioned;

  FOREACH statement IN ARRAY foreign_keys LOOP
    EXECUTE statement;
  END LOOP;
  FOREACH statement IN ARRAY index_defs LOOP
    EXECUTE statement;
  END LOOP;
END $$;
