/**
 * The scale benchmark's settings (bench/scale.ts): the loaded history's shape, the steps, the
 * lengths of the runs and the switches, read from BENCH_SCALE_* (README, "Benchmarks").
 */
import { utcDay } from '../../src/storage/backends/sql/partitions.js';
import { CLAIMS_HOT_DAYS } from '../../src/storage/backends/sql/settlement-hashes.js';

export const LEASES = 1_000;
export const ASSETS = 100;
export const DAYS = 30;
export const STEPS = (process.env.BENCH_SCALE_STEPS ?? '1000000,5000000,10000000,20000000').split(',').map((s) => Number(s.trim()));
export const SECONDS = Number(process.env.BENCH_SCALE_SECONDS ?? 5);
export const CONCURRENCY = 64;
/**
 * Calls per read series (BENCH_SCALE_READ_SAMPLES, default 2,000). The p99 of 400 calls is their
 * fourth slowest: in runs 23 and 24 the three series of one read at one step differed by up to
 * 2.4x (0.27-0.65 ms), more than the goal's 10 %. The p99 of 2,000 is their twentieth slowest.
 */
export const READ_SAMPLES = Number(process.env.BENCH_SCALE_READ_SAMPLES ?? 2000);
/** Rows generated per INSERT statement (one transaction each; BENCH_SCALE_CHUNK). */
export const LOAD_CHUNK = Number(process.env.BENCH_SCALE_CHUNK ?? 2_000_000);
/** Sessions loading chunks at once: one server backend per core of the 2-core machine. */
export const LOAD_SESSIONS = 2;
export const LAYOUTS = ['partitioned', 'unpartitioned'] as const;
/**
 * The layouts run one after the other, each alone on the server (the other's database dropped):
 * at 20 M rows the two layouts and the first step's copy take about 25 GB, more than the
 * machine's memory, so measured beside each other a random old row came from disk (run 25's
 * lookup by hash). The partitioned side runs last: its last step and the first step's copy stay
 * for `sameTime` in comparing.ts. BENCH_SCALE_UNPARTITIONED=0 leaves the unpartitioned layout out (the goal
 * is judged on the partitioned one; the run takes half the time).
 */
export const RUN_ORDER: readonly Layout[] = process.env.BENCH_SCALE_UNPARTITIONED === '0' ? ['partitioned'] : ['unpartitioned', 'partitioned'];
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
export const LONG_CHECKPOINTS = process.env.BENCH_SCALE_LONG_CHECKPOINTS;
/**
 * Seconds of writes before each throughput measurement (`.warmup.*`, reported beside it), so the
 * measured runs see the steady state of the cache, not what the step's bulk work (loading,
 * compacting 29 days at once) left in it: the cold claims index a payment probes is read back
 * into the page cache by the payments themselves, as it is in a service that runs all day.
 */
export const WARMUP_SECONDS = Number(process.env.BENCH_SCALE_WARMUP_SECONDS ?? 30);
/**
 * BENCH_SCALE_COMPACT=0: the loaded days are left as loaded (not compacted), to measure what the
 * compaction changes in the same bench.
 */
export const COMPACT = process.env.BENCH_SCALE_COMPACT !== '0';
/** BENCH_SCALE_WAL_COMPRESSION=1: each step's throughput measured again with `wal_compression = lz4` (`.walCompressed.*`). */
export const WAL_COMPRESSION = process.env.BENCH_SCALE_WAL_COMPRESSION === '1';
export type Layout = (typeof LAYOUTS)[number];
export const GOAL_PCT = 10;
/**
 * Whether the first step's partitioned copy (the one its figures were measured on) is kept and
 * measured again beside the last step (`scale.sameTime.*`, `sameTime` in comparing.ts);
 * BENCH_SCALE_SAME_TIME=0 leaves it out (the copy takes the first step's size on disk).
 */
export const SAME_TIME = process.env.BENCH_SCALE_SAME_TIME !== '0';
/**
 * The last step's partitioned database is also measured with its cold claims swapped out
 * (`scale.partitioned.coldProbe`, cold-probe.ts); BENCH_SCALE_COLD_PROBE=0 leaves it out.
 */
export const COLD_PROBE = process.env.BENCH_SCALE_COLD_PROBE !== '0';

/** The measured hour: three hours ago (never settled here); loaded payments are older than it. */
export const HOUR_START = Math.floor(Date.now() / 3_600_000) * 3_600_000 - 3 * 3_600_000;
/** The range of the day's revenue read: the 24 hours before the measured hour. */
export const REVENUE_DAY = { from: new Date(HOUR_START - 86_400_000), to: new Date(HOUR_START) };
/** Loaded payment i is i * GAP_MS before HOUR_START: every step extends the history backwards, at one density. */
export const GAP_MS = (DAYS * 86_400_000) / Math.max(...STEPS);
/**
 * Loaded claims before this instant are loaded into the cold table: where the service's hourly
 * upkeep would have moved them (the claims of payments before yesterday, CLAIMS_HOT_DAYS).
 */
export const COLD_BEFORE = new Date(`${utcDay(new Date(HOUR_START), -CLAIMS_HOT_DAYS)}T00:00:00Z`);

/**
 * The keyed reads the goal names, in the order their p99s are reported. `byHash` looks up any
 * loaded payment (at the last step nearly always one of a day before yesterday, a cold claim);
 * `byRecentHash` one of the 24 hours before the measured hour, whose claim is hot at every step:
 * the lookups the service makes (a resent header, a receipt checked) are of payments just made.
 */
export const READS = ['firstPage', 'recentPage', 'dailyRevenue', 'byHash', 'byRecentHash'] as const;

/** Loaded payments in the 24 hours before the measured hour (payment i is i * GAP_MS before it). */
export const RECENT_PAYMENTS = Math.floor(86_400_000 / GAP_MS);

/** Read runs per figure; the lowest p99 is reported (as throughput is the best of its runs), every run's beside it. */
export const READ_RUNS = 3;
/**
 * Calls of a read made before it is timed: a series' worth, so the first timed series does not
 * start cold (with 20 calls, run 25's first page at 1 M took 2.91, 0.91 and 0.49 ms in its three
 * series). What is measured is a read of a running service, not its first minutes.
 */
export const READ_WARMUP_CALLS = READ_SAMPLES;

/** Throws when a BENCH_SCALE_* setting cannot be used, before anything is loaded. */
export function checkSettings(): void {
  if (STEPS.some((s) => !Number.isSafeInteger(s) || s < 1) || STEPS.some((s, i) => i > 0 && s <= (STEPS[i - 1] as number))) {
    throw new Error('BENCH_SCALE_STEPS must be ascending positive integers, e.g. 1000000,5000000');
  }
  if (!Number.isFinite(WARMUP_SECONDS) || WARMUP_SECONDS < 0) throw new Error('BENCH_SCALE_WARMUP_SECONDS must be a number of seconds');
  if (!Number.isSafeInteger(READ_SAMPLES) || READ_SAMPLES < 100) throw new Error('BENCH_SCALE_READ_SAMPLES must be an integer of at least 100');
  if (LONG_CHECKPOINTS !== undefined && !/^\d+(MB|GB)$/.test(LONG_CHECKPOINTS)) throw new Error('BENCH_SCALE_LONG_CHECKPOINTS must be a size such as 16GB');
}
