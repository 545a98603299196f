-- 011: settlement hashes compare byte by byte (COLLATE "C") in the payments and both claims tables
-- (docs/performance.md, "Settlement hashes compare byte by byte"):
--   * a settlement hash is 0x and 64 hex digits. Compared under the database's collation (a libc
--     locale such as en_US.UTF-8 or C.UTF-8), every comparison goes through strcoll, and sorts
--     cannot use abbreviated keys. Under "C" it is memcmp, and sorts compare 8-byte prefixes.
--   * every payment probes the cold claims' primary key and inserts into the hot one, and a load
--     into an empty store builds the hot one from scratch: on this machine, building a unique
--     index of 880,000 hashes took 2.1 s under C.UTF-8 and 1.3 s under "C".
--   * equality is the same under both (both collations are deterministic), so no hash is found,
--     refused or claimed differently; only the order of hashes changes, which nothing but the
--     claims move's keyset (internal, consistent within one collation) uses.
--   * the column's type stays VARCHAR(66): PostgreSQL rewrites no table for a collation change,
--     only the indexes on the column (the claims' primary keys; payments have none on it).

ALTER TABLE x402_settlement_hashes ALTER COLUMN facilitator_tx_hash TYPE VARCHAR(66) COLLATE "C";
ALTER TABLE x402_settlement_hashes_cold ALTER COLUMN facilitator_tx_hash TYPE VARCHAR(66) COLLATE "C";
ALTER TABLE x402_payments ALTER COLUMN facilitator_tx_hash TYPE VARCHAR(66) COLLATE "C";
