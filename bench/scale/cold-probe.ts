/**
 * What the cold claims probe costs the write rate at the last step, on that one database: every
 * payment checks its hash against the cold claims (migration 008), whose key at 20 M payments is
 * far larger than shared_buffers. Since migration 014 the service's copy of the cold claims' filter
 * skips the probe for a hash the filter does not hold. recordPayment runs in three ways, in ABC CBA
 * order so the machine's drift falls on all alike:
 * - `filtered`: the cold claims as loaded, through the service's pool (the filter in use);
 * - `probed`: the same, through a pool whose filter copy is off (every hash probed, as before 014);
 * - `empty`: the cold claims swapped for an empty table of the same definition (renames in one
 *   transaction, instant), through the service's pool.
 * Reported as `scale.partitioned.coldProbe`: the share of the rate the cold check takes with the
 * filter (1 - filtered/empty, medians), and `coldProbeUnfiltered`, the share without it
 * (1 - probed/empty), with every run's rate and blocks read from outside shared_buffers per
 * payment. A figure of the bench only: with the cold table empty, a replay of an old payment
 * would not be refused.
 */
import { PostgresDatabase } from '../../src/storage/backends/postgres/postgres-database.js';
import { COLD_CLAIMS } from '../../src/storage/backends/sql/settlement-hashes.js';
import { round, type BenchOptions } from '../support/report.js';
import { summarize } from '../support/stats.js';
import { blockCounters, drive } from './measuring.js';
import { SECONDS } from './settings.js';
import { SERVICE_POOL, type Side } from './sides.js';

/** The empty stand-in while it waits, and the cold claims while swapped out. */
const SPARE = 'x402_bench_cold_spare';

type Arm = 'filtered' | 'probed' | 'empty';

/** The order of the runs: ABC CBA, twice. */
const ORDER: readonly Arm[] = ['filtered', 'probed', 'empty', 'empty', 'probed', 'filtered', 'filtered', 'probed', 'empty', 'empty', 'probed', 'filtered'];

/** See the file comment. */
export async function coldProbeCost(side: Side, report: BenchOptions['report']): Promise<void> {
  const { client } = side;
  const probing = new PostgresDatabase(side.t.url, { pool: SERVICE_POOL, payments: { coldClaimFilter: { maxBytes: 0 } } });
  await probing.connect();
  await client.query(`CREATE TABLE ${SPARE} (LIKE ${COLD_CLAIMS} INCLUDING ALL)`);
  let swapped = false;
  const swap = async () => {
    const aside = `${SPARE}_swap`;
    await client.query(`BEGIN; ALTER TABLE ${COLD_CLAIMS} RENAME TO ${aside}; ALTER TABLE ${SPARE} RENAME TO ${COLD_CLAIMS}; ALTER TABLE ${aside} RENAME TO ${SPARE}; COMMIT`);
    swapped = !swapped;
  };
  const runs: { arm: Arm; rate: number; blocksReadPerPayment: number }[] = [];
  try {
    for (const [i, arm] of ORDER.entries()) {
      if ((arm === 'empty') !== swapped) await swap();
      const before = (await blockCounters(side)).read;
      const run = await drive(side, SECONDS, `cold${i}`, arm === 'probed' ? probing : side.db);
      const after = (await blockCounters(side)).read;
      runs.push({ arm, rate: round(run.rate, 0), blocksReadPerPayment: round((after - before) / Math.max(1, run.count), 2) });
    }
  } finally {
    if (swapped) await swap();
    await client.query(`DROP TABLE ${SPARE}`);
    await probing.disconnect();
  }
  const medianRate = (arm: Arm) => summarize(runs.filter((r) => r.arm === arm).map((r) => r.rate)).p50;
  const [filtered, probed, empty] = [medianRate('filtered'), medianRate('probed'), medianRate('empty')];
  const base = { rows: side.loaded, coldRows: Number((await client.query<{ n: string }>(`SELECT count(*)::text AS n FROM ${COLD_CLAIMS}`)).rows[0]?.n) };
  report(`scale.${side.layout}.coldProbe`, round(1 - filtered / empty, 3), 'of the write rate', {
    ...base,
    medianRateFiltered: filtered,
    medianRateColdEmpty: empty,
    runs,
    note: 'the share of recordPayment throughput the cold claims check takes with the cold claims filter: runs with the cold claims as loaded and swapped for an empty table, alternated on the same database',
  });
  report(`scale.${side.layout}.coldProbeUnfiltered`, round(1 - probed / empty, 3), 'of the write rate', {
    ...base,
    medianRateProbed: probed,
    medianRateColdEmpty: empty,
    note: 'the same share with the filter copy off (every hash probes the cold key, as before migration 014), from the same runs',
  });
}
