-- 010: new payments get time-ordered ids (UUID version 7, RFC 9562) instead of random ones
-- (docs/scale.md, "Time-ordered payment ids"):
--   * a payment row's primary key is (id, payment_timestamp), one index per day partition. With
--     random (version 4) ids every insert lands on a random leaf of today's index: at hundreds of
--     thousands of payments a day that index outgrows the buffer cache, and each payment reads a
--     leaf from outside it and dirties one that must be written out later. Ids that start with
--     the creation time in milliseconds all land at one place, the right edge of what is there.
--   * the rest of the id stays random (74 bits), so ids remain unguessable and unique without
--     coordination; their order is now roughly creation order, which nothing relies on.
--   * ids already stored keep their value; imported records keep the ids they bring.
-- x402_time_ordered_uuid() is a plain SQL function of core PostgreSQL (gen_random_uuid, 13+), so
-- it runs on PostgreSQL and PGlite alike and is inlined into the statements that call it.

CREATE FUNCTION x402_time_ordered_uuid() RETURNS uuid
LANGUAGE sql VOLATILE PARALLEL SAFE AS $$
  -- A random version 4 UUID with its first 48 bits replaced by Unix time in ms, and its version
  -- nibble turned from 4 (0100) into 7 (0111) by setting bits 52 and 53 (bit n is bit n % 8, from
  -- the right, of byte n / 8).
  SELECT encode(
    set_bit(set_bit(
      overlay(uuid_send(gen_random_uuid())
              PLACING substring(int8send(floor(extract(epoch FROM clock_timestamp()) * 1000)::bigint) FROM 3)
              FROM 1 FOR 6),
      52, 1), 53, 1),
    'hex')::uuid
$$;

ALTER TABLE x402_payments ALTER COLUMN id SET DEFAULT x402_time_ordered_uuid();
