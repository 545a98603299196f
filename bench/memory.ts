/**
 * Issue 2: MockDatabase at 100,000 leases (10,000 assets) and 1,000,000 payments. Keyed read
 * latency (p50/p99 in µs), getLeasesByStatus per call and per returned row, load throughput, and
 * RSS after gc. Baseline in the same run: getLease done as a linear scan of an array of the same
 * leases (what an unindexed store does), so the index speedup is visible.
 *
 * RSS is only meaningful in a process of its own: run.ts starts this file as a child
 * (`node --expose-gc --import tsx bench/memory.ts [filter]`); run directly it does the same.
 */
import { pathToFileURL } from 'node:url';
import type { StoredLease } from '../src/storage/contract/database.js';
import { MockDatabase } from '../src/storage/backends/memory/mock-database.js';
import { assetKey, hash, leaseKey, newAsset, newLease, pick, placeLease, prng, tokenAddress } from './support/fixtures.js';
import { anyMatches, info, matches, round, stdoutReporter, type BenchOptions } from './support/report.js';
import { applyServiceProcessSettings } from './support/process-settings.js';
import { quietly, type QuietRun } from './support/cpu.js';
import { convert, nowNs, sampleLatencies, summarize } from './support/stats.js';

const ASSETS = 10_000;
const LEASES = 100_000;
const PAYMENTS = 1_000_000;
/** Payments stream from this many active leases (1,000 concurrent leases in DOMAIN.md), 1 per second each. */
const PAYING_LEASES = 1_000;
const RSS_LIMIT_MB = 600;
const KEYED_ITERATIONS = 20_000;
const STATUS_ITERATIONS = 40;
const SCAN_ITERATIONS = 1_000;

const READS = ['getAsset', 'getLease', 'getAssetByTokenAddress', 'getLeasesByStatus'] as const;

/** Every figure this module can print. */
export const names: readonly string[] = [
  'memory.load.leases.throughput',
  'memory.load.payments.throughput',
  ...READS.flatMap((r) => [`memory.${r}.p50`, `memory.${r}.p99`]),
  'memory.getLeasesByStatus.perRow.p50',
  'memory.getLeasesByStatus.perRow.p99',
  'memory.baseline.scanGetLease.p50',
  'memory.baseline.scanGetLease.p99',
  'memory.getLease.speedupVsScan',
  'memory.rss.empty',
  'memory.rss.leases',
  'memory.rss.payments',
  'memory.rss',
  'memory.rss.peak',
];

const MB = 1024 * 1024;

function collectGarbage(): boolean {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (!gc) return false;
  for (let i = 0; i < 3; i++) gc();
  return true;
}

function rssAfterGc(): number {
  collectGarbage();
  return process.memoryUsage().rss / MB;
}

