/**
 * Data migration benchmark (issue 4): a generated 1,000,000-record snapshot (1k assets, 10k
 * leases, 100k events, 880k payments, 9k batches) migrated into a fresh PostgreSQL database,
 * reporting rows/s and the peak RSS of this process; and, in the same run, the guide's
 * row-at-a-time loop (one public save call per record) on a 20,000-record subset as the baseline.
 * The snapshot is generated straight into the streaming writer, so generation stays small too.
 *
 * Issue 14 adds the bound, in the same run: the same 1,000,000 records streamed from the snapshot
 * with COPY (one transaction, 5,000 rows per COPY, one COPY in flight while the next chunk is read)
 * into a fresh database that has the project's schema with all its indexes and foreign keys, i.e.
 * loading without deferring the indexes, and
 * the payments' settlement-hash claims copied with them (the migration makes them too: without
 * them a replayed payment would be counted again). Goal: migrate_1m (into the empty target, so the
 * load-before-indexing path) >= 2x that bound, RSS < 512 MB. Two variants of the bound are
 * reported beside it: without the claims (as first measured) and with the claims in hash order.
 * `migrate_1m.step.*` say where the migration's time went (MigrationReport.steps).
 * The migration and the bound run alternately, BENCH_MIGRATION_ROUNDS times each (default 2), and
 * the fastest of each is reported (this machine's speed moves from minute to minute).
 *
 * Run alone: `npx tsx bench/data-migration.ts [filter]`. Needs the PostgreSQL server of the tests
 * (TEST_PG_ADMIN_URL). Prints one JSON object per figure.
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import pg from 'pg';
import { migrateData } from '../src/migration/migrate-data.js';
import { readSnapshot } from '../src/migration/snapshot-reader.js';
import { SnapshotWriter } from '../src/migration/snapshot-writer.js';
import type { Database, StoredX402Batch, StoredX402Payment } from '../src/storage/contract/database.js';
import { PostgresDatabase } from '../src/storage/backends/postgres/postgres-database.js';
import type { TableName, TableRecords } from '../src/storage/contract/transfer.js';
import { createTestDatabase } from '../test/support/pg.js';
import { CLAIMS_FROM_PAYMENTS } from '../src/storage/backends/sql/bulk-load.js';
import { copyRows, copyText } from '../src/storage/backends/sql/copy-text.js';
import { HOT_CLAIMS } from '../src/storage/backends/sql/settlement-hashes.js';
import { processCpuSeconds } from './support/cpu.js';
import { COLUMNS, type Column } from '../src/storage/backends/sql/records.js';
import { driverOf } from './support/sql.js';

/** Options of {@link benchDataMigration}; `report` prints one figure. */
export interface BenchOptions {
  filter?: string;
  report: (name: string, value: number, unit: string, extra?: object) => void;
}

/** How many records of each table a generated snapshot holds. */
export interface Shape {
  assets: number;
  leases: number;
  events: number;
  payments: number;
  batches: number;
}

/** The benchmark's 1,000,000-record snapshot. */
export const FULL: Shape = { assets: 1_000, leases: 10_000, events: 100_000, payments: 880_000, batches: 9_000 };
const SUBSET: Shape = { assets: 20, leases: 200, events: 2_000, payments: 17_600, batches: 180 };
const total = (s: Shape) => s.assets + s.leases + s.events + s.payments + s.batches;

const BASE = Date.UTC(2025, 0, 1);
const HOUR = 3_600_000;
const hex = (n: number, width: number) => n.toString(16).padStart(width, '0');
// Ids ascend with n (first 8 hex digits) as every export does; the random tail keeps them UUID-like.
const uuid = (n: number, tag: number, tail: Buffer) => `${hex(n, 8)}-${hex(tag, 4)}-4000-8${tail.toString('hex', 0, 2).slice(1)}-${tail.toString('hex', 2, 8)}`;
const address = (n: number) => `0x${hex(n, 40)}`;
const randomHash = () => `0x${randomBytes(32).toString('hex')}`;

/**
 * Writes a synthetic snapshot of `shape` to `path`, 5,000 records per write. Payment p belongs to
 * batch p % batches (lease b, hour b % 48), so batches hold their payments' real totals.
 */
