/**
 * Pending payments in an append-only file, fsync'ed before `add` resolves. It works with every
 * backend and, unlike a table, survives the database outage that usually causes a pending record
 * in the first place. Each line is one operation (`add`, `failure`, `resolve`); the state is their
 * fold. One process owns the file at a time (the lock of shared/file-lock.ts), because opening
 * compacts it: the file is rewritten with only the unresolved records.
 *
 * Nothing is ever dropped:
 *
 * - every line is `<crc32 hex> <json>`, so a line cut short or damaged is recognised as such
 *   (lines of the earlier unframed format, plain JSON, are still read);
 * - an append starts on a fresh line (`appendLineDurably`): a fragment left by a write that was
 *   cut short stays a line by itself instead of swallowing the next record;
 * - a line that cannot be read is moved, durably and before compaction rewrites the file, to
 *   `<file>.damaged` (JSON lines `{ setAsideAt, file, line, reason, text }`), which is only ever
 *   appended to; reconcile and the metrics report its lines until an operator moves it away.
 */
import { mkdir, open, readFile, type FileHandle } from 'node:fs/promises';
import { dirname } from 'node:path';
import { crc32 } from 'node:zlib';
import { acquireFileLock } from '../shared/file-lock.js';
import { appendLineDurably, fsyncDirectory, replaceFileDurably } from '../shared/fsync.js';
import { StorageError } from '../storage/contract/errors.js';
import { mergePending, type DamagedLine, type NewPendingPayment, type PendingPayment, type PendingPaymentStore } from './pending-payments.js';

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

const checksum = (json: string) => crc32(json).toString(16).padStart(8, '0');

/** One line of the file: checksum, space, JSON, newline. */
function encode(line: Line): string {
  const json = JSON.stringify(line);
  return `${checksum(json)} ${json}\n`;
}

const isText = (value: unknown): value is string => typeof value === 'string';
const isObject = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);

/** Whether a parsed value is an operation this store wrote (a damaged but parsable line is not). */
function isLine(value: unknown): value is Line {
  if (!isObject(value) || !isText(value['at'])) return false;
  if (value['op'] === 'add') {
    const r = value['record'];
    return (
      isObject(r) &&
      isText(r['id']) &&
      isText(r['facilitatorTxHash']) &&
      isText(r['leaseId']) &&
      isObject(r['payload']) &&
      isText(r['error']) &&
      typeof r['attempts'] === 'number' &&
      isText(r['createdAt']) &&
      !Number.isNaN(Date.parse(r['createdAt']))
    );
  }
  if (value['op'] === 'failure') return isText(value['facilitatorTxHash']) && isText(value['error']);
  return value['op'] === 'resolve' && isText(value['facilitatorTxHash']) && !Number.isNaN(Date.parse(value['at']));
}

const FRAMED = /^([0-9a-f]{8}) (.*)$/s;

/** A line's operation, or why it cannot be used. */
function decode(raw: string): { line: Line } | { problem: string } {
  const framed = FRAMED.exec(raw);
  let json: string;
  if (framed?.[1] !== undefined && framed[2] !== undefined) {
    if (checksum(framed[2]) !== framed[1]) return { problem: 'checksum mismatch' };
    json = framed[2];
  } else if (raw.startsWith('{')) {
    json = raw; // the earlier unframed format
  } else {
    return { problem: 'not a framed record' };
  }
  let value: unknown;
  try {
    value = JSON.parse(json);
  } catch {
    return { problem: 'not JSON' };
  }
  return isLine(value) ? { line: value } : { problem: 'not a pending payment operation' };
}

