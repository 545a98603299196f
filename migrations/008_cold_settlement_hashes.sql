-- 008: the claims of settlement hashes are split by age into a hot table that payments write into
-- (x402_settlement_hashes, from 007) and a cold one that they only read
-- (x402_settlement_hashes_cold). docs/scale.md ("Hot and cold claims") explains why:
--   * every payment claims its hash by inserting into a B-tree at a random leaf. While that index
--     holds the whole history it outgrows the buffer cache, and each claim reads a leaf from disk
--     and writes out a dirty one; the payment rate then falls with the history kept.
--   * so claims older than a day or so move to the cold table (settlement-hashes.ts,
--     moveClaimsToCold; the service does it every hour, `leasing-store partitions move-claims` by
--     hand). The hot index holds the recent days only, however long the history.
--   * a hash is still recorded once: every claim writer checks the cold table and claims in the hot
--     one in the same statement, and the move waits for the claim statements in flight before it
--     deletes a hot claim (settlement-hashes.ts explains that order).
-- Nothing moves here: existing claims stay hot until the first move.

CREATE TABLE x402_settlement_hashes_cold (
  facilitator_tx_hash VARCHAR(66) PRIMARY KEY,
  lease_id            VARCHAR(255) NOT NULL,
  payment_id          UUID NOT NULL,
  payment_timestamp   TIMESTAMPTZ NOT NULL
);

-- For an import that restores a payment with its id: true when the cold claim of its hash is the
-- same payment (already recorded, nothing to claim); a cold claim by another payment fails the
-- statement with unique_violation, as a hot claim by another payment does through the primary key.
CREATE FUNCTION x402_cold_claim_is_same(hash TEXT, claimed_by UUID, payment UUID) RETURNS BOOLEAN
LANGUAGE plpgsql AS $$
BEGIN
  IF claimed_by <> payment THEN
    RAISE EXCEPTION USING ERRCODE = 'unique_violation',
      MESSAGE = format('settlement hash %s is already recorded for payment %s', hash, claimed_by),
      CONSTRAINT = 'x402_settlement_hashes_cold_pkey';
  END IF;
  RETURN TRUE;
END $$;
