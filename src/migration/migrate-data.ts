/**
 * Data migration between stores (guide phase 3, done properly): every table, ids kept, then
 * verified table by table. Into an empty store that can (PostgreSQL), everything is loaded as a
 * restore does, in one transaction committed only once verified (`loadEmpty`: rows by COPY, then
 * indexes and foreign keys, then digests in SQL), so an interrupted run leaves the target empty and
 * is simply run again. A snapshot is read only once on that path: the reader checks the file's
 * integrity as it streams, and a damaged file throws inside the load, which rolls it back.
 * Otherwise batches are written through importRecords (one transaction each, existing ids skipped,
 * so a re-run after an interruption finishes the job and a repeated run adds nothing). With
 * `merge`, a target that held other records is verified for what the run brought (verify-merge.ts).
 */
import type { Database } from '../storage/contract/database.js';
import { TABLES, isLinesChunk, type TableChunk, type TableLinesChunk, type TableName, type TableSummary } from '../storage/contract/transfer.js';
import { validateStoredRecord } from '../storage/core/validate-records.js';
import { databaseSource, peekSnapshotCounts, snapshotSource, type DeclaredTable, type RecordSource } from './record-source.js';
import { TableDigest, digestTable, type TableDigestValue } from './table-digest.js';
import { compareDigests, databaseIds, diffIds, sourceIds, type TableReport } from './verify.js';
import { verifyMerged } from './verify-merge.js';

export type { TableReport } from './verify.js';

/** The steps of a migration, in order. */
export type MigrationPhase = 'verify-source' | 'copy' | 'verify-target';

/** One progress report: after each batch, and per chunk of the verification passes. */
export interface MigrationProgress {
  phase: MigrationPhase;
  table: TableName;
  /** Records of `table` handled so far in this phase. */
  done: number;
  /** Records of `table` expected (0 when not known yet). */
  total: number;
  /** Records of `table` this run added to the target so far. */
  inserted: number;
}

/** Options of {@link migrateData}. */
export interface MigrateDataOptions {
  /** Records per importRecords call, i.e. per transaction (default 5,000). */
  batchSize?: number;
  /**
   * Batches of one table imported at the same time (default 2). Each is its own transaction, so
   * the order they commit in does not matter; a single-connection backend just queues them.
   */
  concurrency?: number;
  /** Read and verify the source only, validating every record; the target is not touched. */
  dryRun?: boolean;
  /**
   * Snapshots: validate every record's fields in the first pass too, so even an intact file with
   * an invalid record writes nothing (default false: the first pass checks integrity, and an
   * intact file holds what a store exported; importRecords validates everything it writes).
   */
  validateFirst?: boolean;
  /** Progress callback; an exception thrown here aborts the migration (batches already written stay). */
  onProgress?: (progress: MigrationProgress) => void;
  /**
   * The target may hold records the source does not (e.g. a retention snapshot imported back into
   * the live store). Then each table is verified for what this run brought: every source record
   * present and equal, and the target grown by exactly what was inserted. Default false: the
   * target must end up equal to the source.
   */
  merge?: boolean;
}

/** The outcome of {@link migrateData}. */
export interface MigrationReport {
  /** Every table verified equal (dry run: the source read back consistently). */
  ok: boolean;
  dryRun: boolean;
  source: string;
  tables: TableReport[];
  /** Records read from the source. */
  records: number;
  /** Records added to the target by this run. */
  inserted: number;
  durationMs: number;
  phaseMs: Record<MigrationPhase, number>;
  /**
   * The empty-target bulk path only: milliseconds per step. `readSource` is reading and checking
   * the source; `copy` is the COPY stream net of that (validation and encoding included); the
   * other steps are the store's (partitions, settlementHashes, keys, indexes, foreignKeys,
   * digests, ...); `commit` is what is left of the load after them.
   */
  steps?: Record<string, number>;
}

const DEFAULT_BATCH = 5_000;
const DEFAULT_CONCURRENCY = 2;

/**
 * Copies every table of `source` (a connected Database, or the path of a snapshot file) into
 * `target` (connected, schema applied) and verifies the result: per table the row count, the set
 * of ids (hash of the sorted ids) and the money sums. A snapshot is verified completely before
 * the first write, so a damaged file writes nothing. Never throws on a verification difference:
 * the report says `ok: false`. Throws on a refused snapshot, a storage error or a progress
 * callback's exception.
 */