async function readText(path: string): Promise<string> {
  try {
    return await readFile(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return '';
    throw error;
  }
}

/** The non-blank lines of `text` with their line numbers, and whether the last one lacks its newline. */
function linesOf(text: string): Array<{ raw: string; number: number; last: boolean }> {
  const parts = text.split('\n');
  const unterminated = !text.endsWith('\n');
  return parts.flatMap((raw, i) => (raw.trim() === '' ? [] : [{ raw, number: i + 1, last: unterminated && i === parts.length - 1 }]));
}

/** Folds the file's lines into records; a missing file is empty, a line that cannot be used is returned as damaged. */
async function readLines(path: string): Promise<{ records: Map<string, PendingPayment>; damaged: DamagedLine[] }> {
  const records = new Map<string, PendingPayment>();
  const damaged: DamagedLine[] = [];
  for (const { raw, number, last } of linesOf(await readText(path))) {
    const decoded = decode(raw);
    if ('line' in decoded) apply(records, decoded.line);
    else {
      // A last line without its newline is a write cut short (by a crash or a full disk).
      const reason = last ? `torn last line (${decoded.problem})` : decoded.problem;
      damaged.push({ file: path, line: number, reason, text: raw, setAsideAt: null });
    }
  }
  return { records, damaged };
}

/** The side file where the damaged lines of the pending file at `path` are kept. */
export function damagedFileOf(path: string): string {
  return `${path}.damaged`;
}

/** The lines kept in the side file; an entry that cannot be read is reported as it is, never skipped. */
async function readSetAside(path: string): Promise<DamagedLine[]> {
  const side = damagedFileOf(path);
  return linesOf(await readText(side)).map(({ raw, number }) => {
    try {
      const entry = JSON.parse(raw) as Partial<DamagedLine>;
      if (isText(entry.file) && typeof entry.line === 'number' && isText(entry.reason) && isText(entry.text) && isText(entry.setAsideAt)) {
        return { file: entry.file, line: entry.line, reason: entry.reason, text: entry.text, setAsideAt: entry.setAsideAt };
      }
    } catch {
      // reported below as it is
    }
    return { file: side, line: number, reason: 'unreadable entry of the damaged-lines file', text: raw, setAsideAt: null };
  });
}

/** Appends damaged lines to the side file and makes them durable. */
async function setAside(path: string, damaged: DamagedLine[]): Promise<DamagedLine[]> {
  const at = new Date().toISOString();
  const kept = damaged.map((d) => ({ ...d, setAsideAt: at }));
  const handle = await open(damagedFileOf(path), 'a+');
  try {
    await appendLineDurably(handle, kept.map((d) => `${JSON.stringify(d)}\n`).join(''));
  } finally {
    await handle.close();
  }
  await fsyncDirectory(dirname(path)); // the side file may be new
  return kept;
}

/** What a pending payment file holds, read without its lock. */
export interface PendingFileReport {
  /** Unresolved records, oldest first. */
  pending: PendingPayment[];
  /** Lines kept in the side file and lines of the pending file that cannot be read. */
  damaged: DamagedLine[];
}

function unresolved(records: Map<string, PendingPayment>): PendingPayment[] {
  return [...records.values()].filter((r) => r.resolvedAt === null).sort((a, b) => a.createdAt.getTime() - b.createdAt.getTime());
}

/**
 * The unresolved records and the damaged lines of a pending payment file, read without taking its
 * lock (so a CLI can report them while the service runs). Read-only: it neither compacts nor
 * writes. A reader may see an append in progress as a torn last line.
 */
export async function readPendingFile(path: string): Promise<PendingFileReport> {
  const { records, damaged } = await readLines(path);
  return { pending: unresolved(records), damaged: [...(await readSetAside(path)), ...damaged] };
}

/** The file-backed {@link PendingPaymentStore}. Create it with {@link FilePendingPaymentStore.open}. */
export class FilePendingPaymentStore implements PendingPaymentStore {
  readonly kind = 'file';
  /** Lines the last open could not read and moved to the side file. */
  setAsideAtOpen: DamagedLine[] = [];
  private handle: FileHandle | undefined;
  private tail: Promise<unknown> = Promise.resolve();

  private constructor(
    readonly path: string,
    private readonly records: Map<string, PendingPayment>,
    private readonly unlock: () => Promise<void>,
  ) {}

  /**
   * Opens (creating if needed) the file at `path` and loads it; lines it cannot read are moved to
   * the side file first, then the file is compacted.
   */
  static async open(path: string): Promise<FilePendingPaymentStore> {
    await mkdir(dirname(path), { recursive: true });
    const unlock = await acquireFileLock(path, (c) =>
      new StorageError('CONFLICT', `pending payment file ${path} is in use by another store (lock ${c.lockPath})`, { details: { path, ...c.details } }),
    );
    try {
      const { records, damaged } = await readLines(path);
      const store = new FilePendingPaymentStore(path, records, unlock);
      // Durable in the side file before compaction rewrites the file without them.
      if (damaged.length > 0) store.setAsideAtOpen = await setAside(path, damaged);
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
    const lines = unresolved(this.records).map((r) => encode(addLine(r, now)));
    await replaceFileDurably(this.path, lines.join(''), `${this.path}.compact`);
    for (const [hash, record] of this.records) if (record.resolvedAt !== null) this.records.delete(hash);
    this.handle = await open(this.path, 'a+');
  }

  /** Appends a line and fsyncs; appends run one at a time so lines never interleave. */
  private append(line: Line): Promise<void> {
    const run = this.tail.then(async () => {
      if (this.handle === undefined) throw new Error('pending payment file is closed');
      await appendLineDurably(this.handle, encode(line));
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
    return unresolved(this.records).map((r) => structuredClone(r));
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

  /** The side file's lines, and any line of the pending file torn since it was opened. */
  async listDamaged(): Promise<DamagedLine[]> {
    // In line with the appends, so an append of this store is never read half-way.
    const run = this.tail.then(() => readPendingFile(this.path));
    this.tail = run.catch(() => undefined);
    return (await run).damaged;
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
