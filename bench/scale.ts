/**
 * Issue 15: the cost curve of the payment table. Two PostgreSQL databases are loaded in the same
 * run, step by step, with the same payments (1,000 leases, ~30 days, the newest just before the
 * measured hour): `partitioned` (every migration, so x402_payments is split by day) and
 * `unpartitioned` (the migrations before 007, and 010: one heap with its unique hash index; only the empty
 * claims tables are added so the same storage code runs on both, and the hashes compare byte-wise
 * as migration 011 makes them). On the partitioned side the
 * loaded claims of payments before yesterday go to the cold claims table, where the service's
 * upkeep would have moved them (migration 008), and the days before yesterday are compacted in
 * lease order by the upkeep's own code (migration 009; timed: `compactRowsPerSecond`). At each step it
 * prints, per layout: recordPayment throughput and p99 (64 concurrent callers, group commit, new
 * payments in one recent hour), the p99 of the keyed reads (a lease's first payments page, a page
 * after a recent cursor, a day of revenue, a payment by settlement hash; on a quiet server before
 * the writes, and again after them as `.afterWrites`) and the payment table's heap and index
 * sizes. Goal: partitioned, throughput and read p99 at the last step within 10% of
 * the first. Every step but the last is measured on a copy of its database, so no step carries the
 * payments an earlier step's measurement wrote. The first step's partitioned copy is kept and
 * measured again beside the last step, call for call (`scale.sameTime.*`, {@link sameTime}), so
 * the goal can be judged without the minutes between the steps.
 *
 * BENCH_SCALE_STEPS (default 1000000,5000000,10000000,20000000) sets the row counts,
 * BENCH_SCALE_SECONDS (default 5) the length of each throughput run, BENCH_SCALE_READ_SAMPLES
 * (default 2000) the calls of each read series, BENCH_SCALE_CHUNK (default
 * 2000000) the rows per load statement. Rows are generated in SQL (generate_series), so loading
 * costs no client round trips; the layouts run one after the other, each alone on the server
 * ({@link RUN_ORDER}; see {@link load} for what makes loading fast and why the loaded indexes are
 * the service's).
 * BENCH_SCALE_LONG_CHECKPOINTS measures each step's writes again with the operator's checkpoint
 * lever (its comment below). Every database it made is dropped at the end.
 */
