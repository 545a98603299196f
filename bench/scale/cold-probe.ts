/**
 * What the cold claims probe costs the write rate at the last step, on that one database: every
 * payment probes the cold claims' key once (migration 008), and at 20 M payments that key is far
 * larger than shared_buffers. recordPayment runs with the cold claims as loaded, then with them
 * swapped for an empty table of the same definition (renames in one transaction, instant), in
 * ABBA order so the machine's drift falls on both alike, and swapped back. Reported as
 * `scale.partitioned.coldProbe`: the median rate of each and the share of the rate the probe
 * takes, with every run's rate and blocks read from outside shared_buffers per payment. A figure
 * of the bench only: with the cold table empty, a replay of an old payment would not be refused.
 */
import { COLD_CLAIMS } from '../../src/storage/backends/sql/settlement-hashes.js';
import { round, type BenchOptions } from '../support/report.js';
import { summarize } from '../support/stats.js';
import { blockCounters, drive } from './measuring.js';
import { SECONDS } from './settings.js';
import type { Side } from './sides.js';

/** The empty stand-in while it waits, and the cold claims while swapped out. */
const SPARE = 'x402_bench_cold_spare';

/** Runs of each kind, in the order loaded, empty, empty, loaded, ... */
const ROUNDS = 4;

/** See the file comment. */
export async function coldProbeCost(side: Side, report: BenchOptions['report']): Promise<void> {
  const { client } = side;
  await client.query(`CREATE TABLE ${SPARE} (LIKE ${COLD_CLAIMS} INCLUDING ALL)`);
  let swapped = false;
  const swap = async () => {
    const aside = `${SPARE}_swap`;
    await client.query(`BEGIN; ALTER TABLE ${COLD_CLAIMS} RENAME TO ${aside}; ALTER TABLE ${SPARE} RENAME TO ${COLD_CLAIMS}; ALTER TABLE ${aside} RENAME TO ${SPARE}; COMMIT`);
    swapped = !swapped;
  };
  const runs: { cold: 'loaded' | 'empty'; rate: number; blocksReadPerPayment: number }[] = [];
  try {
    for (let i = 0; i < 2 * ROUNDS; i++) {
      const empty = i % 4 === 1 || i % 4 === 2;
      if (empty !== swapped) await swap();
      const before = (await blockCounters(side)).read;
      const run = await drive(side, SECONDS, `cold${i}`);
      const after = (await blockCounters(side)).read;
      runs.push({ cold: empty ? 'empty' : 'loaded', rate: round(run.rate, 0), blocksReadPerPayment: round((after - before) / Math.max(1, run.count), 2) });
    }
  } finally {
    if (swapped) await swap();
    await client.query(`DROP TABLE ${SPARE}`);
  }
  const medianRate = (cold: 'loaded' | 'empty') => summarize(runs.filter((r) => r.cold === cold).map((r) => r.rate)).p50;
  const loadedRate = medianRate('loaded');
  const emptyRate = medianRate('empty');
  report(`scale.${side.layout}.coldProbe`, round(1 - loadedRate / emptyRate, 3), 'of the write rate', {
    rows: side.loaded,
    coldRows: Number((await client.query<{ n: string }>(`SELECT count(*)::text AS n FROM ${COLD_CLAIMS}`)).rows[0]?.n),
    medianRateColdLoaded: loadedRate,
    medianRateColdEmpty: emptyRate,
    runs,
    note: 'the share of recordPayment throughput the cold claims probe takes: runs with the cold claims as loaded and swapped for an empty table, alternated ABBA on the same database',
  });
}
