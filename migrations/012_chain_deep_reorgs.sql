-- 012: deep reorgs are kept until an operator acknowledges them (docs/chain.md, "Deep reorgs").
-- A reorg deeper than the confirmations replaced blocks the store had treated as final; the
-- service fails readiness until a person has looked. That failure lived in the process that saw
-- the reorg, so a restart cleared it without anyone looking, and the other instances of the
-- service never failed at all. Here each deep reorg is one row, written in the rewind's own
-- transaction (no rewind without its row), read by every instance's readiness, and marked with
-- who acknowledged it, when and why (rows are never deleted: they are the record of it).
CREATE TABLE chain_deep_reorgs (
  id                BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  chain_id          INTEGER NOT NULL CHECK (chain_id > 0),
  detected_at       TIMESTAMPTZ NOT NULL DEFAULT NOW(),
  -- The first replaced block and how many blocks were replaced (the ingested block minus the
  -- common ancestor): the store reflects the chain again once processing is past
  -- from_block + depth - 1.
  from_block        BIGINT NOT NULL CHECK (from_block >= 1),
  depth             INTEGER NOT NULL CHECK (depth >= 1),
  removed_events    INTEGER NOT NULL CHECK (removed_events >= 0),
  undone_events     INTEGER NOT NULL CHECK (undone_events >= 0),
  acknowledged_at   TIMESTAMPTZ,
  acknowledged_by   VARCHAR(200),
  acknowledged_note TEXT,
  CHECK ((acknowledged_at IS NULL) = (acknowledged_by IS NULL))
);

-- Readiness reads the unacknowledged ones of its chain on every probe.
CREATE INDEX idx_chain_deep_reorgs_unacknowledged ON chain_deep_reorgs (chain_id, id) WHERE acknowledged_at IS NULL;
