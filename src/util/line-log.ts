/**
 * A durable, append-only log of records owned by one process: the storage under the files that
 * must outlive a crash or a database outage (pending payments, the settlement journal). Each
 * append is fsync'ed before it resolves and appends run one at a time. Nothing is ever dropped:
 *
 * - every line is `<crc32 hex> <json>`, so a line cut short or damaged is recognised as such
 *   (lines of an earlier unframed format, plain JSON, are still read);
 * - an append starts on a fresh line (`appendLineDurably`): a fragment left by a write that was
 *   cut short stays a line by itself instead of swallowing the next record. The file's last byte
 *   is read for that only when it may be such a fragment (before the first append to a file, and
 *   after one that failed); after an append that succeeded it is the newline just written, and
 *   two fewer file operations per append halved the journal's time on a busy event loop;
 * - the file is opened with O_DSYNC (`openForDurableAppends`), so a write is on disk when it
 *   returns: one file operation per append, not a write and an fdatasync;
 * - appends made while an earlier one is being written are written together, in order (group
 *   commit): each still resolves only once its record is on disk, but concurrent writers share
 *   one synchronous write instead of queueing for one each;
 * - a line that cannot be read is moved, durably and before compaction rewrites the log, to
 *   `<file>.damaged` (JSON lines `{ setAsideAt, file, line, reason, text }`), which is only ever
 *   appended to; its owner reports those lines until an operator moves the side file away.
 *
 * Opening compacts the log: its owner says which records are still needed, and only those are
 * written back (temp file, fsync, rename, fsync of the directory). A long-running owner also
 * compacts it while appending (`compact`), so the file does not grow with every record: from what
 * it holds in memory when the file holds exactly what this log wrote, else by reading the file
 * back.
 */
import { mkdir, type FileHandle } from 'node:fs/promises';
import { dirname } from 'node:path';
import { performance } from 'node:perf_hooks';
import { acquireFileLock, type LockConflict } from './file-lock.js';
import { appendLineDurably, openForDurableAppends, replaceFileDurably, startFileReplacement } from './fsync.js';
import { encodeLine, readBytes, readLineLog, readLines, setAside, streamRecords, type DamagedLine, type EncodedLine, type RecordKind, type StreamProgress } from './log-lines.js';

export { damagedFileOf, encodeLine, readLineLog, type DamagedLine, type EncodedLine, type LogContents, type RecordKind } from './log-lines.js';

/**
 * What a compaction of a log in use keeps: given the records written so far, one at a time (a
 * fold that holds only what is still needed stays small), it returns the records to write back.
 * It must read every record.
 */
export type CompactionKeep<R> = (records: AsyncIterable<R>) => Promise<R[]>;

/** What one {@link LineLog.compact} did. */
export interface Compaction {
  /** The log's size when the swap happened, and after it. */
  bytesBefore: number;
  bytesAfter: number;
  /** Records read from the compacted part, and those kept. */
  recordsRead: number;
  recordsKept: number;
  /** Lines of the compacted part that could not be read, moved to the side file first. */
  setAside: number;
  /**
   * Where the kept records came from: `state`, the owner's records in memory (the file held
   * exactly what this log wrote, so `recordsRead` counts those records without reading them);
   * `file`, the file read back and filtered by `keep`.
   */
  from: 'state' | 'file';
}

/**
 * The records still needed as the owner holds them in memory, for {@link LineLog.compact}:
 * called in line with the appends, so it must reflect every record written so far and no other,
 * which an owner that takes in each record through `append`'s `taken` does. What it returns is
 * read later, a slice per event-loop turn, so it must not change after the call (a snapshot,
 * which may build each record as it is read). A record may come already encoded
 * ({@link encodeLine}): a record that outlives many compactions is then encoded once, not at each.
 */
export type CompactionState<R> = () => Iterable<R | EncodedLine>;