export async function migrateData(source: Database | string, target: Database, options: MigrateDataOptions = {}): Promise<MigrationReport> {
  const started = performance.now();
  const src = typeof source === 'string' ? snapshotSource(source) : databaseSource(source);
  const batchSize = options.batchSize ?? DEFAULT_BATCH;
  if (!Number.isSafeInteger(batchSize) || batchSize < 1) throw new RangeError('batchSize must be a positive integer');
  const concurrency = options.concurrency ?? DEFAULT_CONCURRENCY;
  if (!Number.isSafeInteger(concurrency) || concurrency < 1) throw new RangeError('concurrency must be a positive integer');
  const progress = options.onProgress ?? (() => undefined);
  const phaseMs: Record<MigrationPhase, number> = { 'verify-source': 0, copy: 0, 'verify-target': 0 };
  const time = async <T>(phase: MigrationPhase, work: () => Promise<T>): Promise<T> => {
    const t0 = performance.now();
    try {
      return await work();
    } finally {
      phaseMs[phase] += performance.now() - t0;
    }
  };

  const peeked = typeof source === 'string' ? await peekSnapshotCounts(source) : undefined;
  const sourceDb = typeof source === 'string' ? undefined : source;
  let tables: TableReport[] | undefined;
  const steps: Record<string, number> = {};
  // A snapshot into an empty store: no separate verification pass (see the file comment).
  if (typeof source === 'string' && !options.dryRun && options.validateFirst !== true) {
    const totals = Object.fromEntries(TABLES.map((t) => [t, peeked?.[t] ?? 0])) as Record<TableName, number>;
    tables = (await time('copy', () => loadEmptyTarget(src, undefined, target, totals, batchSize, progress, steps))) ?? undefined;
  }
  if (tables === undefined) {
    const declared = await time('verify-source', () =>
      src.prepare({
        validate: options.dryRun === true || options.validateFirst === true,
        onProgress: (table, done) => progress({ phase: 'verify-source', table, done, total: peeked?.[table] ?? 0, inserted: 0 }),
      }),
    );
    const totals = Object.fromEntries(TABLES.map((t) => [t, declared[t].count])) as Record<TableName, number>;
    if (options.dryRun) {
      tables = await time('verify-source', () => dryRun(src, typeof source !== 'string', declared, batchSize, progress));
    } else {
      const loaded = await time('copy', () => loadEmptyTarget(src, sourceDb, target, totals, batchSize, progress, steps));
      if (loaded) {
        tables = loaded;
      } else if (options.merge) {
        const before = Object.fromEntries(await Promise.all(TABLES.map(async (t) => [t, await target.summarizeTable(t)] as const))) as Record<TableName, TableSummary>;
        const copied = await time('copy', () => copy(src, target, totals, { batchSize, concurrency }, progress));
        const inserted = Object.fromEntries(TABLES.map((t) => [t, copied[t].inserted])) as Record<TableName, number>;
        tables = await time('verify-target', () =>
          verifyMerged(src, target, before, inserted, (table, done, total) => progress({ phase: 'verify-target', table, done, total, inserted: inserted[table] })),
        );
      } else {
        const copied = await time('copy', () => copy(src, target, totals, { batchSize, concurrency }, progress));
        tables = await time('verify-target', () => verifyTarget(src, sourceDb, target, copied, progress));
      }
    }
  }
  return {
    ok: tables.every((t) => t.ok),
    dryRun: options.dryRun === true,
    source: src.description,
    tables,
    records: tables.reduce((n, t) => n + t.sourceCount, 0),
    inserted: tables.reduce((n, t) => n + t.inserted, 0),
    durationMs: Math.round(performance.now() - started),
    phaseMs: { 'verify-source': Math.round(phaseMs['verify-source']), copy: Math.round(phaseMs.copy), 'verify-target': Math.round(phaseMs['verify-target']) },
    ...(Object.keys(steps).length > 0 ? { steps } : {}),
  };
}

interface Copied {
  digest: TableDigestValue;
  inserted: number;
}

