/**
 * Loading the scale benchmark's history: payments generated in SQL in chunks, in key order, by
 * two sessions, with their claims; then compacted by the service's own upkeep code.
 */
import { createHash } from 'node:crypto';
import { COMPACT_AFTER_DAYS, COMPACTIONS, compactClosedPartitions } from '../../src/storage/backends/sql/partition-compaction.js';
import { partitionName } from '../../src/storage/backends/sql/partitions.js';
import { COLD_CLAIMS, HOT_CLAIMS } from '../../src/storage/backends/sql/settlement-hashes.js';
import { range } from '../support/fixtures.js';
import { info, round, type BenchOptions } from '../support/report.js';
import { driverOf } from '../support/sql.js';
import { COLD_BEFORE, GAP_MS, HOUR_START, LEASES, LOAD_CHUNK, LOAD_SESSIONS, type Layout } from './settings.js';
import { session, type Side } from './sides.js';
/**
 * Payment i's random-looking 128 bits: md5 of i, so the bench can name a loaded row (the lookup by
 * hash) without keeping 20 M keys. md5 is uniform over the key space, as real settlement hashes
 * are: the claims indexes the measured writes go into have the shape of the service's own (a
 * random hash lands on a random leaf, never on a cheap right edge). Loaded ids are as random as
 * the version 4 ids written before migration 010; the measured writes get time-ordered ids, which
 * all land in one place of the primary key whatever the loaded ids are.
 */
export function loadedKey(i: number): string {
  return createHash('md5').update(String(i)).digest('hex');
}

/** The settlement hash of loaded payment i: its key (so hash order is id order) and 128 more bits. */
export function loadedHash(i: number): string {
  return `0x${loadedKey(i)}${createHash('md5').update(`h${i}`).digest('hex')}`;
}

/**
 * The load session's settings. Only this connection has them; the measured writes run through the
 * service's own pool with the server's defaults.
 * - synchronous_commit off: a load statement does not wait for its WAL flush (a crash could lose
 *   the last load chunk, which nobody relies on).
 * - session_replication_role replica: the foreign-key triggers (payment -> lease) do not fire, as
 *   in a restore with triggers disabled; every loaded lease id exists (0..LEASES-1) by construction.
 *   The constraints stay in the schema and are enforced on every measured write.
 * - work_mem: the chunk is materialized and sorted in memory where it fits.
 */
const LOAD_SESSION = `SET synchronous_commit = off; SET session_replication_role = replica; SET work_mem = '256MB'; SET maintenance_work_mem = '256MB'`;
const RESET_SESSION = 'RESET synchronous_commit; RESET session_replication_role; RESET work_mem; RESET maintenance_work_mem';

/**
 * What autovacuum would vacuum and analyze after loading payments [from, to): the heap, or on the
 * partitioned side the day partitions those payments went into. (Autovacuum never analyzes a
 * partitioned parent, and `ANALYZE x402_payments` would re-sample every partition at every step.)
 */
function vacuumTargets(layout: Layout, from: number, to: number): string[] {
  if (layout === 'unpartitioned') return ['x402_payments'];
  const newest = HOUR_START - from * GAP_MS;
  const oldest = HOUR_START - (to - 1) * GAP_MS;
  const days: string[] = [];
  for (let day = Math.floor(oldest / 86_400_000) * 86_400_000; day <= newest; day += 86_400_000) {
    days.push(partitionName(new Date(day).toISOString().slice(0, 10)));
  }
  return days;
}

/**
 * Adds payments [from, to) (and, on the partitioned side, their hash claims) in SQL, in chunks of
 * LOAD_CHUNK rows, one statement each. What makes it fast without changing what is loaded:
 * - each chunk is inserted in key order (id, whose order is the hash's order), so the random keys
 *   of a chunk merge into the primary key and hash indexes in one sweep instead of touching a
 *   random leaf per row (a growing index larger than shared_buffers then costs a read per row);
 *   on the partitioned side rows go day by day (one partition's indexes at a time);
 * - the load session's settings (LOAD_SESSION);
 * - {@link LOAD_SESSIONS} sessions, each loading the next chunk, so both cores work although one
 *   layout loads at a time.
 * The indexes are the schema's own, kept through the load (none dropped and rebuilt), so at every
 * step they hold what the service's would: every row, in pages filled by inserts.
 * Afterwards VACUUM ANALYZE of what received rows (vacuumTargets: what autovacuum would soon do;
 * vacuum only visits pages not yet all-visible), so autovacuum does not start mid-measurement.
 */