/** Records per chunk of a compaction's encoded text (one write each). */
const ENCODE_SLICE = 2_000;
/**
 * The longest a compaction encodes before giving the event loop back: a fixed count of records
 * per turn took 50-95 ms on a busy service (records not encoded before cost far more than cached
 * lines), and every request in flight waited that long (docs/performance.md).
 */
const ENCODE_TURN_MS = 4;

/** A record's line; records are JSON objects or arrays (a log's RecordKind), so a string is a line encoded already. */
function lineOf(record: unknown): string {
  return typeof record === 'string' ? record : encodeLine(record);
}

/**
 * The lines of `records`, encoded in turns of at most {@link ENCODE_TURN_MS} of the owner's
 * thread, in chunks of up to {@link ENCODE_SLICE} lines (a single string of a large log, built and
 * then turned into bytes in one piece, stalled the owner's thread for tens of milliseconds); with
 * how many records and bytes there were.
 */
async function encodeInSlices<R>(records: Iterable<R | EncodedLine>): Promise<{ chunks: string[]; count: number; bytes: number }> {
  const chunks: string[] = [];
  let lines: string[] = [];
  let count = 0;
  let bytes = 0;
  const cut = () => {
    const chunk = lines.join('');
    chunks.push(chunk);
    bytes += Buffer.byteLength(chunk);
    lines = [];
  };
  let turnStarted = performance.now();
  for (const record of records) {
    lines.push(lineOf(record));
    count += 1;
    if (lines.length === ENCODE_SLICE) cut();
    // The clock is read every 32 records: a cached line costs well under a microsecond.
    if (count % 32 === 0 && performance.now() - turnStarted >= ENCODE_TURN_MS) {
      await new Promise((resolve) => setImmediate(resolve));
      turnStarted = performance.now();
    }
  }
  if (lines.length > 0) cut();
  return { chunks, count, bytes };
}

/** Options of {@link LineLog.open}. */
export interface LineLogOptions<R> {
  kind: RecordKind<R>;
  /** The records still needed, from those read: the log is rewritten with only these. */
  keep: (records: R[]) => R[];
  /** The error when another live process holds the log's lock. */
  refuse?: (conflict: LockConflict) => Error;
}

/** An open log. Create it with {@link LineLog.open}. */
export class LineLog<R> {
  /** Lines the open could not read and moved to the side file. */
  setAsideAtOpen: DamagedLine[] = [];
  private handle: FileHandle | undefined;
  private tail: Promise<unknown> = Promise.resolve();
  /** Records waiting for the next write, with how to tell their writers it is done. */
  private queued: Array<{ text: string; bytes: number; taken: (() => void) | undefined; done: (error?: unknown) => void }> = [];
  private flushing: Promise<void> | undefined;
  private appended = 0;
  private compacting: Promise<Compaction> | undefined;
  /** Whether the file may end with a fragment of a line (so the next append checks its last byte). */
  private mayEndTorn = true;
  /**
   * The file's size if it holds exactly what this log wrote since it last rewrote it, every
   * append whole; undefined once an append failed (it may have left a fragment), until the next
   * rewrite. A compaction that finds another size reads the file back.
   */
  private ownBytes: number | undefined;
  /** The records this log wrote to the file since it last rewrote it, with those it wrote back then. */
  private records = 0;
  /** Appends that failed since the log was opened. */
  private failedAppends = 0;
  /** Whether an owner's `taken` threw: its state may lack a record of the file, so compactions read the file from then on. */
  private stateDiverged = false;

  private constructor(
    readonly path: string,
    private readonly kind: RecordKind<R>,
    private readonly unlock: () => Promise<void>,
  ) {}

