/**
 * A running digest of one table's records as they stream past: count, money sum, and a sha256 of
 * the ids in order. Every backend exports ids ascending (the UUID byte order, which for canonical
 * lowercase UUIDs is plain string order), so two stores hold the same set of ids exactly when
 * their digests of the sorted streams agree, and neither side has to keep the ids in memory.
 */
import { createHash, type Hash } from 'node:crypto';
import type { Database } from '../storage/contract/database.js';
import type { TableDigestValue, TableName, TableRecords } from '../storage/contract/transfer.js';
import { amountOf } from '../storage/core/record-lines.js';
import type { TableDigestJson } from './snapshot-format.js';

/** Count, amount sum and id hash of one table (the contract's type; SQL stores compute it themselves). */
export type { TableDigestValue } from '../storage/contract/transfer.js';

/** Accumulates a {@link TableDigestValue} over records in id order. */
export class TableDigest {
  private readonly hash: Hash = createHash('sha256');
  private n = 0;
  private amountSum = 0n;
  private lastId: string | undefined;
  // Ids are hashed in blocks: one update per id costs more than the hashing itself.
  private pending = '';

  constructor(readonly table: TableName) {}

  /** Records added so far. */
  get count(): number {
    return this.n;
  }

  /** Adds one record; see {@link TableDigest.addId}. */
  add(record: TableRecords[TableName]): boolean {
    return this.addId(record.id, amountOf(this.table, record));
  }

  /**
   * Adds one record by id and amount. Returns false (and ignores the record) when the id is not
   * greater than the previous one, i.e. the stream is not strictly ascending; callers decide how
   * to report that.
   */
  addId(id: string, amount: bigint): boolean {
    if (this.lastId !== undefined && id <= this.lastId) return false;
    this.lastId = id;
    this.n += 1;
    if (amount !== 0n) this.amountSum += amount;
    this.pending += `${id}\n`;
    if (this.pending.length > 65_536) {
      this.hash.update(this.pending);
      this.pending = '';
    }
    return true;
  }

  /** The digest so far (call once: the hash is finalized). */
  value(): TableDigestValue {
    this.hash.update(this.pending);
    this.pending = '';
    return { count: this.n, amountSum: this.amountSum, idsSha256: this.hash.digest('hex') };
  }
}

/** The JSON form written into a snapshot trailer. */
export function digestToJson(d: TableDigestValue): TableDigestJson {
  return { count: d.count, amountSum: d.amountSum.toString(), idsSha256: d.idsSha256 };
}

/** The value form of a snapshot trailer's entry. */
export function digestFromJson(d: TableDigestJson): TableDigestValue {
  return { count: d.count, amountSum: BigInt(d.amountSum), idsSha256: d.idsSha256 };
}

/** Streams a table of `db` through a digest; `pageSize` up to 10,000. */
export async function digestTable(db: Database, table: TableName, pageSize = 10_000): Promise<TableDigestValue> {
  const digest = new TableDigest(table);
  for await (const page of db.exportRecords(table, pageSize)) {
    for (const record of page) {
      if (!digest.add(record)) throw new Error(`${table}: export is not ordered by id at ${record.id}`);
    }
  }
  return digest.value();
}