export async function generateSnapshot(path: string, shape: Shape): Promise<void> {
  const writer = await SnapshotWriter.create(path, 'synthetic');
  const emit = async <T extends TableName>(table: T, count: number, make: (n: number) => TableRecords[T]) => {
    for (let start = 0; start < count; start += 5_000) {
      const page: TableRecords[T][] = [];
      for (let n = start; n < Math.min(count, start + 5_000); n += 1) page.push(make(n));
      await writer.write(table, page);
    }
  };
  const at = (ms: number) => new Date(BASE + ms);
  await emit('assets', shape.assets, (n) => ({
    id: uuid(n, 1, randomBytes(8)), assetId: `BENCH-ASSET-${n}`, chainId: 84532, contractAddress: address(0xa0), tokenAddress: address(0xb000000 + n),
    metadata: { name: `Asset ${n}`, assetType: 'satellite', specifications: { orbit: 'leo', altitude_km: 400 + (n % 300), bands: ['X', 'Ka'] } },
    metadataHash: randomHash(), blockNumber: 1_000 + n, transactionHash: randomHash(), createdAt: at(n), updatedAt: at(n),
  }));
  await emit('leases', shape.leases, (n) => ({
    id: uuid(n, 2, randomBytes(8)), leaseId: `BENCH-LEASE-${n}`, assetId: `BENCH-ASSET-${n % shape.assets}`, chainId: 84532, contractAddress: address(0xe0),
    lessor: address(0xf000000 + (n % shape.assets)), lessee: address(0xf100000 + n), status: 'active', blockNumber: 2_000 + n, transactionHash: randomHash(),
    agreement: { terms: { paymentAmount: String(1_000_000 + n), currency: 'USDC', schedule: 'per-second' }, version: 1 }, createdAt: at(n), updatedAt: at(n),
  }));
  await emit('events', shape.events, (n) => ({
    id: uuid(n, 3, randomBytes(8)), eventName: n % 2 === 0 ? 'LeaseMinted' : 'PaymentSettled', contractAddress: address(0xab), blockNumber: 10_000 + (n >> 2),
    transactionHash: randomHash(), logIndex: n % 4, args: { tokenId: String(n), amount: String(n * 1_000) }, processed: n % 3 !== 0, createdAt: at(n),
  }));
  // 98 payments at most per batch, 36 s apart, stay inside their hour.
  const totals = new Array<bigint>(shape.batches).fill(0n);
  const counts = new Array<number>(shape.batches).fill(0);
  await emit('x402_payments', shape.payments, (p): StoredX402Payment => {
    const b = p % shape.batches;
    const hour = BASE + (b % 48) * HOUR;
    const amount = BigInt(1_000 + ((p * 7_919) % 100_000));
    totals[b] = (totals[b] ?? 0n) + amount;
    counts[b] = (counts[b] ?? 0) + 1;
    const ts = new Date(hour + Math.floor(p / shape.batches) * 36_000);
    return {
      id: uuid(p, 4, randomBytes(8)), leaseId: `BENCH-LEASE-${b}`, mode: 'second', intervalSeconds: 1, amountMinorUnits: amount, payer: address(0xf100000 + b),
      paymentTimestamp: ts, facilitatorTxHash: randomHash(), bucketSlot: new Date(hour).toISOString(), createdAt: ts,
    };
  });
  await emit('x402_batches', shape.batches, (b): StoredX402Batch => {
    const hour = BASE + (b % 48) * HOUR;
    const batch: StoredX402Batch = {
      id: uuid(b, 5, randomBytes(8)), leaseId: `BENCH-LEASE-${b}`, hourBucket: new Date(hour).toISOString(), totalAmountMinorUnits: totals[b] ?? 0n,
      paymentCount: counts[b] ?? 0, startedAt: new Date(hour), closedAt: new Date(hour + HOUR), createdAt: new Date(hour),
    };
    if (b % 2 === 0) Object.assign(batch, { settlementTxHash: randomHash(), revenueRoundId: `round-${b % 48}` });
    return batch;
  });
  await writer.finish();
}