  /**
   * Takes the log's lock, reads it, moves the lines it cannot read to the side file (durably,
   * first), and compacts it to what `keep` returns. Resolves to the log and the records read.
   */
  static async open<R>(path: string, options: LineLogOptions<R>): Promise<{ log: LineLog<R>; records: R[] }> {
    await mkdir(dirname(path), { recursive: true });
    const unlock = await acquireFileLock(path, options.refuse);
    try {
      const { records, damaged } = await readLines(path, options.kind);
      const log = new LineLog(path, options.kind, unlock);
      // Durable in the side file before compaction rewrites the log without them.
      if (damaged.length > 0) log.setAsideAtOpen = await setAside(path, damaged);
      const kept = options.keep(records);
      const text = kept.map(encodeLine).join('');
      await replaceFileDurably(path, text, `${path}.compact`);
      log.handle = await openForDurableAppends(path);
      log.ownBytes = Buffer.byteLength(text);
      log.records = kept.length;
      return { log, records };
    } catch (error) {
      await unlock();
      throw error;
    }
  }

  /** Bytes appended since the log was opened or last compacted. */
  get appendedBytes(): number {
    return this.appended;
  }

  /**
   * Rewrites the log to the records `keep` returns, while it stays in use: a long-running owner
   * appends a few lines per operation, and only opening compacted the file, so it grew without
   * bound. The part written so far is read and filtered, and what is kept written to a temp file
   * and fsync'ed, without holding up appends (they only add bytes after it); then, in line with
   * the appends, whatever was appended meanwhile is carried over as it is and the temp file
   * replaces the log durably (fsync, rename, directory fsync), so a crash leaves the old log or
   * the new one, never less. Unreadable lines go to the side file first, as at open. One
   * compaction runs at a time: a call made while one runs starts after it, so it covers
   * everything appended before the call.
   *
   * With `state`, the kept records are the owner's (see {@link CompactionState}) whenever the file
   * is as this log left it (its size is what this log wrote, and no append failed since the last
   * rewrite), and the file is not read: reading and checking every line back was most of a
   * compaction's cost, on the owner's thread. Otherwise `keep` filters the file as read back, and
   * whatever else is in it (a fragment of a failed write, a line written by another hand) is set
   * aside, not lost.
   */
  compact(keep: CompactionKeep<R>, state?: CompactionState<R>): Promise<Compaction> {
    const run = (this.compacting ?? Promise.resolve())
      .catch(() => undefined)
      .then(() => this.compactOnce(keep, state));
    this.compacting = run;
    const done = () => {
      if (this.compacting === run) this.compacting = undefined;
    };
    run.then(done, done);
    return run;
  }

  private async compactOnce(keep: CompactionKeep<R>, state: CompactionState<R> | undefined): Promise<Compaction> {
    // In line with the appends, so the size is at a record boundary and the owner's state is that of the records before it.
    const start = await this.serially(async () => {
      const size = (await this.openHandle().stat()).size;
      const { records, failedAppends } = this;
      return { size, records, failedAppends, kept: state !== undefined && size === this.ownBytes && !this.stateDiverged ? state() : undefined };
    });
    const prefix = start.size;
    const damaged: DamagedLine[] = [];
    const progress: StreamProgress = { read: start.records, finished: true };
    let kept: Iterable<R | EncodedLine> | undefined = start.kept;
    if (kept === undefined) {
      progress.read = 0;
      progress.finished = false;
      kept = await keep(streamRecords(this.path, prefix, this.kind, damaged, progress));
      // A record or damaged line left unread would vanish with the rewrite.
      if (!progress.finished) throw new Error(`compaction of ${this.path}: keep stopped before the last record`);
      if (damaged.length > 0) await setAside(this.path, damaged);
    }
    const from = start.kept === undefined ? 'file' : 'state';
    const { chunks: head, count: keptCount, bytes: headBytes } = await encodeInSlices(kept);
    // The kept records go to disk while appends go on; only what was appended meanwhile is
    // written in line with them (writing it all there held every append up for the whole file).
    const replacement = await startFileReplacement(this.path, head, `${this.path}.compact`);
    return this.serially(async () => {
      try {
        const handle = this.openHandle();
        const { size } = await handle.stat();
        const tail = await readBytes(this.path, prefix, size - prefix);
        await replacement.finish(tail);
        // The old handle points at the replaced file: appends from now on go to the new one.
        this.handle = await openForDurableAppends(this.path);
        this.mayEndTorn = true;
        await handle.close();
        this.appended = tail.length;
        const bytesAfter = headBytes + tail.length;
        // The file is now as this log wrote it, unless an append failed after the compaction
        // looked (its fragment is in the carried tail) or the owner's state stopped matching.
        this.ownBytes = this.failedAppends === start.failedAppends && !this.stateDiverged ? bytesAfter : undefined;
        this.records = keptCount + (this.records - start.records);
        return { bytesBefore: size, bytesAfter, recordsRead: progress.read, recordsKept: keptCount, setAside: damaged.length, from };
      } catch (error) {
        await replacement.abandon();
        throw error;
      }
    });
  }

