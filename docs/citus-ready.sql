-- The schema changes a Citus cluster needs before the tables are distributed (docs/scale.md,
-- "Past one machine"). Citus requires every primary key and unique constraint of a distributed
-- table to contain its distribution column; these statements make that so on the schema that
-- migrations 001-014 produce, and change nothing else (009-014 need nothing here: 009's two
-- compaction tables, 012's chain_deep_reorgs and 013's three reconcile tables stay on the
-- coordinator, 014's two filter tables become reference tables; 010 changes a column default and
-- 011 a column collation, neither a key). test/citus-ready.test.ts applies them to a
-- fresh copy of the migrated schema (plain PostgreSQL: Citus is not needed to check them) and
-- runs the hot paths on the result. After them, on the Citus coordinator:
--
--   SELECT create_reference_table('assets');
--   SELECT create_reference_table('x402_claim_filter_state');
--   SELECT create_reference_table('x402_claim_filter_chunks');
--   SELECT create_distributed_table('leases', 'lease_id');
--   SELECT create_distributed_table('x402_payments', 'lease_id', colocate_with => 'leases');
--   SELECT create_distributed_table('x402_batches', 'lease_id', colocate_with => 'leases');
--   SELECT create_distributed_table('x402_settlement_hashes', 'facilitator_tx_hash');
--   SELECT create_distributed_table('x402_settlement_hashes_cold', 'facilitator_tx_hash', colocate_with => 'x402_settlement_hashes');
--   SELECT citus_add_local_table_to_metadata('events', cascade_via_foreign_keys => true);
--   (events, the chain_* tables and the compaction's tables stay on the coordinator: docs/scale.md)

-- leases, distributed by lease_id: the uuid primary key gains the lease id (lease_id stays unique
-- on its own, which is what the payment and batch foreign keys reference).
ALTER TABLE leases DROP CONSTRAINT leases_pkey;
ALTER TABLE leases ADD CONSTRAINT leases_pkey PRIMARY KEY (lease_id, id);

-- x402_payments, distributed by lease_id and still partitioned by day.
ALTER TABLE x402_payments DROP CONSTRAINT x402_payments_pkey;
ALTER TABLE x402_payments ADD CONSTRAINT x402_payments_pkey PRIMARY KEY (lease_id, id, payment_timestamp);

-- x402_batches, distributed by lease_id; (lease_id, hour_bucket) is unique already. The primary
-- key's prefix now serves every lease lookup, so the single-column lease index goes.
ALTER TABLE x402_batches DROP CONSTRAINT x402_batches_pkey;
ALTER TABLE x402_batches ADD CONSTRAINT x402_batches_pkey PRIMARY KEY (lease_id, id);
DROP INDEX idx_x402_batches_lease_id;

-- events and the chain tables stay coordinator-local (chain_effects references events(id)): no
-- change.

-- x402_settlement_hashes and x402_settlement_hashes_cold (primary key = their distribution
-- column, colocated, so a move and a claim's cold check stay on one shard per hash) and assets (a
-- reference table) need no change.