/** A fresh, migrated PostgreSQL database for one measurement. */
async function freshPostgres(): Promise<{ db: PostgresDatabase; url: string; drop: () => Promise<void> }> {
  const created = await createTestDatabase();
  const db = new PostgresDatabase(created.url);
  await db.connect();
  const result = await db.migrator().up();
  if (result.error) throw result.error;
  return { db, url: created.url, drop: async () => (await db.disconnect(), await created.drop()) };
}

/** The guide's phase 3 loop, extended to every table: one public call per record. */
async function rowAtATime(snapshot: string, db: Database): Promise<number> {
  let rows = 0;
  for await (const chunk of readSnapshot(snapshot)) {
    for (const { table, record } of chunk) {
      rows += 1;
      if (table === 'assets') {
        const { id: _i, createdAt: _c, updatedAt: _u, ...asset } = record as TableRecords['assets'];
        await db.saveAsset(asset);
      } else if (table === 'leases') {
        const { id: _i, createdAt: _c, updatedAt: _u, ...lease } = record as TableRecords['leases'];
        await db.saveLease(lease);
      } else if (table === 'events') {
        const { id: _i, createdAt: _c, ...event } = record as TableRecords['events'];
        await db.saveEvent(event);
      } else if (table === 'x402_payments') {
        const { id: _i, createdAt: _c, ...payment } = record as TableRecords['x402_payments'];
        await db.saveX402Payment(payment);
      } else {
        // Payments made their batches; only the settlement is left to carry over.
        const batch = record as TableRecords['x402_batches'];
        const open = await db.getOpenBatchForLease(batch.leaseId, batch.hourBucket);
        if (open && batch.settlementTxHash) await db.updateX402Batch(open.id, { settlementTxHash: batch.settlementTxHash, revenueRoundId: batch.revenueRoundId ?? 'r' });
      }
    }
  }
  return rows;
}

/** The columns of a payment's settlement-hash claim, as the migration's load fills them from its payments. */
const CLAIM_COLUMNS: readonly Column[] = [
  ['facilitator_tx_hash', 'text', (p: StoredX402Payment) => p.facilitatorTxHash],
  ['lease_id', 'text', (p: StoredX402Payment) => p.leaseId],
  ['payment_id', 'uuid', (p: StoredX402Payment) => p.id],
  ['payment_timestamp', 'timestamptz', (p: StoredX402Payment) => p.paymentTimestamp],
];

/**
 * How the bound fills the settlement-hash claims, which the migration makes for every payment
 * (without them a replayed payment would be counted again):
 * - `copied`: each chunk of payments is followed by a COPY of its claims into the hot claims table,
 *   its key in place, in the order the snapshot gives them, as every other table's rows (the bound);
 * - `none`: the claims table is left empty (the bound as first measured, until 2026-12-03);
 * - `sorted`: after the last row, one INSERT of every claim in hash order, so the key is appended
 *   to at its right edge (the cheapest order for it; not a COPY of the rows as given).
 */
type BoundClaims = 'copied' | 'none' | 'sorted';

/** COPY of every record of `snapshot` into `db` (its indexes in place), one transaction; returns rows. */
async function copyIntoIndexed(snapshot: string, db: PostgresDatabase, claims: BoundClaims): Promise<number> {
  const bulk = driverOf(db).bulkTransaction?.bind(driverOf(db));
  if (!bulk) throw new Error('the PostgreSQL driver has no COPY');
  let rows = 0;
  await bulk(async (tx) => {
    let table: TableName | undefined;
    let pending: TableRecords[TableName][] = [];
    // One chunk's COPY in flight while the next is read and encoded, as the migration's load does:
    // the bound is the server's indexed COPY, not Node's reading added to it.
    let inFlight: Promise<void> = Promise.resolve();
    const flush = async () => {
      if (table === undefined || pending.length === 0) return;
      const [into, records] = [table, pending];
      const bytes = copyRows(into, records);
      const claimRows = claims === 'copied' && into === 'x402_payments' ? copyText(CLAIM_COLUMNS, records) : undefined;
      await inFlight;
      inFlight = (async () => {
        await tx.copyIn(into, COLUMNS[into].map(([name]) => name), bytes);
        if (claimRows !== undefined) await tx.copyIn(HOT_CLAIMS, CLAIM_COLUMNS.map(([name]) => name), claimRows);
      })();
      // Awaited at the next flush or at the end; a failure is seen there.
      inFlight.catch(() => undefined);
      rows += records.length;
      pending = [];
    };
    for await (const chunk of readSnapshot(snapshot)) {
      for (const { table: t, record } of chunk) {
        if (t !== table || pending.length >= 5_000) await flush();
        table = t;
        pending.push(record);
      }
    }
    await flush();
    await inFlight;
    if (claims === 'sorted') {
      await tx.query(`SET LOCAL work_mem = '256MB'`, []);
      // The load's own statement, in hash order.
      await tx.query(`${CLAIMS_FROM_PAYMENTS} ORDER BY facilitator_tx_hash`, []);
    }
  });
  return rows;
}

