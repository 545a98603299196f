/**
 * Comparing a migrated table with its source: the per-table report, and, when the id hashes
 * disagree, a merge of the two sorted id streams that names some of the differing ids (memory
 * stays at one page per side however large the tables are).
 */
import type { Database } from '../storage/contract/database.js';
import type { TableName } from '../storage/contract/transfer.js';
import type { RecordSource } from './record-source.js';
import type { TableDigestValue } from './table-digest.js';

/** The verification result of one table. */
export interface TableReport {
  table: TableName;
  /** Records read from the source. */
  sourceCount: number;
  /** Records in the target after the run (dry run: what the source declares about itself). */
  targetCount: number;
  /** Records this run added to the target (0 in a dry run, and on a repeated run). */
  inserted: number;
  /** The target holds exactly the source's ids (compared by a hash of the sorted ids). */
  idsMatch: boolean;
  /** Sum of payment amounts / batch totals in the source (0 for other tables). */
  amountSumSource: bigint;
  /** The same sum in the target (merge imports: over the target's records with the source's ids). */
  amountSumTarget: bigint;
  /** Counts, ids and sums all agree and nothing else was noticed. */
  ok: boolean;
  /** Up to 10 source ids absent from the target (only computed when the ids differ). */
  missingIds?: string[];
  /** Up to 10 target ids absent from the source (only computed when the ids differ). */
  extraIds?: string[];
  /** Merge imports: up to 10 source ids whose record in the target holds other values. */
  differingIds?: string[];
  /** Other findings, e.g. the source changed while it was being copied. */
  notes?: string[];
}

/** Builds the report of one table from the source's and the target's digests. */
export function compareDigests(table: TableName, source: TableDigestValue, target: TableDigestValue, inserted: number, notes: string[] = []): TableReport {
  const idsMatch = source.idsSha256 === target.idsSha256;
  const ok = idsMatch && source.count === target.count && source.amountSum === target.amountSum && notes.length === 0;
  return {
    table,
    sourceCount: source.count,
    targetCount: target.count,
    inserted,
    idsMatch,
    amountSumSource: source.amountSum,
    amountSumTarget: target.amountSum,
    ok,
    ...(notes.length > 0 ? { notes } : {}),
  };
}

/** The ids of one table of a source, ascending. */
export async function* sourceIds(source: RecordSource, table: TableName): AsyncGenerator<string> {
  for await (const batch of source.batches(10_000)) {
    if (batch.table === table) for (const record of batch.records) yield record.id;
  }
}

/** The ids of one table of a database, ascending. */
export async function* databaseIds(db: Database, table: TableName): AsyncGenerator<string> {
  for await (const page of db.exportRecords(table, 10_000)) for (const record of page) yield record.id;
}

/** Merges two ascending id streams; returns up to `limit` ids found only in each. */
export async function diffIds(source: AsyncIterable<string>, target: AsyncIterable<string>, limit = 10): Promise<{ missing: string[]; extra: string[] }> {
  const a = source[Symbol.asyncIterator]();
  const b = target[Symbol.asyncIterator]();
  const missing: string[] = [];
  const extra: string[] = [];
  let x = await a.next();
  let y = await b.next();
  while ((!x.done || !y.done) && (missing.length < limit || extra.length < limit)) {
    if (y.done || (!x.done && x.value < y.value)) {
      if (missing.length < limit) missing.push(x.value as string);
      x = await a.next();
    } else if (x.done || y.value < x.value) {
      if (extra.length < limit) extra.push(y.value);
      y = await b.next();
    } else {
      x = await a.next();
      y = await b.next();
    }
  }
  await a.return?.();
  await b.return?.();
  return { missing, extra };
}