import { createHash, randomBytes } from 'node:crypto';
import { copyFile, mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { PostgresDatabase } from '../src/storage/backends/postgres/postgres-database.js';
import { paymentFromRow } from '../src/storage/backends/sql/codecs.js';
import { COMPACT_AFTER_DAYS, COMPACTIONS, compactClosedPartitions } from '../src/storage/backends/sql/partition-compaction.js';
import { partitionName, utcDay } from '../src/storage/backends/sql/partitions.js';
import { CLAIMS_HOT_DAYS, COLD_CLAIMS, HOT_CLAIMS, ONE_HASH_LOOKUP } from '../src/storage/backends/sql/settlement-hashes.js';
import type { RecordPaymentParams } from '../src/storage/contract/database.js';
import { createTestDatabase, type TestDatabase } from '../test/support/pg.js';
import { leaseKey, pick, prng, range, storedAsset, storedLease } from './support/fixtures.js';
import { alternatingP99 } from './support/alternating.js';
import { info, round, type BenchOptions } from './support/report.js';
import { driverOf } from './support/sql.js';
import { convert, nowNs, summarize } from './support/stats.js';

const LEASES = 1_000;
const ASSETS = 100;
const DAYS = 30;
const STEPS = (process.env.BENCH_SCALE_STEPS ?? '1000000,5000000,10000000,20000000').split(',').map((s) => Number(s.trim()));
const SECONDS = Number(process.env.BENCH_SCALE_SECONDS ?? 5);
const CONCURRENCY = 64;
/**
 * Calls per read series (BENCH_SCALE_READ_SAMPLES, default 2,000). The p99 of 400 calls is their
 * fourth slowest: in runs 23 and 24 the three series of one read at one step differed by up to
 * 2.4x (0.27-0.65 ms), more than the goal's 10 %. The p99 of 2,000 is their twentieth slowest.
 */
const READ_SAMPLES = Number(process.env.BENCH_SCALE_READ_SAMPLES ?? 2000);
/** Rows generated per INSERT statement (one transaction each; BENCH_SCALE_CHUNK). */
const LOAD_CHUNK = Number(process.env.BENCH_SCALE_CHUNK ?? 2_000_000);
/** Sessions loading chunks at once: one server backend per core of the 2-core machine. */
const LOAD_SESSIONS = 2;
const LAYOUTS = ['partitioned', 'unpartitioned'] as const;
/**
 * The layouts run one after the other, each alone on the server (the other's database dropped):
 * at 20 M rows the two layouts and the first step's copy take about 25 GB, more than the
 * machine's memory, so measured beside each other a random old row came from disk (run 25's
 * lookup by hash). The partitioned side runs last: its last step and the first step's copy stay
 * for {@link sameTime}. BENCH_SCALE_UNPARTITIONED=0 leaves the unpartitioned layout out (the goal
 * is judged on the partitioned one; the run takes half the time).
 */
const RUN_ORDER: readonly Layout[] = process.env.BENCH_SCALE_UNPARTITIONED === '0' ? ['partitioned'] : ['unpartitioned', 'partitioned'];
/**
 * BENCH_SCALE_LONG_CHECKPOINTS (a size, e.g. `16GB`): after each step's measurements, its writes
 * are measured again (`.longCheckpoints.*`) with the server's `max_wal_size` at that size and
 * `checkpoint_timeout` at 30 minutes (ALTER SYSTEM and a reload, reset right after), from a
 * checkpoint and after BENCH_SCALE_WARMUP_SECONDS (default 30) of writes (`.longCheckpoints.warmup.*`).
 * Why: after a checkpoint every page's first change is logged whole; at the default 1 GB a
 * checkpoint comes every few seconds at these rates, so every write to a large random-key index
 * pays a page image, while with a long interval only the first change per page and interval does
 * (docs/scale.md). `scale.longCheckpoints.goal` judges these throughputs with the same reads.
 */
const LONG_CHECKPOINTS = process.env.BENCH_SCALE_LONG_CHECKPOINTS;
/**
 * Seconds of writes before each throughput measurement (`.warmup.*`, reported beside it), so the
 * measured runs see the steady state of the cache, not what the step's bulk work (loading,
 * compacting 29 days at once) left in it: the cold claims index a payment probes is read back
 * into the page cache by the payments themselves, as it is in a service that runs all day.
 */
const WARMUP_SECONDS = Number(process.env.BENCH_SCALE_WARMUP_SECONDS ?? 30);
/**
 * BENCH_SCALE_COMPACT=0: the loaded days are left as loaded (not compacted), to measure what the
 * compaction changes in the same bench.
 */
const COMPACT = process.env.BENCH_SCALE_COMPACT !== '0';
/** BENCH_SCALE_WAL_COMPRESSION=1: each step's throughput measured again with `wal_compression = lz4` (`.walCompressed.*`). */
const WAL_COMPRESSION = process.env.BENCH_SCALE_WAL_COMPRESSION === '1';
type Layout = (typeof LAYOUTS)[number];
const GOAL_PCT = 10;
/**
 * Whether the first step's partitioned copy (the one its figures were measured on) is kept and
 * measured again beside the last step (`scale.sameTime.*`, {@link sameTime});
 * BENCH_SCALE_SAME_TIME=0 leaves it out (the copy takes the first step's size on disk).
 */
const SAME_TIME = process.env.BENCH_SCALE_SAME_TIME !== '0';

/** The measured hour: three hours ago (never settled here); loaded payments are older than it. */
const HOUR_START = Math.floor(Date.now() / 3_600_000) * 3_600_000 - 3 * 3_600_000;
/** Loaded payment i is i * GAP_MS before HOUR_START: every step extends the history backwards, at one density. */
const GAP_MS = (DAYS * 86_400_000) / Math.max(...STEPS);
/**
 * Loaded claims before this instant are loaded into the cold table: where the service's hourly
 * upkeep would have moved them (the claims of payments before yesterday, CLAIMS_HOT_DAYS).
 */
const COLD_BEFORE = new Date(`${utcDay(new Date(HOUR_START), -CLAIMS_HOT_DAYS)}T00:00:00Z`);

const repoDir = fileURLToPath(new URL('..', import.meta.url));

/** The keyed reads the goal names, in the order their p99s are reported. */
const READS = ['firstPage', 'recentPage', 'dailyRevenue', 'byHash'] as const;

/** Every figure this module can print. */
export const names: readonly string[] = [
  ...LAYOUTS.flatMap((l) =>
    ['throughput', 'recordPayment.p99', 'walBytesPerPayment', 'warmup.throughput', 'warmup.walBytesPerPayment', 'longCheckpoints.throughput', 'longCheckpoints.recordPayment.p99', 'longCheckpoints.walBytesPerPayment', 'longCheckpoints.warmup.throughput', 'longCheckpoints.warmup.walBytesPerPayment', 'walCompressed.throughput', 'walCompressed.recordPayment.p99', 'walCompressed.walBytesPerPayment', ...READS.map((r) => `read.${r}.p99`), 'tableBytes', 'indexBytes', 'hashTableBytes', 'loadRowsPerSecond', 'compactRowsPerSecond'].map(
      (f) => `scale.${l}.${f}`,
    ),
  ),
  'scale.goal',
  'scale.longCheckpoints.goal',
  ...[...READS.map((r) => `read.${r}.p99`), 'throughput', 'goal'].map((f) => `scale.sameTime.${f}`),
  ...READS.map((r) => `scale.sameTime.callByCall.read.${r}.p99`),
  'scale.sameTime.bound.byHashSql.p99',
];

interface Side {
  layout: Layout;
  t: TestDatabase;
  db: PostgresDatabase;
  client: pg.Client;
  loaded: number;
}

/**
 * The unpartitioned layout's migrations: those before 007, and 010 (time-ordered payment ids),
 * which the payment statements of both layouts call.
 */
async function unpartitionedMigrations(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'scale-migrations-'));
  for (const file of await readdir(join(repoDir, 'migrations'))) {
    const version = Number(file.slice(0, 3));
    if (/^\d{3}_.*\.sql$/.test(file) && (version < 7 || version === 10)) await copyFile(join(repoDir, 'migrations', file), join(dir, file));
  }
  return dir;
}

/** A session of the bench's own on a database (outside the service's pool). */
async function session(url: string): Promise<pg.Client> {
  const client = new pg.Client({ connectionString: url });
  client.on('error', () => undefined);
  await client.connect();
  return client;
}

/** The bench's pool (the service's size) and its own session on a database. */
async function connect(url: string): Promise<{ db: PostgresDatabase; client: pg.Client }> {
  const db = new PostgresDatabase(url, { pool: { max: 20, idleTimeoutMillis: 0 } });
  await db.connect();
  return { db, client: await session(url) };
}