/** The MockDatabase benchmark (see the file comment). */
export async function benchMemory(opts: BenchOptions): Promise<void> {
  const { filter, report } = opts;
  if (!anyMatches(filter, names)) return;
  if (!collectGarbage()) info('memory: gc is not exposed (run with node --expose-gc); RSS figures include uncollected garbage');

  const db = new MockDatabase();
  await db.connect();
  const rssEmpty = rssAfterGc();
  report('memory.rss.empty', round(rssEmpty, 1), 'MB', { note: 'the process before loading anything (Node, tsx, the code)' });

  info(`memory: loading ${ASSETS} assets and ${LEASES} leases through saveAsset/saveLease`);
  for (let i = 0; i < ASSETS; i++) await db.saveAsset(newAsset(i));
  let start = nowNs();
  for (let i = 0; i < LEASES; i++) await db.saveLease(newLease(i, ASSETS));
  const leaseSeconds = (nowNs() - start) / 1e9;
  report('memory.load.leases.throughput', round(LEASES / leaseSeconds, 0), 'leases/s', { leases: LEASES, via: 'saveLease' });
  const agreementBytes = JSON.stringify(newLease(0, ASSETS).agreement).length;
  const rssLeases = rssAfterGc();
  report('memory.rss.leases', round(rssLeases, 1), 'MB', {
    assets: ASSETS,
    leases: LEASES,
    agreementBytes,
    metadataBytes: JSON.stringify(newAsset(0).metadata).length,
    afterGc: true,
  });

  // 1,000 active leases each paying once per second: 1,000 payments per second of stream time.
  const paying: string[] = [];
  for (let i = 0; paying.length < PAYING_LEASES; i++) if (placeLease(i, ASSETS).status === 'active') paying.push(leaseKey(i));
  const streamStart = Date.UTC(2025, 5, 1, 10, 0, 0);
  info(`memory: recording ${PAYMENTS} payments through recordPayment (${PAYING_LEASES} leases, 1 per second each)`);
  start = nowNs();
  for (let i = 0; i < PAYMENTS; i++) {
    await db.recordPayment({
      leaseId: paying[i % PAYING_LEASES] as string,
      amount: '277777',
      timestamp: new Date(streamStart + Math.floor(i / PAYING_LEASES) * 1000).toISOString(),
      mode: 'second',
      facilitatorTxHash: hash('f1', i),
    });
    if (i > 0 && i % 250_000 === 0) info(`memory: ${i} payments`);
  }
  const paymentSeconds = (nowNs() - start) / 1e9;
  report('memory.load.payments.throughput', round(PAYMENTS / paymentSeconds, 0), 'payments/s', {
    payments: PAYMENTS,
    via: 'recordPayment',
    seconds: round(paymentSeconds, 1),
  });
  const rssAll = rssAfterGc();
  report('memory.rss.payments', round(rssAll - rssLeases, 1), 'MB', {
    payments: PAYMENTS,
    limitMB: RSS_LIMIT_MB,
    ok: rssAll - rssLeases < RSS_LIMIT_MB,
    bytesPerPayment: Math.round(((rssAll - rssLeases) * MB) / PAYMENTS),
    note: 'RSS added by the payments and their batches, after gc',
  });
  report('memory.rss', round(rssAll, 1), 'MB', {
    leases: LEASES,
    payments: PAYMENTS,
    limitMB: RSS_LIMIT_MB,
    ok: rssAll < RSS_LIMIT_MB,
    heapUsedMB: round(process.memoryUsage().heapUsed / MB, 1),
    afterGc: true,
    note: 'whole process after gc: Node itself, 10k assets, 100k leases with their documents, 1M payments and their batches',
  });
  report('memory.rss.peak', round(process.resourceUsage().maxRSS / 1024, 1), 'MB', {
    note: 'maximum RSS of the process up to the end of loading, load garbage included',
  });

  const random = prng(42);
  const keyed: Record<Exclude<(typeof READS)[number], 'getLeasesByStatus'>, (i: number) => Promise<unknown>> = {
    getAsset: () => db.getAsset(assetKey(pick(random, ASSETS))),
    getLease: () => db.getLease(leaseKey(pick(random, LEASES))),
    getAssetByTokenAddress: () => db.getAssetByTokenAddress(tokenAddress(pick(random, ASSETS)).toLowerCase()),
  };
  const measured = new Map<string, QuietRun<number[]>>();
  const measure = async (read: keyof typeof keyed) => {
    let run = measured.get(read);
    if (!run) measured.set(read, (run = await quietly(() => sampleLatencies(KEYED_ITERATIONS, keyed[read], 2_000))));
    return run;
  };
  for (const read of Object.keys(keyed) as (keyof typeof keyed)[]) {
    if (!anyMatches(filter, [`memory.${read}.p50`, `memory.${read}.p99`])) continue;
    const run = await measure(read);
    const s = summarizeUs(run.result);
    report(`memory.${read}.p50`, round(s.p50), 'us', { n: s.n, otherCpuPct: run.cpu.otherCpuPct });
    report(`memory.${read}.p99`, round(s.p99), 'us', { n: s.n, otherCpuPct: run.cpu.otherCpuPct });
  }

  if (anyMatches(filter, names.filter((n) => n.startsWith('memory.getLeasesByStatus')))) {
    let rows = 0;
    const run = await quietly(() =>
      sampleLatencies(
        STATUS_ITERATIONS,
        async () => {
          rows = (await db.getLeasesByStatus('active')).length;
        },
        3,
      ),
    );
    const s = summarizeUs(run.result);
    const extra = { n: s.n, status: 'active', rows, otherCpuPct: run.cpu.otherCpuPct };
    report('memory.getLeasesByStatus.p50', round(s.p50, 0), 'us', extra);
    report('memory.getLeasesByStatus.p99', round(s.p99, 0), 'us', extra);
    report('memory.getLeasesByStatus.perRow.p50', round(s.p50 / rows), 'us/row', { rows, note: 'each row is a copy (agreement cloned)' });
    report('memory.getLeasesByStatus.perRow.p99', round(s.p99 / rows), 'us/row', { rows });
  }

  if (anyMatches(filter, ['memory.baseline.scanGetLease.p50', 'memory.baseline.scanGetLease.p99', 'memory.getLease.speedupVsScan'])) {
    // The same 100,000 leases in a plain array; the scan returns the stored object without the
    // copy the backend makes, so the baseline is if anything flattered.
    const array: StoredLease[] = await db.getAllLeases();
    const scan = async (key: string) => array.find((l) => l.leaseId === key) ?? null;
    const run = await quietly(() => sampleLatencies(SCAN_ITERATIONS, () => scan(leaseKey(pick(random, LEASES))), 100));
    const s = summarizeUs(run.result);
    const extra = { n: s.n, leases: array.length, otherCpuPct: run.cpu.otherCpuPct };
    report('memory.baseline.scanGetLease.p50', round(s.p50), 'us', extra);
    report('memory.baseline.scanGetLease.p99', round(s.p99), 'us', extra);
    if (matches(filter, 'memory.getLease.speedupVsScan')) {
      const lease = summarizeUs((await measure('getLease')).result);
      report('memory.getLease.speedupVsScan', round(s.p50 / lease.p50, 0), 'x', { indexedP50us: round(lease.p50), scanP50us: round(s.p50) });
    }
  }

  await db.disconnect();
}

function summarizeUs(samples: number[]) {
  return summarize(convert(samples, 'us'));
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  applyServiceProcessSettings();
  const filter = process.argv[2];
  await benchMemory(filter === undefined ? { report: stdoutReporter() } : { filter, report: stdoutReporter(filter) });
}
