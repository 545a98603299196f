/**
 * Writes snapshots as records arrive, so an export never holds more than one page in memory.
 * The file is written under `<path>.partial` and renamed into place only after the trailer is
 * on disk, so a crashed or interrupted export never leaves a file that looks complete.
 */
import { createHash } from 'node:crypto';
import { open, rename, rm, type FileHandle } from 'node:fs/promises';
import type { Database } from '../storage/contract/database.js';
import { TABLES, type TableName, type TableRecords } from '../storage/contract/transfer.js';
import { recordLine } from '../storage/core/record-lines.js';
import { headerLine, type SnapshotTrailer } from './snapshot-format.js';
import { TableDigest, digestToJson } from './table-digest.js';

/** Streams records into a new snapshot file. */
export class SnapshotWriter {
  private readonly sha = createHash('sha256');
  private readonly digests = new Map<TableName, TableDigest>(TABLES.map((t) => [t, new TableDigest(t)]));
  private tableIndex = 0;
  private records = 0;
  private closed = false;

  private constructor(
    private readonly path: string,
    private readonly file: FileHandle,
  ) {}

  /** Creates `<path>.partial` and writes the header; `source` names the backend kind. */
  static async create(path: string, source: string): Promise<SnapshotWriter> {
    const file = await open(`${path}.partial`, 'w');
    const writer = new SnapshotWriter(path, file);
    await file.write(`${headerLine(source)}\n`);
    return writer;
  }

  /**
   * Appends records of `table`. Tables must come in TABLES order and ids ascending within a
   * table, because readers verify the id hash over that order.
   */
  async write<T extends TableName>(table: T, records: readonly TableRecords[T][]): Promise<void> {
    if (this.closed) throw new Error('snapshot writer is closed');
    const index = TABLES.indexOf(table);
    if (index < this.tableIndex) throw new Error(`table ${table} written after ${TABLES[this.tableIndex]}; use TABLES order`);
    this.tableIndex = index;
    if (records.length === 0) return;
    const digest = this.digests.get(table) as TableDigest;
    let chunk = '';
    for (const record of records) {
      if (!digest.add(record)) throw new Error(`${table}: ids must ascend, ${record.id} came out of order`);
      chunk += `${recordLine(table, record)}\n`;
    }
    this.sha.update(chunk);
    this.records += records.length;
    await this.file.write(chunk);
  }

  /** Writes the trailer, flushes to disk and renames the file into place. */
  async finish(): Promise<SnapshotTrailer> {
    if (this.closed) throw new Error('snapshot writer is closed');
    this.closed = true;
    const tables = Object.fromEntries(TABLES.map((t) => [t, digestToJson((this.digests.get(t) as TableDigest).value())]));
    const trailer: SnapshotTrailer = { trailer: true, records: this.records, sha256: this.sha.digest('hex'), tables: tables as SnapshotTrailer['tables'] };
    try {
      await this.file.write(`${JSON.stringify(trailer)}\n`);
      await this.file.sync();
    } finally {
      await this.file.close();
    }
    await rename(`${this.path}.partial`, this.path);
    return trailer;
  }

  /** Closes and deletes the partial file (after a failed export). */
  async abort(): Promise<void> {
    if (!this.closed) {
      this.closed = true;
      await this.file.close().catch(() => undefined);
    }
    await rm(`${this.path}.partial`, { force: true });
  }
}

/** Options of {@link exportSnapshot}. */
export interface ExportSnapshotOptions {
  /** Records per exportRecords page (1..10,000; default 5,000). */
  pageSize?: number;
  /** Called after every page with the table and the number of its records written so far. */
  onProgress?: (progress: { table: TableName; done: number; total: number }) => void;
}

/** Exports every table of `db` (connected) to a snapshot at `path`; returns the trailer. */
export async function exportSnapshot(db: Database, path: string, options: ExportSnapshotOptions = {}): Promise<SnapshotTrailer> {
  const writer = await SnapshotWriter.create(path, db.capabilities.kind);
  try {
    for (const table of TABLES) {
      const total = (await db.summarizeTable(table)).count;
      let done = 0;
      for await (const page of db.exportRecords(table, options.pageSize ?? 5_000)) {
        await writer.write(table, page);
        done += page.length;
        options.onProgress?.({ table, done, total });
      }
    }
    return await writer.finish();
  } catch (error) {
    await writer.abort();
    throw error;
  }
}
