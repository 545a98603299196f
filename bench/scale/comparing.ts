/**
 * Judging the scale goal: the first step against the last, as measured in turn and at the same
 * moments (`scale.sameTime.*`).
 */
import { partitionName, utcDay } from '../../src/storage/backends/sql/partitions.js';
import { DAILY_REVENUE_SQL } from '../../src/storage/backends/sql/ledger-reads.js';
import { HOT_CLAIMS, ONE_HASH_LOOKUP } from '../../src/storage/backends/sql/settlement-hashes.js';
import { DEFAULT_PAGE_SIZE } from '../../src/storage/core/cursor.js';
import { leaseKey, pick, prng } from '../support/fixtures.js';
import { alternatingP99 } from '../support/alternating.js';
import { round, type BenchOptions } from '../support/report.js';
import { loadedHash } from './loading.js';
import { drive, readCalls } from './measuring.js';
import { CONCURRENCY, GOAL_PCT, HOUR_START, LEASES, READ_RUNS, READ_SAMPLES, READ_WARMUP_CALLS, READS, REVENUE_DAY, SECONDS, WARMUP_SECONDS } from './settings.js';
import { prewarm, type Side } from './sides.js';
/**
 * The goal measured at the same moments: the first step's copy (`first`) and the last step
 * (`last`), partitioned, each read taking turns with the same read of the other
 * (bench/support/alternating.ts), then the write rate in alternating runs after a warm-up of
 * each. The goal's read figures take turns series for series, as the write runs do: each series
 * then has the server's shared_buffers to itself, as a step measured in turn has. Call for call
 * (`scale.sameTime.callByCall.*`, beside them) each call finds the buffers as the other
 * database's last call left them, which no step measured in turn does (docs/scale.md, run 29).
 * The statements of the lookup by hash and of the day's revenue sent directly are measured
 * beside them (`scale.sameTime.bound.byHashSql`, `.dailyRevenueSql`). Both databases start as a
 * step does: a VACUUM of what the steps' writes touched (from run 27; before, autovacuum could
 * start on one side mid-run, and the vacuums running at the end of each run are reported beside
 * the rates), the database read into the page cache ({@link prewarm}) and a CHECKPOINT. Reported as `scale.sameTime.*`, with
 * `scale.sameTime.goal`: the goal judged on these figures, where the machine's drift between
 * steps (minutes apart) falls on both sides alike.
 */
export async function sameTime(first: Side, last: Side, report: BenchOptions['report']): Promise<void> {
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
  // The bounds beside the two reads whose p99 moves most between the sizes: the service's own
  // statement sent straight from the bench's session (no pool, no mapping of the rows), the same
  // random keys, series for series. What a bound does between the sizes is PostgreSQL's work for
  // that read, whatever the data layer adds around it.
  const bounds: Record<string, { statement: string; calls: (side: Side) => () => Promise<unknown> }> = {
    byHashSql: {
      statement: ONE_HASH_LOOKUP.name,
      calls: (side) => {
        const random = prng(7);
        return () => side.client.query({ ...ONE_HASH_LOOKUP, values: [loadedHash(Math.floor(random() * side.loaded))] });
      },
    },
    dailyRevenueSql: {
      statement: 'getDailyRevenue',
      calls: (side) => {
        const random = prng(7);
        // The store asks for one more day than a page holds, to know whether there is a next page.
        const values = () => [leaseKey(pick(random, LEASES)), REVENUE_DAY.from, REVENUE_DAY.to, DEFAULT_PAGE_SIZE + 1];
        return () => side.client.query({ text: DAILY_REVENUE_SQL, name: 'scale_daily_revenue', values: values() });
      },
    },
  };
  for (const [bound, { statement, calls }] of Object.entries(bounds)) {
    const [firstSql, lastSql] = [calls(first), calls(last)];
    for (let i = 0; i < READ_WARMUP_CALLS; i++) await Promise.all([firstSql(), lastSql()]);
    const sql = await alternatingP99(firstSql, lastSql, READ_SAMPLES, READ_RUNS, 'series');
    reportInTurns(report, `scale.sameTime.bound.${bound}.p99`, sql, { ...base, grain: 'series', statement });
  }
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
export function reportGoal(report: BenchOptions['report'], name: string, first: { rate: number; reads: number[] }, last: { rate: number; reads: number[] }, details: object): void {
  const rateChange = changePct(first.rate, last.rate);
  const readChanges = last.reads.map((r, i) => changePct(first.reads[i] as number, r));
  const met = rateChange >= -GOAL_PCT && readChanges.every((c) => c <= GOAL_PCT);
  report(name, met ? 1 : 0, 'met', { ...details, throughputChangePct: round(rateChange, 1), readP99ChangePct: readChanges.map((c) => round(c, 1)) });
}