async function openSide(layout: Layout): Promise<Side> {
  const t = await createTestDatabase();
  const { db, client } = await connect(t.url);
  if (layout === 'partitioned') {
    const result = await db.migrator().up();
    if (result.error) throw result.error;
    // The history's days (and today) get their partitions before loading, as the service would have made them.
    await client.query(
      `SELECT x402_ensure_payment_partition(d::date) FROM generate_series($1::timestamptz - interval '${DAYS + 1} days', $1::timestamptz + interval '1 day', interval '1 day') AS d`,
      [new Date(HOUR_START)],
    );
  } else {
    const dir = await unpartitionedMigrations();
    try {
      const result = await db.migrator({ dir }).up();
      if (result.error) throw result.error;
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
    for (const table of [HOT_CLAIMS, COLD_CLAIMS]) {
      await client.query(`CREATE TABLE ${table} (
        facilitator_tx_hash VARCHAR(66) COLLATE "C" PRIMARY KEY, lease_id VARCHAR(255) NOT NULL, payment_id UUID NOT NULL, payment_timestamp TIMESTAMPTZ NOT NULL)`);
    }
    // Migration 011's byte-wise hashes, as on the partitioned side (here the payment table's own
    // unique hash index is the one rebuilt).
    await client.query(`ALTER TABLE x402_payments ALTER COLUMN facilitator_tx_hash TYPE VARCHAR(66) COLLATE "C"`);
  }
  info(`scale: ${layout} in database ${t.name}`);
  await db.importRecords('assets', range(0, ASSETS, storedAsset));
  await db.importRecords('leases', range(0, LEASES, (i) => ({ ...storedLease(i, ASSETS), status: 'active' as const })));
  return { layout, t, db, client, loaded: 0 };
}

/**
 * Payment i's random-looking 128 bits: md5 of i, so the bench can name a loaded row (the lookup by
 * hash) without keeping 20 M keys. md5 is uniform over the key space, as real settlement hashes
 * are: the claims indexes the measured writes go into have the shape of the service's own (a
 * random hash lands on a random leaf, never on a cheap right edge). Loaded ids are as random as
 * the version 4 ids written before migration 010; the measured writes get time-ordered ids, which
 * all land in one place of the primary key whatever the loaded ids are.
 */
function loadedKey(i: number): string {
  return createHash('md5').update(String(i)).digest('hex');
}

/** The settlement hash of loaded payment i: its key (so hash order is id order) and 128 more bits. */
function loadedHash(i: number): string {
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
async function load(side: Side, to: number): Promise<number> {
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
  const seconds = (performance.now() - started) / 1000;
  info(
    `scale: ${side.layout} loaded to ${to} rows in ${round(seconds, 1)} s (${round((to - from0) / seconds, 0)} rows/s; vacuum ${round((performance.now() - vacuumStarted) / 1000, 1)} s)`,
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
async function compactLoaded(side: Side, from: number, to: number, report: BenchOptions['report']): Promise<void> {
  const touched = vacuumTargets(side.layout, from, to);
  await side.client.query(`DELETE FROM ${COMPACTIONS} WHERE partition_name = ANY($1)`, [touched]);
  const started = performance.now();
  const done = await compactClosedPartitions(driverOf(side.db), COMPACT_AFTER_DAYS, { lockTimeoutMs: 10_000 });
  const seconds = (performance.now() - started) / 1000;
  const rows = done.reduce((sum, c) => sum + c.payments, 0);
  report(`scale.${side.layout}.compactRowsPerSecond`, round(rows / seconds, 0), 'rows/s', { rows: to, layout: side.layout, days: done.length, compactedRows: rows, seconds: round(seconds, 1) });
  if (done.length > 0) await side.client.query(`VACUUM ${done.map((c) => c.partition).join(', ')}`);
}

/** 64 callers recording new payments in the measured hour for `seconds`. */
async function drive(side: Side, seconds: number, tag: string, db: PostgresDatabase = side.db): Promise<{ rate: number; p99: number; errors: number; count: number }> {
  const random = prng(tag.length + side.loaded);
  const latencies: number[] = [];
  let errors = 0;
  let firstError: unknown;
  const deadline = nowNs() + seconds * 1e9;
  const start = nowNs();
  const caller = async () => {
    while (nowNs() < deadline) {
      const payment: RecordPaymentParams = {
        leaseId: leaseKey(pick(random, LEASES)),
        amount: '277777',
        timestamp: new Date(HOUR_START + pick(random, 3_600_000)).toISOString(),
        mode: 'second',
        // Random, as a real settlement hash is: it lands on a random leaf of the (growing) hash index.
        facilitatorTxHash: `0x${randomBytes(32).toString('hex')}`,
      };
      const t0 = nowNs();
      try {
        await db.recordPayment(payment);
        latencies.push(nowNs() - t0);
      } catch (error) {
        errors += 1;
        firstError ??= error;
      }
    }
  };
  await Promise.all(Array.from({ length: CONCURRENCY }, caller));
  const elapsed = (nowNs() - start) / 1e9;
  if (firstError !== undefined) info(`scale: ${errors} errors, first: ${String(firstError)}`);
  return { rate: latencies.length / elapsed, p99: summarize(convert(latencies, 'ms')).p99, errors, count: latencies.length };
}

/** Read runs per figure; the lowest p99 is reported (as throughput is the best of its runs), every run's beside it. */
const READ_RUNS = 3;
/**
 * Calls of a read made before it is timed: a series' worth, so the first timed series does not
 * start cold (with 20 calls, run 25's first page at 1 M took 2.91, 0.91 and 0.49 ms in its three
 * series). What is measured is a read of a running service, not its first minutes.
 */
const READ_WARMUP_CALLS = READ_SAMPLES;

/**
 * The p99 of `READ_SAMPLES` sequential calls, best of {@link READ_RUNS} runs: a few scheduling
 * hiccups of the 2-core machine (a checkpoint, the other database's autovacuum) can decide a
 * single run; what the table's size costs shows in every run.
 */
async function readP99(side: Side, run: (i: number) => Promise<unknown>): Promise<{ p99: number; runs: number[]; blocksReadPerCall: number; blocksHitPerCall: number }> {
  for (let i = 0; i < READ_WARMUP_CALLS; i++) await run(i);
  const before = await blockCounters(side);
  const runs: number[] = [];
  for (let r = 0; r < READ_RUNS; r++) {
    const samples: number[] = [];
    for (let i = 0; i < READ_SAMPLES; i++) {
      const t0 = nowNs();
      await run(i);
      samples.push(nowNs() - t0);
    }
    runs.push(round(summarize(convert(samples, 'ms')).p99));
  }
  const after = await blockCounters(side);
  const calls = READ_RUNS * READ_SAMPLES;
  return { p99: Math.min(...runs), runs, blocksReadPerCall: round((after.read - before.read) / calls, 1), blocksHitPerCall: round((after.hit - before.hit) / calls, 1) };
}

/**
 * This database's blocks read from outside shared_buffers and found in it, so far. A backend
 * reports its counters when it goes idle, but when it reported less than a second before, only
 * after 10 s of idleness (PostgreSQL 15's PGSTAT_IDLE_INTERVAL): this waits that long first, so
 * the reads just made are counted, and counted in their own series.
 */
async function blockCounters(side: Side): Promise<{ read: number; hit: number }> {
  await sleep(10_500);
  const { rows } = await side.client.query<{ r: string; h: string }>('SELECT blks_read::text AS r, blks_hit::text AS h FROM pg_stat_database WHERE datname = current_database()');
  return { read: Number(rows[0]?.r), hit: Number(rows[0]?.h) };
}

/**
 * The server's WAL counters (pg_stat_wal, cluster-wide: nothing else writes meanwhile),
 * checkpoints so far, this database's buffer misses (blocks read from outside shared_buffers) and
 * the dirty buffers written out to make room, by backends and by the background writer (not by
 * checkpoints): what a random-key index larger than shared_buffers costs besides its WAL.
 */
async function walStats(side: Side): Promise<{ bytes: number; fpi: number; records: number; checkpoints: number; blocksRead: number; evictionWrites: number }> {
  const { rows } = await side.client.query<Record<'b' | 'f' | 'r' | 'c' | 'br' | 'ew', string>>(
    `SELECT wal_bytes::text AS b, wal_fpi::text AS f, wal_records::text AS r,
            (SELECT checkpoints_timed + checkpoints_req FROM pg_stat_bgwriter)::text AS c,
            (SELECT blks_read FROM pg_stat_database WHERE datname = current_database())::text AS br,
            (SELECT buffers_backend + buffers_clean FROM pg_stat_bgwriter)::text AS ew
       FROM pg_stat_wal`,
  );
  const r = rows[0] as Record<'b' | 'f' | 'r' | 'c' | 'br' | 'ew', string>;
  return { bytes: Number(r.b), fpi: Number(r.f), records: Number(r.r), checkpoints: Number(r.c), blocksRead: Number(r.br), evictionWrites: Number(r.ew) };
}

async function sizes(side: Side): Promise<{ table: number; index: number; hashes: number; coldHashes: number }> {
  const { rows } = await side.client.query<{ t: string; i: string; h: string; c: string }>(
    `SELECT COALESCE(SUM(pg_table_size(relid)), 0)::text AS t, COALESCE(SUM(pg_indexes_size(relid)), 0)::text AS i,
            pg_total_relation_size('${HOT_CLAIMS}')::text AS h, pg_total_relation_size('${COLD_CLAIMS}')::text AS c
       FROM (SELECT relid FROM pg_partition_tree('x402_payments') UNION SELECT 'x402_payments'::regclass) AS tree`,
  );
  const r = rows[0] as { t: string; i: string; h: string; c: string };
  return { table: Number(r.t), index: Number(r.i), hashes: Number(r.h), coldHashes: Number(r.c) };
}

interface StepFigures {
  rate: number;
  reads: number[];
  /** The throughput with long checkpoint intervals (BENCH_SCALE_LONG_CHECKPOINTS), when measured. */
  longCheckpointsRate?: number;
}

type WalStats = Awaited<ReturnType<typeof walStats>>;

/**
 * `<prefix>.walBytesPerPayment` between two {@link walStats} readings, with the full-page images,
 * WAL records, blocks read and eviction writes per payment and the checkpoints meanwhile. What a
 * payment costs in WAL: a write into a B-tree leaf not touched since the last checkpoint logs the
 * whole 8 KB page (a full-page image), so random keys in an index much larger than the cache cost
 * a page of WAL each; this is where that shows.
 */
function reportWalPerPayment(report: BenchOptions['report'], prefix: string, base: object, before: WalStats, after: WalStats, payments: number): void {
  const per = (n: number, digits: number) => round(n / Math.max(1, payments), digits);
  report(`${prefix}.walBytesPerPayment`, Math.round((after.bytes - before.bytes) / Math.max(1, payments)), 'bytes', {
    ...base,
    fullPageImagesPerPayment: per(after.fpi - before.fpi, 2),
    walRecordsPerPayment: per(after.records - before.records, 1),
    blocksReadPerPayment: per(after.blocksRead - before.blocksRead, 2),
    evictionWritesPerPayment: per(after.evictionWrites - before.evictionWrites, 2),
    checkpoints: after.checkpoints - before.checkpoints,
    payments,
  });
}

/**
 * recordPayment at 64 callers through `db`, best of three runs (the machine is shared, and a
 * disturbed run only ever looks slower), reported as `<prefix>.throughput`, `.recordPayment.p99`
 * and `.walBytesPerPayment`.
 */
async function throughput(
  side: Side,
  db: PostgresDatabase,
  prefix: string,
  base: object,
  report: BenchOptions['report'],
  warmupSeconds = 0,
): Promise<{ rate: number; p99: number; errors: number }> {
  if (warmupSeconds > 0) {
    const before = await walStats(side);
    const warm = await drive(side, warmupSeconds, 'warmup', db);
    report(`${prefix}.warmup.throughput`, round(warm.rate, 0), 'payments/s', { ...base, concurrency: CONCURRENCY, seconds: warmupSeconds, errors: warm.errors });
    reportWalPerPayment(report, `${prefix}.warmup`, base, before, await walStats(side), warm.count);
  }
  let best = { rate: 0, p99: 0, errors: 0 };
  const walBefore = await walStats(side);
  let payments = 0;
  for (let attempt = 0; attempt < 3; attempt++) {
    const run = await drive(side, SECONDS, `a${attempt}`, db);
    payments += run.count;
    if (run.rate > best.rate) best = run;
  }
  const walAfter = await walStats(side);
  report(`${prefix}.throughput`, round(best.rate, 0), 'payments/s', { ...base, concurrency: CONCURRENCY, seconds: SECONDS, errors: best.errors });
  report(`${prefix}.recordPayment.p99`, round(best.p99), 'ms', base);
  reportWalPerPayment(report, prefix, base, walBefore, walAfter, payments);
  return best;
}

/**
 * The keyed reads of `side`, each a call to time (first page, page after a recent cursor, a day's
 * revenue, by hash; all of loaded rows), the leases and hashes drawn from `random`. Checks first
 * that the lookup by hash finds a loaded payment (a miss would be a cheaper read than the one
 * measured for).
 */
async function readCalls(side: Side, random: () => number): Promise<Record<(typeof READS)[number], () => Promise<unknown>>> {
  const lease = () => leaseKey(pick(random, LEASES));
  const recent = new Date(HOUR_START - 3_600_000).toISOString();
  const day = { from: new Date(HOUR_START - 86_400_000), to: new Date(HOUR_START) };
  // A page after a cursor one hour before the measured hour: what a client following a lease reads.
  // (A cursor is base64url JSON of the last item's [time, id]; built here to start mid-history.)
  const after = Buffer.from(JSON.stringify([recent, '00000000-0000-0000-0000-000000000000'])).toString('base64url');
  // Partitioned: the service's lookup (claim table, then the payment's partition). Unpartitioned:
  // the lookup the service made before 007, by the payment table's unique hash index, through the
  // same pool (its claim table holds only the measured writes' claims, so the service's lookup
  // would miss every loaded payment and measure a cheaper read).
  const driver = driverOf(side.db);
  const byHashRead =
    side.layout === 'partitioned'
      ? (h: string) => side.db.getPaymentByFacilitatorTxHash(h)
      : async (h: string) => {
          const { rows } = await driver.query<Record<string, unknown>>('SELECT * FROM x402_payments WHERE facilitator_tx_hash = $1', [h], {
            name: 'scale_payment_by_hash',
          });
          return rows[0] === undefined ? null : paymentFromRow(rows[0]);
        };
  const probe = Math.floor(random() * side.loaded);
  if ((await byHashRead(loadedHash(probe)))?.id !== loadedKey(probe).replace(/^(.{8})(.{4})(.{4})(.{4})/, '$1-$2-$3-$4-')) {
    throw new Error(`scale: loaded payment ${probe} not found by its hash (${side.layout})`);
  }
  return {
    firstPage: () => side.db.getPaymentsPage(lease(), { limit: 50 }),
    recentPage: () => side.db.getPaymentsPage(lease(), { limit: 50, after }),
    dailyRevenue: () => side.db.getDailyRevenue(lease(), day),
    byHash: () => byHashRead(loadedHash(Math.floor(random() * side.loaded))),
  };
}

/**
 * The p99 of the keyed reads at this step, each reported as `scale.<layout>.read.<name><suffix>.p99`
 * (see {@link readCalls}).
 */
async function measureReads(side: Side, base: { rows: number; layout: Layout }, suffix: string, report: BenchOptions['report']): Promise<number[]> {
  const calls = await readCalls(side, prng(7));
  const p99s: number[] = [];
  for (const name of READS) {
    const read = await readP99(side, calls[name]);
    const { runs, blocksReadPerCall, blocksHitPerCall } = read;
    report(`scale.${side.layout}.read.${name}${suffix}.p99`, round(read.p99), 'ms', { ...base, samples: READ_SAMPLES, runs, blocksReadPerCall, blocksHitPerCall });
    p99s.push(read.p99);
  }
  return p99s;
}

/**
 * One step's figures. The reads run twice: first on a quiet server (right after the step's
 * checkpoint; these are the goal's figures: what the history's size does to a read), then after
 * the measured writes (`.afterWrites`: the same reads while the server still writes out what the
 * 35 s of payments dirtied, which a 400-call p99 on two cores mostly reflects).
 */
async function measure(side: Side, step: number, report: BenchOptions['report']): Promise<StepFigures> {
  const base = { rows: step, layout: side.layout };
  const reads = await measureReads(side, base, '', report);
  const best = await throughput(side, side.db, `scale.${side.layout}`, base, report, WARMUP_SECONDS);
  if (WAL_COMPRESSION) {
    // The same writes with the pool's sessions compressing the full-page images (a superuser
    // setting, so an experiment of the bench, not something the service sets).
    const compressed = new PostgresDatabase(side.t.url, { pool: { max: 20, idleTimeoutMillis: 0, options: '-c jit=off -c wal_compression=lz4' } });
    await compressed.connect();
    try {
      await throughput(side, compressed, `scale.${side.layout}.walCompressed`, base, report);
    } finally {
      await compressed.disconnect();
    }
  }
  await measureReads(side, base, '.afterWrites', report);
  const s = await sizes(side);
  report(`scale.${side.layout}.tableBytes`, s.table, 'bytes', base);
  report(`scale.${side.layout}.indexBytes`, s.index, 'bytes', base);
  report(`scale.${side.layout}.hashTableBytes`, s.hashes, 'bytes', { ...base, table: HOT_CLAIMS });
  report(`scale.${side.layout}.coldHashTableBytes`, s.coldHashes, 'bytes', { ...base, table: COLD_CLAIMS });
  if (LONG_CHECKPOINTS === undefined) return { rate: best.rate, reads };
  const long = await withLongCheckpoints(side.client, LONG_CHECKPOINTS, async () => {
    await side.client.query('CHECKPOINT');
    return throughput(side, side.db, `scale.${side.layout}.longCheckpoints`, { ...base, maxWalSize: LONG_CHECKPOINTS, checkpointTimeout: '30min' }, report, WARMUP_SECONDS);
  });
  return { rate: best.rate, reads, longCheckpointsRate: long.rate };
}

/**
 * Runs `fn` with the server's `max_wal_size` at `size` and `checkpoint_timeout` at 30 minutes
 * (server-wide: ALTER SYSTEM and a reload), and resets both afterwards.
 */
async function withLongCheckpoints<T>(client: pg.Client, size: string, fn: () => Promise<T>): Promise<T> {
  const current = async () => (await client.query<{ v: string }>(`SELECT current_setting('max_wal_size') AS v`)).rows[0]?.v;
  const reload = async (want: string | undefined) => {
    await client.query('SELECT pg_reload_conf()');
    // The reload is asynchronous: wait until this session sees it.
    for (let i = 0; i < 50 && want !== undefined && (await current()) !== want; i++) await new Promise((r) => setTimeout(r, 100));
  };
  const before = await current();
  await client.query(`ALTER SYSTEM SET max_wal_size = '${size}'`);
  await client.query(`ALTER SYSTEM SET checkpoint_timeout = '30min'`);
  await reload(size);
  try {
    return await fn();
  } finally {
    await client.query('ALTER SYSTEM RESET max_wal_size');
    await client.query('ALTER SYSTEM RESET checkpoint_timeout');
    await reload(before);
  }
}

/**
 * A copy of `side`'s database as it is, with its own sessions. The side's sessions close for the
 * copy (a database is copied only with nobody connected) and open again.
 */
async function copySide(side: Side): Promise<Side> {
  await side.db.disconnect();
  // An autovacuum worker on the database would refuse the copy (it is retried, but a long vacuum outlasts the retries).
  await side.client.query(`SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = current_database() AND backend_type = 'autovacuum worker'`);
  await side.client.end();
  const started = performance.now();
  const t = await createTestDatabase(side.t);
  info(`scale: the ${side.loaded}-row ${side.layout} database copied to ${t.name} in ${((performance.now() - started) / 1000).toFixed(1)} s`);
  Object.assign(side, await connect(side.t.url));
  return { layout: side.layout, t, ...(await connect(t.url)), loaded: side.loaded };
}

/**
 * Reads every table and index of `side`'s database into the operating system's page cache
 * (pg_prewarm's `read` mode, which bypasses shared_buffers), as a service that has run a while
 * holds the database it keeps touching, when the machine's memory can hold it. Why: a 20 M step's
 * load writes its tables, indexes, WAL and the compaction's rewrites, about three times the
 * database, in ten minutes, so right after it part of the database had left the cache although
 * memory was free (run 27: 8.3 of the 12.6 GB resident, 12 GB free; 1.1 of the cold claims' 2.6 GB
 * heap), and a lookup of a random old payment read from disk depending on where the load had put
 * it. Every measured database gets it alike, right before its step's checkpoint.
 */
async function prewarm(side: Side): Promise<void> {
  const started = performance.now();
  await side.client.query('CREATE EXTENSION IF NOT EXISTS pg_prewarm');
  const { rows } = await side.client.query<{ blocks: string }>(
    `SELECT COALESCE(SUM(pg_prewarm(c.oid, 'read')), 0)::text AS blocks
       FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE c.relkind IN ('r', 'i', 't', 'm') AND c.relpersistence = 'p' AND n.nspname NOT IN ('pg_catalog', 'information_schema')`,
  );
  info(`scale: ${side.layout} ${side.loaded} rows: ${round((Number(rows[0]?.blocks) * 8192) / 1e9, 2)} GB read into the page cache in ${round((performance.now() - started) / 1000, 1)} s`);
}

/** Closes `side`'s sessions and drops its database. */
async function dropSide(side: Side): Promise<void> {
  await side.db.disconnect().catch(() => undefined);
  await side.client.end().catch(() => undefined);
  await side.t.drop();
}

/**
 * The goal measured at the same moments: the first step's copy (`first`) and the last step
 * (`last`), partitioned, each read taking turns with the same read of the other
 * (bench/support/alternating.ts), then the write rate in alternating runs after a warm-up of
 * each. The goal's read figures take turns series for series, as the write runs do: each series
 * then has the server's shared_buffers to itself, as a step measured in turn has. Call for call
 * (`scale.sameTime.callByCall.*`, beside them) each call finds the buffers as the other
 * database's last call left them, which no step measured in turn does (docs/scale.md, run 29).
 * The lookup by hash's statement sent directly is measured beside it
 * (`scale.sameTime.bound.byHashSql`). Both start as a step does: a VACUUM of what the steps'
 * writes touched (from run 27; before, autovacuum could start on one side mid-run, and the
 * vacuums running at the end of each run are reported beside the rates), the database read into
 * the page cache ({@link prewarm}) and a CHECKPOINT. Reported as `scale.sameTime.*`, with
 * `scale.sameTime.goal`: the goal judged on these figures, where the machine's drift between
 * steps (minutes apart) falls on both sides alike.
 */
async function sameTime(first: Side, last: Side, report: BenchOptions['report']): Promise<void> {
  const base = { layout: 'partitioned', firstRows: first.loaded, lastRows: last.loaded };
  // Both start as every step does: what the steps' own writes touched vacuumed (else autovacuum
  // takes it up during the runs, on one side only), the database read into the page cache, then
  // a checkpoint.
  for (const side of [first, last]) {
    await side.client.query(`VACUUM (ANALYZE) ${measuredHourTables().join(', ')}`);
    await prewarm(side);
  }
  await last.client.query('CHECKPOINT');
  const [firstCalls, lastCalls] = [await readCalls(first, prng(7)), await readCalls(last, prng(7))];
  const reads: [number[], number[]] = [[], []];
  for (const name of READS) {
    for (let i = 0; i < READ_WARMUP_CALLS; i++) await Promise.all([firstCalls[name](), lastCalls[name]()]);
    // Series for series: the goal's figure (see the function comment); call for call beside it.
    for (const grain of ['series', 'call'] as const) {
      const { p99, series } = await alternatingP99(firstCalls[name], lastCalls[name], READ_SAMPLES, READ_RUNS, grain);
      if (grain === 'series') {
        reads[0].push(p99[0]);
        reads[1].push(p99[1]);
      }
      const figure = grain === 'series' ? `scale.sameTime.read.${name}.p99` : `scale.sameTime.callByCall.read.${name}.p99`;
      reportInTurns(report, figure, { p99, series }, { ...base, grain });
    }
  }
  // The bound beside the lookup by hash: the service's own statement sent straight from the
  // bench's session (no pool, no mapping to a payment), series for series. What it does between
  // the sizes is PostgreSQL's work for the lookup, whatever the data layer adds around it.
  const direct = (side: Side) => {
    const random = prng(7);
    return () => side.client.query({ ...ONE_HASH_LOOKUP, values: [loadedHash(Math.floor(random() * side.loaded))] });
  };
  const [firstSql, lastSql] = [direct(first), direct(last)];
  for (let i = 0; i < READ_WARMUP_CALLS; i++) await Promise.all([firstSql(), lastSql()]);
  const sql = await alternatingP99(firstSql, lastSql, READ_SAMPLES, READ_RUNS, 'series');
  reportInTurns(report, 'scale.sameTime.bound.byHashSql.p99', sql, { ...base, grain: 'series', statement: ONE_HASH_LOOKUP.name });
  for (const side of [first, last]) await drive(side, WARMUP_SECONDS, 'warmup');
  const rates: [number[], number[]] = [[], []];
  // The vacuums running on each side's database at the end of each of its runs.
  const vacuums: [number[], number[]] = [[], []];
  for (let r = 0; r < 3; r++) {
    for (const [k, side] of [first, last].entries()) {
      (rates[k] as number[]).push(round((await drive(side, SECONDS, `same${r}`)).rate, 0));
      (vacuums[k] as number[]).push(await vacuumsRunning(side));
    }
  }
  const [firstRate, lastRate] = [Math.max(...rates[0]), Math.max(...rates[1])];
  report('scale.sameTime.throughput', lastRate, 'payments/s', {
    ...base,
    firstStepRate: firstRate,
    changePct: round(changePct(firstRate, lastRate), 1),
    runs: rates,
    vacuumsAtRunEnd: vacuums,
    seconds: SECONDS,
    concurrency: CONCURRENCY,
  });
  reportGoal(report, 'scale.sameTime.goal', { rate: firstRate, reads: reads[0] }, { rate: lastRate, reads: reads[1] }, {
    ...base,
    goal: `partitioned throughput and read p99 at the last step within ${GOAL_PCT}% of the first, measured at the same moments`,
  });
}

/**
 * Reports `figure`: the last step's p99 of a read timed in turns with the first step's
 * ({@link alternatingP99}), with the first step's p99, the change, and every series beside it.
 */
function reportInTurns(report: BenchOptions['report'], figure: string, timed: { p99: [number, number]; series: [number[], number[]] }, details: object): void {
  const [first, last] = timed.p99;
  report(figure, last, 'ms', { ...details, firstStepP99: first, changePct: round(changePct(first, last), 1), samples: READ_SAMPLES, series: timed.series });
}

/** The tables the measured writes go into: the measured hour's day partition, the hot claims, the batches. */
function measuredHourTables(): string[] {
  return [partitionName(utcDay(new Date(HOUR_START))), HOT_CLAIMS, 'x402_batches'];
}

/** Vacuums (autovacuum's or anyone's) running on `side`'s database now. */
async function vacuumsRunning(side: Side): Promise<number> {
  const { rows } = await side.client.query<{ n: number }>('SELECT count(*)::int AS n FROM pg_stat_progress_vacuum WHERE datname = current_database()');
  return rows[0]?.n ?? 0;
}

/** The change from `from` to `to`, in per cent of `from`. */
function changePct(from: number, to: number): number {
  return ((to - from) / from) * 100;
}

/**
 * Reports `name`: 1 when the write rate at the last step fell by at most {@link GOAL_PCT} per cent
 * and no read's p99 grew by more, with the changes (rounded) and `details` beside it.
 */
function reportGoal(report: BenchOptions['report'], name: string, first: { rate: number; reads: number[] }, last: { rate: number; reads: number[] }, details: object): void {
  const rateChange = changePct(first.rate, last.rate);
  const readChanges = last.reads.map((r, i) => changePct(first.reads[i] as number, r));
  const met = rateChange >= -GOAL_PCT && readChanges.every((c) => c <= GOAL_PCT);
  report(name, met ? 1 : 0, 'met', { ...details, throughputChangePct: round(rateChange, 1), readP99ChangePct: readChanges.map((c) => round(c, 1)) });
}

/** The scale benchmark (see the file comment). */
export async function benchScale(opts: BenchOptions): Promise<void> {
  if (STEPS.some((s) => !Number.isSafeInteger(s) || s < 1) || STEPS.some((s, i) => i > 0 && s <= (STEPS[i - 1] as number))) {
    throw new Error('BENCH_SCALE_STEPS must be ascending positive integers, e.g. 1000000,5000000');
  }
  if (!Number.isFinite(WARMUP_SECONDS) || WARMUP_SECONDS < 0) throw new Error('BENCH_SCALE_WARMUP_SECONDS must be a number of seconds');
  if (!Number.isSafeInteger(READ_SAMPLES) || READ_SAMPLES < 100) throw new Error('BENCH_SCALE_READ_SAMPLES must be an integer of at least 100');
  if (LONG_CHECKPOINTS !== undefined && !/^\d+(MB|GB)$/.test(LONG_CHECKPOINTS)) throw new Error('BENCH_SCALE_LONG_CHECKPOINTS must be a size such as 16GB');
  // The side being loaded and measured, the copy being measured, and the first step's
  // partitioned copy kept for sameTime: each dropped at the end if the run fails.
  let side: Side | undefined;
  let measuring: Side | undefined;
  let reference: Side | undefined;
  try {
    const first = new Map<Layout, StepFigures>();
    const last = new Map<Layout, StepFigures>();
    for (const layout of RUN_ORDER) {
      if (side !== undefined) await dropSide(side);
      side = await openSide(layout);
      for (const step of STEPS) {
        const loadedBefore = side.loaded;
        const rate = await load(side, step);
        opts.report(`scale.${layout}.loadRowsPerSecond`, round(rate, 0), 'rows/s', { rows: step, layout, sessions: LOAD_SESSIONS });
        if (layout === 'partitioned' && COMPACT) await compactLoaded(side, loadedBefore, step, opts.report);
        // Every step but the last is measured on a copy, so the payments its measurement writes
        // (a million or more in the measured hour on a fast machine, in today's partition and the
        // hot claims) do not stay for the later steps: each step holds its loaded history and its
        // own writes only. The first step's partitioned copy is kept for sameTime.
        const lastStep = step === STEPS[STEPS.length - 1];
        const measured = lastStep ? side : (measuring = await copySide(side));
        // Every step starts from a checkpoint, so none is measured while the server still writes
        // out the rows just loaded (without it, one run's 1 M reads came out slower than its 20 M
        // reads). Right after a checkpoint every page's first change is logged whole, which the
        // walBytesPerPayment line shows.
        await prewarm(measured);
        await measured.client.query('CHECKPOINT');
        const figures = await measure(measured, step, opts.report);
        if (!lastStep) {
          if (SAME_TIME && layout === 'partitioned' && reference === undefined) reference = measured;
          else await dropSide(measured);
          measuring = undefined;
        }
        if (!first.has(layout)) first.set(layout, figures);
        last.set(layout, figures);
      }
    }
    const partitioned = side as Side;
    const f = first.get('partitioned') as StepFigures;
    const l = last.get('partitioned') as StepFigures;
    const goal = (name: string, firstRate: number, lastRate: number, settings: object) =>
      reportGoal(opts.report, name, { rate: firstRate, reads: f.reads }, { rate: lastRate, reads: l.reads }, {
        firstRows: STEPS[0],
        lastRows: STEPS[STEPS.length - 1],
        goal: `partitioned throughput and read p99 within ${GOAL_PCT}% of the first step`,
        ...settings,
      });
    const server = await partitioned.client.query<{ w: string; c: string }>(`SELECT current_setting('max_wal_size') AS w, current_setting('checkpoint_timeout') AS c`);
    goal('scale.goal', f.rate, l.rate, { maxWalSize: server.rows[0]?.w, checkpointTimeout: server.rows[0]?.c });
    if (f.longCheckpointsRate !== undefined && l.longCheckpointsRate !== undefined) {
      goal('scale.longCheckpoints.goal', f.longCheckpointsRate, l.longCheckpointsRate, { maxWalSize: LONG_CHECKPOINTS, checkpointTimeout: '30min', warmupSeconds: WARMUP_SECONDS });
    }
    if (reference !== undefined) await sameTime(reference, partitioned, opts.report);
  } finally {
    for (const open of [side, measuring, reference]) if (open !== undefined) await dropSide(open).catch(() => undefined);
  }
}