/**
 * CPU seconds the PostgreSQL backends of database `url` use from now until `stop()` (backends that
 * appear meanwhile are found by polling and counted from zero; this tracker's own is left out).
 */
async function trackBackendCpu(url: string): Promise<{ stop: () => Promise<number> }> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  const own = Number((await client.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0]?.pid);
  const seen = new Map<number, number>();
  let first = true;
  const poll = async () => {
    const { rows } = await client.query<{ pid: number }>('SELECT pid FROM pg_stat_activity WHERE datname = current_database()');
    for (const { pid } of rows) if (pid !== own && !seen.has(pid)) seen.set(pid, first ? processCpuSeconds(pid) : 0);
    first = false;
  };
  await poll();
  const timer = setInterval(() => void poll().catch(() => undefined), 250);
  return {
    stop: async () => {
      clearInterval(timer);
      await poll();
      const used = [...seen].reduce((sum, [pid, base]) => sum + Math.max(0, processCpuSeconds(pid) - base), 0);
      await client.end();
      return used;
    },
  };
}

/** Samples this process's RSS every 50 ms until stopped; returns the peak in MB. */
function rssSampler(): { stop: () => number; sample: () => void } {
  let peak = process.memoryUsage().rss;
  const sample = () => {
    peak = Math.max(peak, process.memoryUsage().rss);
  };
  const timer = setInterval(sample, 50);
  return { sample, stop: () => (clearInterval(timer), sample(), Math.round(peak / 1048576)) };
}

// Other work on the machine (load average) moves these figures a lot; report it with them.
function machine(): { cpus: number; loadavg1m: number } {
  return { cpus: cpus().length, loadavg1m: Number(loadavg()[0]?.toFixed(2)) };
}

/** Rounds of (migration, bound) alternated (BENCH_MIGRATION_ROUNDS, default 2). */
const ROUNDS = Math.max(1, Number(process.env.BENCH_MIGRATION_ROUNDS ?? 2));

/** One migration of `file` into a fresh database: its report, time, CPU, peak RSS and serial tail. */
interface MigrationRound {
  result: Awaited<ReturnType<typeof migrateData>>;
  seconds: number;
  cpu: { node: number; pg: number };
  peakRssMb: number;
  /** The steps after the last row (claims, keys, indexes, foreign keys, digests, commit), in seconds: the server works alone, as they need every row. */
  tailSeconds: number;
}

async function migrateOnce(file: string): Promise<MigrationRound> {
  const pg = await freshPostgres();
  try {
    const rss = rssSampler();
    const backends = await trackBackendCpu(pg.url);
    const nodeCpu = process.cpuUsage();
    const t0 = performance.now();
    const result = await migrateData(file, pg.db, { batchSize: 5_000, onProgress: rss.sample });
    const seconds = (performance.now() - t0) / 1000;
    const nodeUsed = process.cpuUsage(nodeCpu);
    const cpu = { node: (nodeUsed.user + nodeUsed.system) / 1e6, pg: await backends.stop() };
    const peakRssMb = rss.stop();
    if (!result.ok) throw new Error(`verification failed: ${JSON.stringify(result.tables.filter((t) => !t.ok), (_k, v: unknown) => (typeof v === 'bigint' ? String(v) : v))}`);
    const tailMs = Object.entries(result.steps ?? {})
      .filter(([step]) => !['readSource', 'prepare', 'copy'].includes(step))
      .reduce((sum, [, ms]) => sum + ms, 0);
    return { result, seconds, cpu, peakRssMb, tailSeconds: tailMs / 1000 };
  } finally {
    await pg.drop();
  }
}