  private openHandle(): FileHandle {
    if (this.handle === undefined) throw new Error(`${this.path} is closed`);
    return this.handle;
  }

  /**
   * Appends a record (or its line, from `encodeLine`) and resolves once it is on disk (with
   * whatever else was appended meanwhile).
   * `taken`, when given, runs once the record is on disk and before any later operation on the
   * file, compactions included: an owner that takes the record into its state there holds
   * exactly the file's records whenever a compaction asks for its state. It must not throw.
   */
  append(record: R | EncodedLine, taken?: () => void): Promise<void> {
    return new Promise((resolve, reject) => {
      const text = lineOf(record);
      const bytes = Buffer.byteLength(text);
      this.appended += bytes;
      this.queued.push({ text, bytes, taken, done: (error) => (error === undefined ? resolve() : reject(error as Error)) });
      this.flushing ??= this.flush();
    });
  }

  /** Writes and syncs the queued records, batch after batch, until none is left. */
  private async flush(): Promise<void> {
    while (this.queued.length > 0) {
      const batch = this.queued.splice(0);
      try {
        await this.serially(async () => {
          await this.appendLines(batch.map((b) => b.text).join(''), batch.reduce((sum, b) => sum + b.bytes, 0));
          this.records += batch.length;
          try {
            for (const b of batch) b.taken?.();
          } catch (error) {
            this.stateDiverged = true;
            throw error;
          }
        });
        for (const b of batch) b.done();
      } catch (error) {
        for (const b of batch) b.done(error);
      }
    }
    this.flushing = undefined;
  }

  /** Appends whole lines durably, on a line of their own (in line with the other file operations). */
  private async appendLines(text: string, bytes: number): Promise<void> {
    const handle = this.openHandle();
    try {
      await appendLineDurably(handle, text, this.mayEndTorn);
      this.mayEndTorn = false;
      // (Had the write started a fresh line after a fragment, the size would be off and a
      // compaction would read the file back: the safe side.)
      if (this.ownBytes !== undefined) this.ownBytes += bytes;
    } catch (error) {
      this.mayEndTorn = true;
      this.ownBytes = undefined;
      this.failedAppends += 1;
      throw error;
    }
  }

  /** The side file's lines, and any line of the log torn since it was opened. */
  async listDamaged(): Promise<DamagedLine[]> {
    // In line with the appends, so an append of this log is never read half-way.
    return (await this.serially(() => readLineLog(this.path, this.kind))).damaged;
  }

  /** Waits for pending appends, closes the file and releases the lock; idempotent. */
  async close(): Promise<void> {
    await this.compacting?.catch(() => undefined);
    await this.flushing;
    await this.tail;
    const handle = this.handle;
    if (handle === undefined) return;
    this.handle = undefined;
    await handle.close();
    await this.unlock();
  }

  private serially<T>(work: () => Promise<T>): Promise<T> {
    const run = this.tail.then(work);
    this.tail = run.catch(() => undefined);
    return run;
  }
}