async function copy(
  src: RecordSource,
  target: Database,
  totals: Record<TableName, number>,
  { batchSize, concurrency }: { batchSize: number; concurrency: number },
  progress: (p: MigrationProgress) => void,
): Promise<Record<TableName, Copied>> {
  const digests = new Map(TABLES.map((t) => [t, new TableDigest(t)]));
  const done = new Map<TableName, number>(TABLES.map((t) => [t, 0]));
  const inserted = new Map<TableName, number>(TABLES.map((t) => [t, 0]));
  // Imports run while the next batch is read and parsed (CPU here, while an import mostly waits
  // on the database), up to `concurrency` at once within a table. A table's imports all finish
  // before the next table's start, because later tables refer to earlier ones.
  const inflight = new Set<Promise<void>>();
  let failure: { error: unknown } | undefined;
  let current: TableName | undefined;
  try {
    for await (const { table, records } of src.batches(batchSize)) {
      const digest = digests.get(table) as TableDigest;
      for (const record of records) {
        if (!digest.add(record)) throw new Error(`${table}: source ids are not ascending at ${record.id}`);
      }
      if (table !== current) await Promise.all(inflight);
      current = table;
      while (inflight.size >= concurrency) await Promise.race(inflight);
      if (failure) throw failure.error;
      const job: Promise<void> = (async () => {
        const added = await target.importRecords(table, records);
        done.set(table, (done.get(table) ?? 0) + records.length);
        inserted.set(table, (inserted.get(table) ?? 0) + added);
        progress({ phase: 'copy', table, done: done.get(table) ?? 0, total: totals[table], inserted: inserted.get(table) ?? 0 });
      })()
        // Kept, not left rejected: nobody awaits this promise while the next batch is read.
        .catch((error: unknown) => void (failure ??= { error }))
        .finally(() => inflight.delete(job));
      inflight.add(job);
    }
  } finally {
    await Promise.all(inflight);
  }
  if (failure) throw failure.error;
  return Object.fromEntries(TABLES.map((t) => [t, { digest: (digests.get(t) as TableDigest).value(), inserted: inserted.get(t) ?? 0 }])) as Record<TableName, Copied>;
}

/**
 * The empty-target path (see the file comment): the source's digests are taken as its records
 * stream into `loadEmpty`, compared with the digests the target computed before committing, and
 * the load is committed only when every table agrees. Null when the target is not empty or has no
 * such path (nothing was read or written). A failure of the source (a damaged snapshot) or of the
 * progress callback rolls the load back and is rethrown as it was thrown. `steps` receives the
 * time per step (see MigrationReport.steps).
 */
async function loadEmptyTarget(
  src: RecordSource,
  sourceDb: Database | undefined,
  target: Database,
  totals: Record<TableName, number>,
  batchSize: number,
  progress: (p: MigrationProgress) => void,
  steps: Record<string, number>,
): Promise<TableReport[] | null> {
  const digests = new Map(TABLES.map((t) => [t, new TableDigest(t)]));
  // A source that checks its records against digests of its own (a snapshot) is not digested
  // again here: that would hash every id twice.
  const selfChecked = src.readDigests !== undefined;
  const done = new Map<TableName, number>();
  let readMs = 0;
  let failure: { error: unknown } | undefined;
  // Record lines when the source has them: the load parses them beside this thread.
  const lines = selfChecked ? src.lineChunks?.(batchSize) : undefined;
  const chunks = async function* (): AsyncIterable<TableChunk | TableLinesChunk> {
    try {
      const batches = (lines ?? src.batches(batchSize))[Symbol.asyncIterator]();
      for (;;) {
        const t0 = performance.now();
        const next = await batches.next();
        if (!next.done && !selfChecked && !isLinesChunk(next.value)) {
          const digest = digests.get(next.value.table) as TableDigest;
          for (const record of next.value.records) {
            if (!digest.add(record)) throw new Error(`${next.value.table}: source ids are not ascending at ${record.id}`);
          }
        }
        readMs += performance.now() - t0;
        if (next.done) return;
        const chunk = next.value;
        yield chunk;
        const { table } = chunk;
        const count = (done.get(table) ?? 0) + (isLinesChunk(chunk) ? chunk.count : chunk.records.length);
        done.set(table, count);
        progress({ phase: 'copy', table, done: count, total: totals[table], inserted: count });
      }
    } catch (error) {
      failure = { error };
      throw error;
    }
  };
  let reports: TableReport[] = [];
  const t0 = performance.now();
  let result: Awaited<ReturnType<Database['loadEmpty']>>;
  try {
    result = await target.loadEmpty(chunks(), async (actual) => {
      reports = [];
      const read = src.readDigests?.();
      if (selfChecked && read === undefined) throw new Error(`${src.description}: the read ended without its digests`);
      for (const table of TABLES) {
        const expected = read?.[table] ?? (digests.get(table) as TableDigest).value();
        progress({ phase: 'verify-target', table, done: actual[table].count, total: expected.count, inserted: actual[table].count });
        reports.push(compareDigests(table, expected, actual[table], actual[table].count, await sourceChanged(sourceDb, table, expected)));
      }
      return reports.every((r) => r.ok);
    });
  } catch (error) {
    // The store wraps what it caught in a StorageError; the caller wants the source's own error.
    if (failure) throw failure.error;
    throw error;
  }
  if (result === null) return null;
  const total = performance.now() - t0;
  const store = result.stepMs ?? {};
  steps['readSource'] = Math.round(readMs);
  for (const [name, ms] of Object.entries(store)) steps[name] = name === 'copy' ? Math.max(0, Math.round(ms - readMs)) : ms;
  steps['commit'] = Math.max(0, Math.round(total - Object.values(store).reduce((a, b) => a + b, 0)));
  if (result.committed) return reports;
  const note = 'rolled back: nothing was written, the target is still empty';
  return reports.map((r) => ({ ...r, inserted: 0, ok: false, notes: [...(r.notes ?? []), note] }));
}

