/**
 * The settlement journal in a file (see settlement-journal.ts): a util/line-log.ts log with one
 * record per intent written and per state change, so it has one owner, checksummed lines, and
 * damaged lines kept aside and reported, never dropped. Opening compacts it to what is still
 * needed: unresolved entries, and resolved ones whose authorization could still be resent (until
 * it expires), so a used payment stays refused across restarts; so does growth while it runs.
 */
import { LineLog, encodeLine, readLineLog, type Compaction, type DamagedLine, type EncodedLine, type RecordKind } from '../util/line-log.js';
import { StorageError } from '../storage/contract/errors.js';
import { MemorySettlementJournal, UNRESOLVED_STATES, slimmedAfterInterval, type IntentUpdate, type JournalLine, type SettlementIntent } from './settlement-journal.js';

/** A journal line as JSON stores it (instants as ISO strings). */
type StoredLine =
  | { op: 'begin'; entry: Omit<SettlementIntent, 'createdAt' | 'updatedAt'> & { createdAt: string; updatedAt: string } }
  | { op: 'update'; id: string; at: string; change: IntentUpdate };

const isObject = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);
const isInstant = (value: unknown): value is string => typeof value === 'string' && !Number.isNaN(Date.parse(value));

const JOURNAL_LINE: RecordKind<StoredLine> = {
  name: 'settlement journal record',
  is: (value: unknown): value is StoredLine => {
    if (!isObject(value)) return false;
    if (value['op'] === 'begin') {
      const e = value['entry'];
      return isObject(e) && typeof e['id'] === 'string' && typeof e['nonce'] === 'string' && typeof e['state'] === 'string' && isInstant(e['createdAt']) && isInstant(e['updatedAt']);
    }
    return value['op'] === 'update' && typeof value['id'] === 'string' && isInstant(value['at']) && isObject(value['change']) && typeof value['change']['state'] === 'string';
  },
};

function toStored(line: JournalLine): StoredLine {
  if (line.op === 'update') return { ...line, at: line.at.toISOString() };
  const { createdAt, updatedAt } = line.entry;
  return { op: 'begin', entry: { ...line.entry, createdAt: createdAt.toISOString(), updatedAt: updatedAt.toISOString() } };
}

function fromStored(line: StoredLine): JournalLine {
  if (line.op === 'update') return { ...line, at: new Date(line.at) };
  return { op: 'begin', entry: { ...line.entry, createdAt: new Date(line.entry.createdAt), updatedAt: new Date(line.entry.updatedAt) } };
}

/** A journal's state, from its stored lines. */
function journalOf(lines: readonly StoredLine[]): MemorySettlementJournal {
  return new MemorySettlementJournal(lines.map(fromStored));
}

/** The unresolved entries and the damaged lines of a journal file, read without its lock (for reconcile while the service runs). */
export async function readJournalFile(path: string): Promise<{ unresolved: SettlementIntent[]; damaged: DamagedLine[] }> {
  const { records, damaged } = await readLineLog(path, JOURNAL_LINE);
  return { unresolved: journalOf(records).unresolved(), damaged };
}

/**
 * The lines still needed at `now`, one `begin` per entry in its current state: unresolved
 * entries, and resolved ones that are resendable until their authorization expires, slimmed as
 * in memory once their paid interval is over ({@link slimmedAfterInterval}), which keeps the file
 * small.
 */
function stillNeeded(lines: StoredLine[], now: number): StoredLine[] {
  const needed = (e: SettlementIntent) => UNRESOLVED_STATES.has(e.state) || Date.parse(e.expiresAt) > now;
  return journalOf(lines)
    .all()
    .filter(needed)
    .map((entry) => toStored({ op: 'begin', entry: slimmedAfterInterval(entry, now) }));
}

/**
 * The lines still needed, folded from the file's records one at a time for a compaction while
 * the service runs: entries are replayed as in memory and forgotten as the running journal
 * forgets them (`forgetExpired`: resolved and expired, or slimmed once their interval is over)
 * every few thousand records, so the fold holds about what the journal holds in memory.
 */
async function foldStillNeeded(lines: AsyncIterable<StoredLine>): Promise<StoredLine[]> {
  const journal = new MemorySettlementJournal();
  let folded = 0;
  for await (const line of lines) {
    journal.replay(fromStored(line));
    if (++folded % 4096 === 0) journal.forgetExpired(Date.now());
  }
  journal.forgetExpired(Date.now());
  return journal.all().map((entry) => toStored({ op: 'begin', entry }));
}

/**
 * Once the file has grown by this much since it was opened or last compacted, it is compacted
 * while the service runs: each payment appends about three lines (1-3 KB), so at 1,000
 * payments/s an uncompacted journal would grow by gigabytes an hour.
 */
export const COMPACT_JOURNAL_AFTER_BYTES = 64 * 1024 * 1024;