export async function load(side: Side, to: number): Promise<number> {
  const started = performance.now();
  const from0 = side.loaded;
  const chunks: [number, number][] = [];
  for (let from = from0; from < to; from += LOAD_CHUNK) chunks.push([from, Math.min(to, from + LOAD_CHUNK)]);
  const extra = await Promise.all(range(1, LOAD_SESSIONS, () => session(side.t.url)));
  const params = side.layout === 'partitioned' ? [new Date(HOUR_START), COLD_BEFORE] : [new Date(HOUR_START)];
  let next = 0;
  let inserted = 0;
  try {
    await Promise.all(
      [side.client, ...extra].map(async (client) => {
        await client.query(LOAD_SESSION);
        try {
          for (let chunk = chunks[next++]; chunk !== undefined; chunk = chunks[next++]) {
            await client.query(loadSql(side.layout, chunk[0], chunk[1]), params);
            inserted += chunk[1] - chunk[0];
            info(`scale: ${side.layout} ${from0 + inserted} rows (${round(inserted / ((performance.now() - started) / 1000), 0)} rows/s)`);
          }
        } finally {
          await client.query(RESET_SESSION);
        }
      }),
    );
  } finally {
    await Promise.all(extra.map((client) => client.end().catch(() => undefined)));
  }
  side.loaded = to;
  const vacuumStarted = performance.now();
  await side.client.query(`VACUUM (ANALYZE) ${vacuumTargets(side.layout, from0, to).join(', ')}, ${HOT_CLAIMS}, ${COLD_CLAIMS}`);
  const filterStarted = performance.now();
  // The cold claims' filter holds what the moves would have put in it (migration 014): here the
  // claims went cold by the load, so the filter is rebuilt from them, as a move that outgrows it does.
  await side.client.query('SELECT x402_claim_filter_add(NULL)');
  const seconds = (performance.now() - started) / 1000;
  info(
    `scale: ${side.layout} loaded to ${to} rows in ${round(seconds, 1)} s (${round((to - from0) / seconds, 0)} rows/s; vacuum ${round((filterStarted - vacuumStarted) / 1000, 1)} s; cold claims filter ${round((performance.now() - filterStarted) / 1000, 1)} s)`,
  );
  return (to - from0) / seconds;
}

/** The statement that loads payments [from, end) (and on the partitioned side their claims); see {@link load}. */
function loadSql(layout: Layout, from: number, end: number): string {
  const rows = `SELECT md5(i::text)::uuid AS id, 'LEASE-' || (i % ${LEASES}) AS lease_id, 'second' AS mode, 1 AS interval_seconds,
                       277777::numeric AS amount, '0x' || lpad(to_hex(i % ${LEASES}), 40, '0') AS payer,
                       $1::timestamptz - (i * ${GAP_MS}) * interval '1 millisecond' AS ts,
                       '0x' || md5(i::text) || md5('h' || i) AS hash
                  FROM generate_series(${from}::bigint, ${end - 1}::bigint) AS i`;
  const order = layout === 'partitioned' ? `date_trunc('day', ts, 'UTC'), id` : 'id';
  const insert = `INSERT INTO x402_payments (id, lease_id, mode, interval_seconds, amount_minor_units, payer, payment_timestamp, facilitator_tx_hash, bucket_slot, late)
                  SELECT id, lease_id, mode, interval_seconds, amount, payer, ts, hash, date_trunc('hour', ts), false FROM r ORDER BY ${order}`;
  return layout === 'partitioned'
    ? `WITH r AS MATERIALIZED (${rows}),
            h AS (INSERT INTO ${HOT_CLAIMS} SELECT hash, lease_id, id, ts FROM r WHERE ts >= $2 ORDER BY hash),
            c AS (INSERT INTO ${COLD_CLAIMS} SELECT hash, lease_id, id, ts FROM r WHERE ts < $2 ORDER BY hash)
       ${insert}`
    : `WITH r AS MATERIALIZED (${rows}) ${insert}`;
}

/**
 * What the service's upkeep does to the loaded days once they are over: compacts them in lease
 * order (partition-compaction.ts), through the service's own code and pool, timed. The days that
 * received rows in this step are compacted (again: the history grows backwards into the oldest
 * day of the step before). Then VACUUM of the new partitions, which autovacuum would otherwise
 * start mid-measurement (a compacted partition is a new table, all of it not yet all-visible).
 */
export async function compactLoaded(side: Side, from: number, to: number, report: BenchOptions['report']): Promise<void> {
  const touched = vacuumTargets(side.layout, from, to);
  await side.client.query(`DELETE FROM ${COMPACTIONS} WHERE partition_name = ANY($1)`, [touched]);
  const started = performance.now();
  const done = await compactClosedPartitions(driverOf(side.db), COMPACT_AFTER_DAYS, { lockTimeoutMs: 10_000 });
  const seconds = (performance.now() - started) / 1000;
  const rows = done.reduce((sum, c) => sum + c.payments, 0);
  report(`scale.${side.layout}.compactRowsPerSecond`, round(rows / seconds, 0), 'rows/s', { rows: to, layout: side.layout, days: done.length, compactedRows: rows, seconds: round(seconds, 1) });
  if (done.length > 0) await side.client.query(`VACUUM ${done.map((c) => c.partition).join(', ')}`);
}
