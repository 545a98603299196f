-- 014: a Bloom filter of the cold claims, kept by the claims move, so that a payment of a hash
-- never seen needs no probe of the cold claims' key (docs/scale.md, "The cold claims' filter"):
--   * every payment checked its hash against x402_settlement_hashes_cold, whose key grows with the
--     whole history: at 20 M payments that probe took 13-23 % of the write rate (runs 37-39).
--   * the service keeps this filter in memory and tells the payment statement, per hash, whether
--     the filter may hold it; the statement probes the cold key only for those, and for every hash
--     when the version it was told is not the version here (a change it has not loaded yet).
--   * a filter never answers "absent" for a hash it holds, so no replay passes it. Hashes whose
--     3rd to 18th characters are not hex are left out; the statement probes those always.
--   * layout: `words` 32-bit words in chunks of 256; a hash sets 4 bits of one word, the word
--     chosen by its first 8 hex digits (modulo `words`), the bits by the next 8 (4 x 5 bits). The
--     filter is built at 16 bits per claim and rebuilt, twice the size, below 8.
--   * the move adds the claims it moves in the same transaction as its barrier (settlement-hashes.ts).
--     Every change of the filter gives it a new random `version`, under the state row's lock: a
--     version names one content, also across a restore from a backup (a counter could name two).

CREATE TABLE x402_claim_filter_state (
  one     BOOLEAN PRIMARY KEY DEFAULT TRUE CHECK (one),
  -- a new random positive number at every change of the filter (the service sends -1 for none)
  version BIGINT NOT NULL CHECK (version > 0),
  -- the filter's size in 32-bit words (a multiple of 256)
  words   BIGINT NOT NULL CHECK (words > 0 AND words % 256 = 0),
  -- claims added since the last rebuild (a claim added twice counts twice)
  claims  BIGINT NOT NULL
);

CREATE TABLE x402_claim_filter_chunks (
  chunk INTEGER PRIMARY KEY,
  words INTEGER[] NOT NULL CHECK (cardinality(words) = 256)
);

-- A version for the next change: 63 bits of the md5 of a random UUID, never 0.
CREATE FUNCTION x402_claim_filter_new_version() RETURNS BIGINT
LANGUAGE sql VOLATILE AS $$
  SELECT greatest(1, ('x' || substr(md5(gen_random_uuid()::text), 1, 16))::bit(64)::bigint & 9223372036854775807)
$$;

-- The word of the filter a hash sets (0-based), for a filter of `words` words.
CREATE FUNCTION x402_claim_filter_word(hash TEXT, words BIGINT) RETURNS BIGINT
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
  SELECT ('x' || substr(hash, 3, 8))::bit(32)::bigint % words
$$;

-- The 4 bits a hash sets in its word (one expression, so PostgreSQL inlines it: 0.5 us a hash).
CREATE FUNCTION x402_claim_filter_mask(hash TEXT) RETURNS INTEGER
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
  SELECT (1 << (('x' || substr(hash, 11, 8))::bit(32)::bigint & 31)::int)
       | (1 << ((('x' || substr(hash, 11, 8))::bit(32)::bigint >> 5) & 31)::int)
       | (1 << ((('x' || substr(hash, 11, 8))::bit(32)::bigint >> 10) & 31)::int)
       | (1 << ((('x' || substr(hash, 11, 8))::bit(32)::bigint >> 15) & 31)::int)
$$;

-- Whether the filter can hold a hash: its 3rd to 18th characters, the ones read above, are hex.
CREATE FUNCTION x402_claim_filter_covers(hash TEXT) RETURNS BOOLEAN
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
  SELECT substr(hash, 3, 16) ~ '^[0-9a-fA-F]{16}$'
$$;

-- Adds to the filter the hot claims of payments before `before` (the move calls it after copying
-- them to the cold table), or, when `before` is NULL or the filter would fall below 8 bits per
-- claim, rebuilds it from every cold claim. Returns the filter's version. The caller commits it
-- together with the move's barrier; one process moves at a time, so no claim goes cold meanwhile.
CREATE FUNCTION x402_claim_filter_add(before TIMESTAMPTZ) RETURNS BIGINT
LANGUAGE plpgsql AS $$
DECLARE
  st RECORD;
  added BIGINT := 0;
  total BIGINT;
  size BIGINT;
  v BIGINT;
BEGIN
  IF before IS NOT NULL THEN
    -- Sizes only: hashes the filter cannot hold are counted too.
    SELECT count(*) INTO added FROM x402_settlement_hashes WHERE payment_timestamp < before;
  END IF;
  -- The state row's lock: one change at a time.
  SELECT * INTO st FROM x402_claim_filter_state FOR UPDATE;
  IF before IS NOT NULL AND added = 0 THEN
    RETURN st.version;
  END IF;
  PERFORM set_config('work_mem', '256MB', true);
  IF before IS NULL OR (st.claims + added) * 8 > st.words * 32 THEN
    SELECT count(*) INTO total FROM x402_settlement_hashes_cold;
    size := greatest(256, ceil(total / 2.0 / 256) * 256);
    DELETE FROM x402_claim_filter_chunks;
    INSERT INTO x402_claim_filter_chunks (chunk, words)
    WITH keys AS (
      SELECT x402_claim_filter_word(h, size) AS word, bit_or(x402_claim_filter_mask(h)) AS mask
        FROM x402_settlement_hashes_cold s(h)
       WHERE x402_claim_filter_covers(h)
       GROUP BY 1)
    SELECT c, array_agg(coalesce(keys.mask, 0) ORDER BY w)
      FROM generate_series(0, size / 256 - 1) c
     CROSS JOIN LATERAL generate_series(c::bigint * 256, c::bigint * 256 + 255) w
      LEFT JOIN keys ON keys.word = w
     GROUP BY c;
    UPDATE x402_claim_filter_state SET version = x402_claim_filter_new_version(), words = size, claims = total RETURNING version INTO v;
  ELSE
    WITH keys AS (
      SELECT x402_claim_filter_word(facilitator_tx_hash, st.words) AS word, bit_or(x402_claim_filter_mask(facilitator_tx_hash)) AS mask
        FROM x402_settlement_hashes
       WHERE payment_timestamp < before AND x402_claim_filter_covers(facilitator_tx_hash)
       GROUP BY 1),
    delta AS (
      SELECT t.chunk, array_agg(coalesce(keys.mask, 0) ORDER BY w) AS mask
        FROM (SELECT DISTINCT word / 256 AS chunk FROM keys) t
       CROSS JOIN LATERAL generate_series(t.chunk * 256, t.chunk * 256 + 255) w
        LEFT JOIN keys ON keys.word = w
       GROUP BY t.chunk)
    UPDATE x402_claim_filter_chunks f
       SET words = (SELECT array_agg(u.a | u.b ORDER BY u.o) FROM unnest(f.words, d.mask) WITH ORDINALITY u(a, b, o))
      FROM delta d WHERE f.chunk = d.chunk;
    UPDATE x402_claim_filter_state SET version = x402_claim_filter_new_version(), claims = claims + added RETURNING version INTO v;
  END IF;
  RETURN v;
END $$;

INSERT INTO x402_claim_filter_state (version, words, claims) VALUES (x402_claim_filter_new_version(), 256, 0);
-- The first filter holds the cold claims already there: one read of them (101 s for 19.3 M on the
-- bench machine), longer than the pool's statement timeout, so this transaction has none.
SET LOCAL statement_timeout = 0;
SELECT x402_claim_filter_add(NULL);
