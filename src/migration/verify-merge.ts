/**
 * Verifying an import into a store that already held other records (a retention snapshot loaded
 * back into the live store, which kept the newer partitions): the target is not expected to equal
 * the source. What is checked per table instead: every source record is in the target and equal
 * to it field for field, and the target grew by exactly what this run inserted. An asset or a
 * lease the target has updated since the source was taken (a later updatedAt) is the same record,
 * newer: a retention snapshot carries the leases its payments refer to as they were then; it is
 * counted in a note, not a difference. Both sides are read once, in id order, merged page by page,
 * so memory stays at one page per side.
 */
import type { Database } from '../storage/contract/database.js';
import { TABLES, type TableName, type TableRecords, type TableSummary } from '../storage/contract/transfer.js';
import type { RecordSource } from './record-source.js';
import { amountOf } from '../storage/core/record-lines.js';
import { TableDigest } from './table-digest.js';
import type { TableReport } from './verify.js';

const PAGE = 10_000;
const LIMIT = 10;

/**
 * True when two stored records hold the same values: dates by instant, bigints by value, JSON
 * objects whatever their key order (PostgreSQL's jsonb reorders keys), absent = undefined.
 */
export function sameRecord(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (a instanceof Date || b instanceof Date) return a instanceof Date && b instanceof Date && a.getTime() === b.getTime();
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (Array.isArray(a) || Array.isArray(b)) {
    return Array.isArray(a) && Array.isArray(b) && a.length === b.length && a.every((v, i) => sameRecord(v, b[i]));
  }
  const keys = (o: object) => Object.keys(o).filter((k) => (o as Record<string, unknown>)[k] !== undefined);
  const ka = keys(a);
  const kb = keys(b);
  const rb = b as Record<string, unknown>;
  return ka.length === kb.length && ka.every((k) => k in rb && sameRecord((a as Record<string, unknown>)[k], rb[k]));
}

/** The target's record is a later version of the source's: updated after it (assets, leases). */
function newerInTarget(source: object, target: object): boolean {
  const a = (source as { updatedAt?: unknown }).updatedAt;
  const b = (target as { updatedAt?: unknown }).updatedAt;
  return a instanceof Date && b instanceof Date && b.getTime() > a.getTime();
}

/** Reads a table of `db` record by record, ascending ids, one page at a time. */
function cursor<T extends TableName>(db: Database, table: T): { next: () => Promise<TableRecords[T] | undefined>; close: () => Promise<void> } {
  const pages = db.exportRecords(table, PAGE)[Symbol.asyncIterator]();
  let page: TableRecords[T][] = [];
  let at = 0;
  return {
    async next() {
      while (at >= page.length) {
        const r = await pages.next();
        if (r.done) return undefined;
        [page, at] = [r.value, 0];
      }
      return page[at++];
    },
    close: async () => void (await pages.return?.()),
  };
}

interface Tally {
  digest: TableDigest;
  present: number;
  amountPresent: bigint;
  missing: string[];
  missingCount: number;
  differing: string[];
  differingCount: number;
  newer: number;
}

/**
 * The reports of an import into a non-empty target (see the module comment). `before` is each
 * table's summary taken before the run wrote anything, `inserted` what the run added.
 */
export async function verifyMerged(
  src: RecordSource,
  target: Database,
  before: Record<TableName, TableSummary>,
  inserted: Record<TableName, number>,
  onTable: (table: TableName, checked: number, total: number) => void = () => undefined,
): Promise<TableReport[]> {
  const tallies = new Map<TableName, Tally>(
    TABLES.map((t) => [t, { digest: new TableDigest(t), present: 0, amountPresent: 0n, missing: [], missingCount: 0, differing: [], differingCount: 0, newer: 0 }]),
  );
  let current: { table: TableName; read: ReturnType<typeof cursor>; head: TableRecords[TableName] | undefined } | undefined;
  try {
    for await (const { table, records } of src.batches(PAGE)) {
      if (current?.table !== table) {
        await current?.read.close();
        const read = cursor(target, table);
        current = { table, read, head: await read.next() };
      }
      const tally = tallies.get(table) as Tally;
      for (const record of records) {
        if (!tally.digest.add(record)) throw new Error(`${table}: source ids are not ascending at ${record.id}`);
        while (current.head !== undefined && current.head.id < record.id) current.head = await current.read.next();
        if (current.head?.id !== record.id) {
          tally.missingCount += 1;
          if (tally.missing.length < LIMIT) tally.missing.push(record.id);
          continue;
        }
        tally.present += 1;
        tally.amountPresent += amountOf(table, current.head);
        if (newerInTarget(record, current.head)) tally.newer += 1;
        else if (!sameRecord(record, current.head)) {
          tally.differingCount += 1;
          if (tally.differing.length < LIMIT) tally.differing.push(record.id);
        }
      }
      onTable(table, tally.present, tally.digest.count);
    }
  } finally {
    await current?.read.close();
  }
  const reports: TableReport[] = [];
  for (const table of TABLES) {
    const tally = tallies.get(table) as Tally;
    const source = tally.digest.value();
    const after = await target.summarizeTable(table);
    const expected = before[table].count + inserted[table];
    const notes: string[] = [];
    if (tally.differingCount > 0) notes.push(`${tally.differingCount} record(s) of the source differ from the target's record with the same id`);
    if (after.count !== expected) {
      notes.push(`the target holds ${after.count} records, expected ${before[table].count} before + ${inserted[table]} inserted = ${expected}; it changed during the import, run again`);
    }
    const ok = tally.missingCount === 0 && notes.length === 0 && tally.amountPresent === source.amountSum;
    // Not a difference (see the module comment), but worth saying.
    if (tally.newer > 0) notes.push(`${tally.newer} record(s) were updated in the target after the source was taken; the target's newer version is kept`);
    reports.push({
      table,
      sourceCount: source.count,
      targetCount: after.count,
      inserted: inserted[table],
      idsMatch: tally.missingCount === 0,
      amountSumSource: source.amountSum,
      amountSumTarget: tally.amountPresent,
      ok,
      ...(tally.missingCount > 0 ? { missingIds: tally.missing } : {}),
      ...(tally.differing.length > 0 ? { differingIds: tally.differing } : {}),
      ...(notes.length > 0 ? { notes } : {}),
    });
  }
  return reports;
}