/**
 * After a compaction, the next one waits until the file has grown by at least this many times
 * what that compaction kept. Each compaction rewrites everything kept: with the fixed threshold
 * alone, a kept part of 45 MiB was rewritten for every 64 MiB appended (the http bench's journal
 * kept 22-69 MiB; at about 2.6 KB a payment, 64 MiB is 12 s of paid requests at 2,000/s, and its
 * compactions came every 45-60 s of the run, in the middle of measured requests), and a kept part
 * past 64 MiB would be compacted again at once, over and over. With the factor, a compaction
 * rewrites at most half as many bytes as were appended since the last one, and the file stays
 * under three times what it needs.
 */
export const COMPACT_JOURNAL_GROWTH_FACTOR = 2;

/** Options of {@link FileSettlementJournal.open}. */
export interface FileJournalOptions {
  /**
   * Growth that triggers a compaction (default {@link COMPACT_JOURNAL_AFTER_BYTES}), or
   * {@link COMPACT_JOURNAL_GROWTH_FACTOR} times what the last compaction kept when that is more.
   */
  compactAfterBytes?: number;
}

/** The file-backed journal. Create it with {@link FileSettlementJournal.open}. */
export class FileSettlementJournal extends MemorySettlementJournal {
  override readonly kind = 'file';
  private log: LineLog<StoredLine> | undefined;
  private compactAfterBytes = COMPACT_JOURNAL_AFTER_BYTES;
  private compacting = false;
  /** The file's size after the last compaction made while open (0 before the first). */
  private keptBytes = 0;
  /**
   * The begin line of each entry a compaction wrote, kept while the entry lives: most entries
   * outlive many compactions unchanged (slim and waiting for their authorization to expire), and
   * encoding each again at every compaction was most of a compaction's work on the main thread.
   */
  private readonly beginLines = new WeakMap<SettlementIntent, EncodedLine>();
  /** The last compaction made while open: what it did, or why it failed (it is retried on further growth). */
  lastCompaction: Compaction | { error: string } | undefined;

  /** Opens (creating if needed) the journal at `path`, compacting it. */
  static async open(path: string, options: FileJournalOptions = {}): Promise<FileSettlementJournal> {
    const now = Date.now();
    let kept: StoredLine[] = [];
    const { log } = await LineLog.open(path, {
      kind: JOURNAL_LINE,
      keep: (lines) => (kept = stillNeeded(lines, now)),
      refuse: (c) => new StorageError('CONFLICT', `settlement journal ${path} is in use by another process (lock ${c.lockPath})`, { details: { path, ...c.details } }),
    });
    const journal = new FileSettlementJournal(kept.map(fromStored));
    journal.log = log;
    if (options.compactAfterBytes !== undefined) journal.compactAfterBytes = options.compactAfterBytes;
    return journal;
  }

  /**
   * Compacts the file now, as it is compacted by itself once it has grown enough: to the entries
   * this journal holds once it has forgotten what it no longer needs (each line takes effect here
   * as it is written, so they are the file's entries), or, when the file is not as the journal
   * wrote it, to those folded from the file read back.
   */
  compact(): Promise<Compaction> {
    if (this.log === undefined) throw new Error('the settlement journal is not open');
    const lines = this.beginLines;
    return this.log.compact(foldStillNeeded, () => {
      this.forgetExpired(Date.now());
      // The entries as they are now; each line is built as the compaction reads it, once per
      // entry object (an entry is replaced, never changed, so its line stays right).
      const entries = this.held();
      return (function* () {
        for (const entry of entries) {
          let line = lines.get(entry);
          if (line === undefined) lines.set(entry, (line = encodeLine(toStored({ op: 'begin', entry }))));
          yield line;
        }
      })();
    }).then((done) => {
      this.keptBytes = done.bytesAfter;
      return done;
    });
  }

  /** Lines the open could not read and moved to the side file. */
  get setAsideAtOpen(): DamagedLine[] {
    return this.log?.setAsideAtOpen ?? [];
  }

  override listDamaged(): Promise<DamagedLine[]> {
    return this.log?.listDamaged() ?? Promise.resolve([]);
  }

  override close(): Promise<void> {
    return this.log?.close() ?? Promise.resolve();
  }

  /** Growth since the last compaction that starts the next: see {@link COMPACT_JOURNAL_GROWTH_FACTOR}. */
  private compactionThreshold(): number {
    return Math.max(this.compactAfterBytes, COMPACT_JOURNAL_GROWTH_FACTOR * this.keptBytes);
  }

  protected override async persist(line: JournalLine): Promise<void> {
    const log = this.log;
    if (log === undefined) throw new Error('the settlement journal is not open');
    // The line takes effect once durable, in line with the file (see LineLog.append).
    // Encoded as it is: a JournalLine's JSON is its StoredLine's (Date#toJSON is toISOString, and
    // toStored keeps every key in its place), without copying the entry first on every payment.
    await log.append(encodeLine(line), () => this.apply(line));
    if (log.appendedBytes >= this.compactionThreshold() && !this.compacting) {
      // In the background: the caller's line is durable already, and a failed compaction loses
      // nothing (the old file stays); it is tried again as the file keeps growing.
      this.compacting = true;
      this.compact()
        .then(
          (done) => (this.lastCompaction = done),
          (error: unknown) => (this.lastCompaction = { error: error instanceof Error ? error.message : String(error) }),
        )
        .finally(() => (this.compacting = false));
    }
  }
}