/** Rows written to a live source behind the export cursor would be missed silently. */
async function sourceChanged(sourceDb: Database | undefined, table: TableName, digest: TableDigestValue): Promise<string[]> {
  if (sourceDb === undefined) return [];
  const now = await sourceDb.summarizeTable(table);
  return now.count !== digest.count || now.amountSum !== digest.amountSum ? ['the source changed during the migration; stop writers and run again'] : [];
}

async function verifyTarget(
  src: RecordSource,
  sourceDb: Database | undefined,
  target: Database,
  copied: Record<TableName, Copied>,
  progress: (p: MigrationProgress) => void,
): Promise<TableReport[]> {
  const reports: TableReport[] = [];
  for (const table of TABLES) {
    const { digest, inserted } = copied[table];
    // In SQL where the target can, else streamed through Node.
    const actual = (await target.digestTable(table)) ?? (await digestTable(target, table));
    progress({ phase: 'verify-target', table, done: actual.count, total: digest.count, inserted });
    const report = compareDigests(table, digest, actual, inserted, await sourceChanged(sourceDb, table, digest));
    if (!report.idsMatch) {
      const { missing, extra } = await diffIds(sourceIds(src, table), databaseIds(target, table));
      report.missingIds = missing;
      report.extraIds = extra;
    }
    reports.push(report);
  }
  return reports;
}

// A snapshot was checked completely by prepare(); a database is read once, every record validated.
async function dryRun(
  src: RecordSource,
  readAll: boolean,
  declared: Record<TableName, DeclaredTable>,
  batchSize: number,
  progress: (p: MigrationProgress) => void,
): Promise<TableReport[]> {
  const digests = new Map(TABLES.map((t) => [t, new TableDigest(t)]));
  if (readAll) {
    for await (const { table, records } of src.batches(batchSize)) {
      const digest = digests.get(table) as TableDigest;
      for (const record of records) {
        validateStoredRecord(table, record);
        if (!digest.add(record)) throw new Error(`${table}: source ids are not ascending at ${record.id}`);
      }
      progress({ phase: 'verify-source', table, done: digest.count, total: declared[table].count, inserted: 0 });
    }
  }
  return TABLES.map((table) => {
    const d = declared[table];
    const read = readAll ? (digests.get(table) as TableDigest).value() : { count: d.count, amountSum: d.amountSum, idsSha256: d.idsSha256 ?? '' };
    return compareDigests(table, read, { count: d.count, amountSum: d.amountSum, idsSha256: d.idsSha256 ?? read.idsSha256 }, 0);
  });
}
