/**
 * `npm run soak`: a long run of the HTTP service on PostgreSQL under paying load, to show what a
 * short test cannot: that memory and latency stay flat and the ledger stays exact over time.
 *
 * The compiled service (dist/, built by the npm script) runs as a child process on a throwaway
 * database of the PostgreSQL server at `TEST_PG_ADMIN_URL` (default the local one). `SOAK_LEASES`
 * active leases (default 1,000) each pay once a second (mode `second`) for `SOAK_MINUTES`
 * (default 10; `--minutes N` and `--leases N` override). Every window (`SOAK_WINDOW_SECONDS`,
 * default 60) prints payments/s, p50/p99 latency and the service's RSS; at the end reconcile
 * runs and the ledger is compared with every 200 the clients got.
 *
 * Verdicts (exit 1 when one fails): RSS after the warm-up (the first fifth of the run) grows by
 * at most 20 % (+32 MiB slack for the allocator), the last window's p99 is at most 1.5x the first
 * post-warm-up window's (+50 ms), and the ledger matches with reconcile reporting no difference.
 * When the machine cannot pay 1,000 leases a second, the report says how many it did: the load
 * is then closed-loop (each stream pays again as soon as it is answered).
 */
import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { finishRecovery, auditLedger, seedLeases, API_KEY } from '../test/reliability/harness.js';
import { PayingStreams, percentile } from '../test/support/paying-streams.js';
import { freePort } from '../test/support/free-port.js';
import { createTestDatabase } from '../test/support/pg.js';

const repo = fileURLToPath(new URL('..', import.meta.url));

function option(name: string, variable: string, fallback: number): number {
  const index = process.argv.indexOf(`--${name}`);
  const raw = index >= 0 ? process.argv[index + 1] : process.env[variable];
  if (raw === undefined || raw === '') return fallback;
  if (!/^\d+(\.\d+)?$/.test(raw)) throw new Error(`--${name} / ${variable} must be a positive number, got "${raw}"`);
  return Number(raw);
}

const minutes = option('minutes', 'SOAK_MINUTES', 10);
const leaseCount = option('leases', 'SOAK_LEASES', 1000);
const windowSeconds = option('window', 'SOAK_WINDOW_SECONDS', 60);

async function rssMiB(pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8').catch(() => '');
  const kib = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? Number.NaN);
  return Math.round((kib / 1024) * 10) / 10;
}

async function waitHealthy(base: string, exited: () => boolean): Promise<void> {
  for (let i = 0; i < 600; i++) {
    if (exited()) throw new Error('the service exited before it listened');
    const ok = await fetch(`${base}/health`).then((r) => r.ok, () => false);
    if (ok) return;
    await sleep(100);
  }
  throw new Error('the service did not answer /health within 60 s');
}

interface Window {
  minute: number;
  paymentsPerSecond: number;
  p50Ms: number;
  p99Ms: number;
  rssMiB: number;
  retryable: number;
  unexpected: number;
}

async function main(): Promise<number> {
  const database = await createTestDatabase();
  const dataDir = await mkdtemp(join(tmpdir(), 'soak-'));
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  // Warnings only: an info line per request would make the soak measure the logger.
  const child = spawn(process.execPath, ['dist/main.js'], {
    cwd: repo,
    stdio: ['ignore', 'ignore', 'inherit'],
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', HOST: '127.0.0.1', PORT: String(port), LEASING_MODE: 'development', DATABASE_URL: database.url, DATA_DIR: dataDir, API_KEY, LOG_LEVEL: 'warn', PGPOOL_MAX: '10', ACCESS_RATE_LIMIT_MAX: '1000000' },
  });
  let exited = false;
  child.once('exit', () => (exited = true));
  try {
    await waitHealthy(base, () => exited);
    const pid = child.pid as number;
    process.stdout.write(`soak: ${leaseCount} leases paying every second for ${minutes} min on PostgreSQL (service pid ${pid})\n`);
    const leases = await seedLeases(base, leaseCount);
    const streams = new PayingStreams({ base, leases, everyMs: 1000, keepLatencies: true, quoteReuseMs: 30_000, requestTimeoutMs: 600_000 }).start();
    const windows: Window[] = [];
    const started = Date.now();
    const end = started + minutes * 60_000;
    let seen = 0;
    let retryableSeen = 0;
    while (Date.now() < end) {
      const windowEnd = Math.min(end, started + (windows.length + 1) * windowSeconds * 1000);
      await sleep(Math.max(0, windowEnd - Date.now()));
      const latencies = streams.tally.latencies.slice(seen);
      seen += latencies.length;
      const retryable = Object.values(streams.tally.retryable).reduce((a, b) => a + b, 0);
      const ok = latencies.filter((l) => l.status === 200).map((l) => l.ms);
      const window: Window = {
        minute: Math.round(((windowEnd - started) / 60_000) * 100) / 100,
        paymentsPerSecond: Math.round((ok.length / windowSeconds) * 10) / 10,
        p50Ms: percentile(ok, 50),
        p99Ms: percentile(ok, 99),
        rssMiB: await rssMiB(pid),
        retryable: retryable - retryableSeen,
        unexpected: streams.tally.unexpected.length,
      };
      retryableSeen = retryable;
      windows.push(window);
      process.stdout.write(`${JSON.stringify(window)}\n`);
    }
    const tally = await streams.stop();
    const left = await finishRecovery(base);
    const audit = await auditLedger(database.url, tally);

    const warmup = Math.max(1, Math.ceil(windows.length / 5));
    const settled = windows.slice(warmup);
    const first = settled[0] ?? windows[windows.length - 1];
    const last = windows[windows.length - 1];
    const verdicts = {
      memoryFlat: first !== undefined && last !== undefined && last.rssMiB <= first.rssMiB * 1.2 + 32,
      p99Flat: first !== undefined && last !== undefined && last.p99Ms <= first.p99Ms * 1.5 + 50,
      ledgerExact: audit.missing.length === 0 && audit.duplicated.length === 0 && audit.unannounced.length === 0 && audit.reconcileDifferences === 0 && left.pendingLeft === 0 && left.settlementsLeft === 0,
      noUnexpectedAnswers: tally.unexpected.length === 0,
    };
    const summary = {
      minutes,
      leases: leaseCount,
      offeredPaymentsPerSecond: leaseCount,
      payments: tally.hashes.size,
      meanPaymentsPerSecond: Math.round((tally.hashes.size / ((Date.now() - started) / 1000)) * 10) / 10,
      retryableAnswers: tally.retryable,
      resignedAfterLongRefusal: tally.resigned,
      unexpected: tally.unexpected.slice(0, 5),
      ledgerRows: audit.rows.size,
      lost: audit.missing.length,
      duplicated: audit.duplicated.length,
      reconcileDifferences: audit.reconcileDifferences,
      rssAfterWarmupMiB: first?.rssMiB,
      rssAtEndMiB: last?.rssMiB,
      p99AfterWarmupMs: first?.p99Ms,
      p99AtEndMs: last?.p99Ms,
      verdicts,
    };
    process.stdout.write(`soak summary: ${JSON.stringify(summary, null, 2)}\n`);
    return Object.values(verdicts).every(Boolean) ? 0 : 1;
  } finally {
    child.kill('SIGTERM');
    if (!exited) await new Promise((resolve) => child.once('exit', resolve));
    await database.drop();
    await rm(dataDir, { recursive: true, force: true });
  }
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    process.stderr.write(`soak failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    process.exit(1);
  },
);
