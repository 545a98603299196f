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
 * measured again beside the last step at the same moments (`scale.sameTime.*`, {@link sameTime}),
 * so the goal can be judged without the minutes between the steps. Last, the last step's write
 * rate is measured with its cold claims swapped out ({@link coldProbeCost}): what the probe of
 * their key, the write path's one cost that grows with history, takes of it.
 *
 * BENCH_SCALE_STEPS (default 1000000,5000000,10000000,20000000) sets the row counts,
 * BENCH_SCALE_SECONDS (default 5) the length of each throughput run, BENCH_SCALE_READ_SAMPLES
 * (default 2000) the calls of each read series, BENCH_SCALE_CHUNK (default
 * 2000000) the rows per load statement. Rows are generated in SQL (generate_series), so loading
 * costs no client round trips; the layouts run one after the other, each alone on the server
 * ({@link RUN_ORDER}; see {@link load} for what makes loading fast and why the loaded indexes are
 * the service's).
 * BENCH_SCALE_LONG_CHECKPOINTS measures each step's writes again with the operator's checkpoint
 * lever (its comment in scale/settings.ts). Every database it made is dropped at the end.
 *
 * This file runs the steps; beside it in scale/: the settings, the databases measured (sides),
 * loading, measuring a step, and comparing the first step with the last.
 */
import { coldProbeCost } from './scale/cold-probe.js';
import { sameTime, reportGoal } from './scale/comparing.js';
import { compactLoaded, load } from './scale/loading.js';
import { measure, type StepFigures } from './scale/measuring.js';
import { COLD_PROBE, COMPACT, GOAL_PCT, LAYOUTS, LOAD_SESSIONS, LONG_CHECKPOINTS, READS, RUN_ORDER, SAME_TIME, STEPS, WARMUP_SECONDS, checkSettings, type Layout } from './scale/settings.js';
import { copySide, dropSide, openSide, prewarm, type Side } from './scale/sides.js';
import { round, type BenchOptions } from './support/report.js';

/** Every figure this module can print. */
export const names: readonly string[] = [
  ...LAYOUTS.flatMap((l) =>
    ['throughput', 'recordPayment.p99', 'walBytesPerPayment', 'warmup.throughput', 'warmup.walBytesPerPayment', 'longCheckpoints.throughput', 'longCheckpoints.recordPayment.p99', 'longCheckpoints.walBytesPerPayment', 'longCheckpoints.warmup.throughput', 'longCheckpoints.warmup.walBytesPerPayment', 'walCompressed.throughput', 'walCompressed.recordPayment.p99', 'walCompressed.walBytesPerPayment', ...READS.map((r) => `read.${r}.p99`), 'tableBytes', 'indexBytes', 'hashTableBytes', 'loadRowsPerSecond', 'compactRowsPerSecond', 'reconcileMs', 'reconcileKeptMs', 'reconcileStatementMs'].map(
      (f) => `scale.${l}.${f}`,
    ),
  ),
  'scale.goal',
  'scale.longCheckpoints.goal',
  ...[...READS.map((r) => `read.${r}.p99`), 'throughput', 'goal'].map((f) => `scale.sameTime.${f}`),
  ...READS.map((r) => `scale.sameTime.callByCall.read.${r}.p99`),
  'scale.sameTime.bound.byHashSql.p99',
  'scale.partitioned.coldProbe',
];


/** The scale benchmark (see the file comment). */
export async function benchScale(opts: BenchOptions): Promise<void> {
  checkSettings();
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
    if (COLD_PROBE) await coldProbeCost(partitioned, opts.report);
  } finally {
    for (const open of [side, measuring, reference]) if (open !== undefined) await dropSide(open).catch(() => undefined);
  }
}
