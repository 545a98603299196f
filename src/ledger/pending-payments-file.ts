/**
 * Pending payments in an append-only JSON Lines file, fsync'ed before `add` resolves. It works
 * with every backend and, unlike a table, survives the database outage that usually causes a
 * pending record in the first place. Each line is one operation (`add`, `failure`, `resolve`);
 * the state is their fold. Opening compacts the file to the unresolved records. One process owns
 * the file at a time (a `.lock` file beside it), because compaction replaces the file.
 */
import { mkdir, open, readFile, type FileHandle } from 'node:fs/promises';
import { dirname } from 'node:path';
import { acquireFileLock } from '../shared/file-lock.js';
import { appendDurably, replaceFileDurably } from '../shared/fsync.js';
import { StorageError } from '../storage/contract/errors.js';
import { mergePending, type NewPendingPayment, type PendingPayment, type PendingPaymentStore } from './pending-payments.js';

type Line =
  | { op: 'add'; at: string; record: Omit<PendingPayment, 'createdAt' | 'resolvedAt'> & { createdAt: string } }
  | { op: 'failure'; at: string; facilitatorTxHash: string; error: string }
  | { op: 'resolve'; at: string; facilitatorTxHash: string };

function apply(records: Map<string, PendingPayment>, line: Line): void {
  if (line.op === 'add') {
    const r = line.record;
    records.set(r.facilitatorTxHash, { ...r, createdAt: new Date(r.createdAt), resolvedAt: null });
    return;
  }
  const record = records.get(line.facilitatorTxHash);
  if (record === undefined) return;
  if (line.op === 'failure') records.set(line.facilitatorTxHash, { ...record, error: line.error, attempts: record.attempts + 1 });
  else records.set(line.facilitatorTxHash, { ...record, resolvedAt: new Date(line.at) });
}

function addLine(record: PendingPayment, at: Date): Line {
  const { resolvedAt: _resolved, createdAt, ...rest } = record;
  return { op: 'add', at: at.toISOString(), record: { ...rest, createdAt: createdAt.toISOString() } };
}

/** Folds the file's lines into records; a missing file is empty, an unparsable line is skipped. */
async function readLines(path: string): Promise<{ records: Map<string, PendingPayment>; skipped: number }> {
  const records = new Map<string, PendingPayment>();
  let skipped = 0;
  let text = '';
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
  for (const raw of text.split('\n')) {
    if (raw.trim() === '') continue;
    try {
      apply(records, JSON.parse(raw) as Line);
    } catch {
      skipped += 1;
    }
  }
  return { records, skipped };
}

/**
 * The unresolved records of a pending payment file, read without taking its lock (so a CLI can
 * report them while the service runs). Read-only: it neither compacts nor writes.
 */
export async function readPendingFile(path: string): Promise<PendingPayment[]> {
  const { records } = await readLines(path);
  return [...records.values()].filter((r) => r.resolvedAt === null).sort((a, b) => a.createdAt.getTime() - b.createdAt.getTime());
}

/** The file-backed {@link PendingPaymentStore}. Create it with {@link FilePendingPaymentStore.open}. */
export class FilePendingPaymentStore implements PendingPaymentStore {
  readonly kind = 'file';
  /** Lines the last open could not parse (a write torn by a crash). */
  skippedLines = 0;
  private handle: FileHandle | undefined;
  private tail: Promise<unknown> = Promise.resolve();

  private constructor(
    readonly path: string,
    private readonly records: Map<string, PendingPayment>,
    private readonly unlock: () => Promise<void>,
  ) {}

  /** Opens (creating if needed) the file at `path`, loads it and compacts it. */
  static async open(path: string): Promise<FilePendingPaymentStore> {
    await mkdir(dirname(path), { recursive: true });
    const unlock = await acquireFileLock(path, (c) =>
      new StorageError('CONFLICT', `pending payment file ${path} is in use by another store (lock file ${c.lockPath})`, { details: { path, ...c.details } }),
    );
    try {
      const { records, skipped } = await readLines(path);
      const store = new FilePendingPaymentStore(path, records, unlock);
      store.skippedLines = skipped;
      await store.compact();
      return store;
    } catch (error) {
      await unlock();
      throw error;
    }
  }

  /** Rewrites the file with only the unresolved records (temp file, fsync, rename, fsync dir). */
  private async compact(): Promise<void> {
    const now = new Date();
    const lines = [...this.records.values()].filter((r) => r.resolvedAt === null).map((r) => JSON.stringify(addLine(r, now)) + '\n');
    await replaceFileDurably(this.path, lines.join(''), `${this.path}.compact`);
    for (const [hash, record] of this.records) if (record.resolvedAt !== null) this.records.delete(hash);
    this.handle = await open(this.path, 'a');
  }

  /** Appends lines and fsyncs; appends run one at a time so lines never interleave. */
  private append(line: Line): Promise<void> {
    const run = this.tail.then(async () => {
      if (this.handle === undefined) throw new Error('pending payment file is closed');
      await appendDurably(this.handle, JSON.stringify(line) + '\n');
    });
    this.tail = run.catch(() => undefined);
    return run;
  }

  async add(input: NewPendingPayment): Promise<PendingPayment> {
    const now = new Date();
    const record = mergePending(this.records.get(input.facilitatorTxHash), input, now);
    await this.append(addLine(record, now));
    this.records.set(record.facilitatorTxHash, record);
    return structuredClone(record);
  }

  async listUnresolved(): Promise<PendingPayment[]> {
    return [...this.records.values()]
      .filter((r) => r.resolvedAt === null)
      .sort((a, b) => a.createdAt.getTime() - b.createdAt.getTime())
      .map((r) => structuredClone(r));
  }

  async recordFailure(facilitatorTxHash: string, error: string): Promise<void> {
    if (!this.records.has(facilitatorTxHash)) return;
    const line: Line = { op: 'failure', at: new Date().toISOString(), facilitatorTxHash, error };
    await this.append(line);
    apply(this.records, line);
  }

  async resolve(facilitatorTxHash: string): Promise<void> {
    if (this.records.get(facilitatorTxHash)?.resolvedAt !== null) return;
    const line: Line = { op: 'resolve', at: new Date().toISOString(), facilitatorTxHash };
    await this.append(line);
    apply(this.records, line);
  }

  async close(): Promise<void> {
    await this.tail;
    const handle = this.handle;
    if (handle === undefined) return;
    this.handle = undefined;
    await handle.close();
    await this.unlock();
  }
}
