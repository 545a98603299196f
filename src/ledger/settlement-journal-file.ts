/**
 * The settlement journal in a file (see settlement-journal.ts): a util/line-log.ts log with one
 * record per intent written and per state change, so it has one owner, checksummed lines, and
 * damaged lines kept aside and reported, never dropped. Opening compacts it to what is still
 * needed: unresolved entries, and resolved ones whose authorization could still be resent (until
 * it expires), so a used payment stays refused across restarts.
 */
import { LineLog, readLineLog, type DamagedLine, type RecordKind } from '../util/line-log.js';
import { StorageError } from '../storage/contract/errors.js';
import { MemorySettlementJournal, UNRESOLVED_STATES, type IntentUpdate, type JournalLine, type SettlementIntent } from './settlement-journal.js';

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

/** The file-backed journal. Create it with {@link FileSettlementJournal.open}. */
export class FileSettlementJournal extends MemorySettlementJournal {
  override readonly kind = 'file';
  private log: LineLog<StoredLine> | undefined;

  /** Opens (creating if needed) the journal at `path`. */
  static async open(path: string): Promise<FileSettlementJournal> {
    const now = Date.now();
    // Still needed: unresolved, or resendable until its authorization expires.
    const needed = (e: SettlementIntent) => UNRESOLVED_STATES.has(e.state) || Date.parse(e.expiresAt) > now;
    let kept: StoredLine[] = [];
    const { log } = await LineLog.open(path, {
      kind: JOURNAL_LINE,
      keep: (lines) => (kept = journalOf(lines).all().filter(needed).map((entry) => toStored({ op: 'begin', entry }))),
      refuse: (c) => new StorageError('CONFLICT', `settlement journal ${path} is in use by another process (lock ${c.lockPath})`, { details: { path, ...c.details } }),
    });
    const journal = new FileSettlementJournal(kept.map(fromStored));
    journal.log = log;
    return journal;
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

  protected override persist(line: JournalLine): Promise<void> {
    if (this.log === undefined) throw new Error('the settlement journal is not open');
    return this.log.append(toStored(line));
  }
}