/** Seconds to COPY `file` into a fresh database with the indexed schema (the bound; see copyIntoIndexed). */
async function boundOnce(file: string, claims: BoundClaims): Promise<number> {
  const bound = await freshPostgres();
  try {
    const t0 = performance.now();
    const rows = await copyIntoIndexed(file, bound.db, claims);
    const seconds = (performance.now() - t0) / 1000;
    if (rows !== total(FULL)) throw new Error(`the bound copied ${rows} rows, not ${total(FULL)}`);
    const { rows: counted } = await driverOf(bound.db).query<{ n: string }>(`SELECT count(*) AS n FROM ${HOT_CLAIMS}`, []);
    const claimed = Number(counted[0]?.n);
    if (claimed !== (claims === 'none' ? 0 : FULL.payments)) throw new Error(`the bound left ${claimed} settlement-hash claims`);
    return seconds;
  } finally {
    await bound.drop();
  }
}

/** Runs the benchmark; `report` receives each figure. */
export async function benchDataMigration(opts: BenchOptions): Promise<void> {
  const wanted = (part: string) => opts.filter === undefined || part.includes(opts.filter) || opts.filter.includes(part);
  const runMigrate = wanted('data-migration.migrate');
  const runBaseline = wanted('data-migration.baseline');
  if (!runMigrate && !runBaseline) return;
  const dir = await mkdtemp(join(tmpdir(), 'bench-migration-'));
  try {
    let migrateRate: number | undefined;
    if (runMigrate) {
      const file = join(dir, 'full.jsonl');
      const t0 = performance.now();
      await generateSnapshot(file, FULL);
      opts.report('data-migration.generate_1m', Math.round(total(FULL) / ((performance.now() - t0) / 1000)), 'rows/s', { bytes: (await stat(file)).size });
      // This machine's speed moves between minutes, so the migration and the bound alternate and
      // the fastest of each counts (the run least disturbed), with every round's time beside it.
      const migrations: MigrationRound[] = [];
      const bounds: Record<BoundClaims, number[]> = { copied: [], none: [], sorted: [] };
      for (let round = 0; round < ROUNDS; round++) {
        migrations.push(await migrateOnce(file));
        for (const claims of ['copied', 'none', 'sorted'] as const) bounds[claims].push(await boundOnce(file, claims));
      }
      const best = migrations.reduce((a, b) => (b.seconds < a.seconds ? b : a));
      const { result, seconds } = best;
      migrateRate = Math.round(result.records / seconds);
      const roundSeconds = migrations.map((m) => Number(m.seconds.toFixed(1)));
      opts.report('data-migration.migrate_1m', migrateRate, 'rows/s', { rows: result.records, seconds: Number(seconds.toFixed(1)), rounds: roundSeconds, phaseMs: result.phaseMs, ...machine() });
      opts.report('data-migration.migrate_1m.copy_only', Math.round(result.records / (result.phaseMs.copy / 1000)), 'rows/s');
      opts.report('data-migration.migrate_1m.peak_rss', Math.max(...migrations.map((m) => m.peakRssMb)), 'MB', { limit: 512 });
      // Where the time went (the empty-target path): reading and checking the snapshot, the COPY
      // stream net of reading, and each step of the store's load (indexes, foreign keys, digests...).
      for (const [step, ms] of Object.entries(result.steps ?? {})) opts.report(`data-migration.migrate_1m.step.${step}`, ms, 'ms');
      const rows = total(FULL);
      const boundSeconds = Math.min(...bounds.copied);
      const boundRate = Math.round(rows / boundSeconds);
      opts.report('data-migration.migrate_1m.bound_copy_into_indexed', boundRate, 'rows/s', {
        rows,
        seconds: Number(boundSeconds.toFixed(1)),
        rounds: bounds.copied.map((b) => Number(b.toFixed(1))),
        note: 'COPY into the migrated schema, indexes and foreign keys in place, one transaction, each chunk of payments followed by its settlement-hash claims: the store the migration leaves',
        ...machine(),
      });
      opts.report('data-migration.migrate_1m.vs_copy_bound', Number((migrateRate / boundRate).toFixed(2)), 'x', { goal: 2, ok: migrateRate / boundRate >= 2 });
      // Two variants of the bound beside it, run by run (see BoundClaims): the claims table left
      // empty, as the bound was first measured (less work than the migration does, and a store that
      // would count a replayed payment again), and the claims inserted in hash order at the end.
      const variants = { none: 'the claims table left empty (the bound before 2026-12-03; less work than the migration)', sorted: 'the claims inserted in hash order after the last row (the cheapest order for their key)' };
      for (const [claims, note] of Object.entries(variants) as [Exclude<BoundClaims, 'copied'>, string][]) {
        const variantSeconds = Math.min(...bounds[claims]);
        const name = claims === 'none' ? 'without_claims' : 'claims_sorted';
        opts.report(`data-migration.migrate_1m.bound_copy_into_indexed_${name}`, Math.round(rows / variantSeconds), 'rows/s', {
          seconds: Number(variantSeconds.toFixed(1)),
          rounds: bounds[claims].map((b) => Number(b.toFixed(1))),
          note,
        });
        opts.report(`data-migration.migrate_1m.vs_copy_bound_${name}`, Number((variantSeconds / seconds).toFixed(2)), 'x');
      }
      // The CPU the migration used, in this run: Node's (reading, checking, encoding) and the
      // database's (its one load transaction runs on one backend, so that part is serial).
      // However the work is arranged, it cannot finish sooner than the database's share, nor
      // sooner than all of it spread over every core.
      const { node, pg } = best.cpu;
      const cores = cpus().length;
      const floor = Math.max(pg, (node + pg) / cores);
      opts.report('data-migration.migrate_1m.cpu_floor', Number(floor.toFixed(1)), 's', {
        nodeCpuSeconds: Number(node.toFixed(1)),
        pgCpuSeconds: Number(pg.toFixed(1)),
        cores,
        migrationSeconds: Number(seconds.toFixed(1)),
        boundSeconds: Number(boundSeconds.toFixed(1)),
        maxVsCopyBound: Number((boundSeconds / floor).toFixed(2)),
        note: 'max(database CPU of the one load transaction, all CPU / cores): no arrangement of the same work finishes sooner',
      });
      // Loading before indexing has a serial tail: its steps after the last row run on the server
      // alone. Its floor is that tail (measured, wall time) plus the rest of the CPU spread over
      // every core. (The tail's wall time is at least its CPU, so this is a floor.)
      const tail = best.tailSeconds;
      const loadFloor = tail + Math.max(0, node + pg - tail) / cores;
      opts.report('data-migration.migrate_1m.load_floor', Number(loadFloor.toFixed(1)), 's', {
        tailSeconds: Number(tail.toFixed(1)),
        maxVsCopyBound: Number((boundSeconds / loadFloor).toFixed(2)),
        note: 'the serial tail after the last row + the rest of the CPU / cores: no load-before-indexing run of this work finishes sooner',
      });
    }
    if (runBaseline) {
      const file = join(dir, 'subset.jsonl');
      await generateSnapshot(file, SUBSET);
      const pg = await freshPostgres();
      try {
        const t0 = performance.now();
        const rows = await rowAtATime(file, pg.db);
        const rate = Math.round(rows / ((performance.now() - t0) / 1000));
        opts.report('data-migration.baseline_row_at_a_time', rate, 'rows/s', { rows, ...machine() });
        if (migrateRate !== undefined) opts.report('data-migration.speedup_vs_baseline', Number((migrateRate / rate).toFixed(1)), 'x', { goal: 10 });
      } finally {
        await pg.drop();
      }
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const filter = process.argv[2];
  await benchDataMigration({
    ...(filter === undefined ? {} : { filter }),
    report: (name, value, unit, extra) => process.stdout.write(`${JSON.stringify({ name, value, unit, ...extra })}\n`),
  });
}
